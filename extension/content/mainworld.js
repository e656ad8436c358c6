// Runs in the page's own JavaScript world at document_start (manifest: "world":
// "MAIN"), before the site's scripts, because only there can the site's fetch be
// seen. It watches the conversation request (the POST that streams an answer) and
// tells the content script (signals.js) how it went:
//   {source: "draftvault-main", event, request, status?, detail?}
//   started     the request was made (request: a counter per page load)
//   alive       its stream is still delivering events (at most every 2 s: a
//               reasoning model may think a long time before any text shows)
//   http_error  it answered 5xx or 429 (status)
//   incomplete  its stream ended, or broke, before the final event
//   aborted     the page aborted it (the user pressed stop)
//   complete    its stream ended with the final event
// It also reads the conversation the page itself loads when a chat opens (GET
// /backend-api/conversation/{id}: 200, JSON, at most MAX_JSON characters) and posts
// its text for content/page-json.js: {source, event: "conversation", id, body}; the
// latest again when page-json.js asks ({source: WANT_SOURCE}: it starts later).
// We never send requests of our own. The page gets its own, untouched Response: we read a clone.
// Classic script (MAIN-world content scripts cannot be modules).
(() => {
  const INSTALLED = Symbol.for("draftvault.mainworld");
  if (window[INSTALLED]) return;
  Object.defineProperty(window, INSTALLED, { value: true });

  const SOURCE = "draftvault-main";
  const CONVERSATION_PATH = /^\/backend-(?:api|anon)\/(?:f\/)?conversation\/?$/;
  // Events whose JSON may say the answer finished; others are skipped unparsed.
  const FINAL_HINT = /message_stream_complete|end_turn|finished_successfully/;
  const ALIVE_MS = 2000;
  // A conversation id is a UUID: other words there (textdocs, init, …) are other answers.
  const THREAD_PATH = /^\/backend-api\/conversation\/([0-9a-fA-F-]{32,40})\/?$/;
  const MAX_JSON = 16 * 1024 * 1024; // characters of one conversation's JSON
  const WANT_SOURCE = "draftvault-content";
  const originalFetch = window.fetch;
  let requests = 0;
  let latest = null; // the last conversation read: {id, body}

  // Never let our reporting break the page's own fetch.
  function post(message) {
    try {
      window.postMessage({ source: SOURCE, ...message }, window.location.origin);
    } catch (err) {
      // an opaque origin cannot be targeted; nothing to report to
    }
  }

  // What a request is to us: "answer" (the POST that streams an answer), the id of the
  // conversation it loads (a GET), or null.
  function requestKind(input, init) {
    const request = input instanceof Request ? input : null;
    const method = String((init && init.method) || (request && request.method) || "GET").toUpperCase();
    const url = new URL(request ? request.url : String(input), window.location.href);
    if (method === "POST") return CONVERSATION_PATH.test(url.pathname) ? "answer" : null;
    const m = method === "GET" && url.origin === window.location.origin && THREAD_PATH.exec(url.pathname);
    return m ? { id: m[1] } : null;
  }

  // The body as text, or null past MAX_JSON characters (we stop reading our copy there).
  async function cappedText(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      text += done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (done) return text;
      if (text.length > MAX_JSON) {
        reader.cancel().catch(() => {});
        return null;
      }
    }
  }

  function readThread(promise, id) {
    promise
      .then(async (response) => {
        const type = response.headers.get("content-type") || "";
        if (response.status !== 200 || !response.body || !/json/i.test(type)) return;
        const length = Number(response.headers.get("content-length"));
        if (length > MAX_JSON) return;
        const body = await cappedText(response.clone().body);
        if (body === null) return;
        latest = { id, body };
        post({ event: "conversation", id, body });
      })
      .catch(() => {}); // the page's own fetch failed, or our copy did: nothing to read
  }

  window.addEventListener("message", (e) => {
    const d = e.source === window ? e.data : null;
    if (d && d.source === WANT_SOURCE && latest) post({ event: "conversation", ...latest });
  });

  // Does one server-sent event's data say the answer is complete? Old format: the
  // assistant message with end_turn true; delta format: a patch setting end_turn;
  // both end with message_stream_complete and "[DONE]".
  function isFinal(data) {
    if (data === "[DONE]") return true;
    if (!FINAL_HINT.test(data)) return false;
    let obj;
    try {
      obj = JSON.parse(data);
    } catch (err) {
      return false;
    }
    if (!obj || typeof obj !== "object") return false;
    if (obj.type === "message_stream_complete") return true;
    const m = obj.message || (obj.v && obj.v.message);
    if (m && m.author && m.author.role === "assistant") {
      if (m.end_turn === true || (m.status === "finished_successfully" && m.end_turn !== false)) return true;
    }
    const ops = obj.o === "patch" && Array.isArray(obj.v) ? obj.v : [obj];
    return ops.some((op) => op && op.p === "/message/end_turn" && op.v === true);
  }

  async function readStream(body, request) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    let aliveAt = Date.now();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
        const lines = (pending + text).split(/\r\n|\r|\n/);
        pending = done ? "" : lines.pop();
        let events = false;
        for (const line of lines) {
          if (!line.startsWith("data:")) continue;
          events = true;
          if (isFinal(line.slice(5).trim())) {
            reader.cancel().catch(() => {}); // only our copy: the page's stream goes on
            post({ event: "complete", request });
            return;
          }
        }
        if (events && Date.now() - aliveAt >= ALIVE_MS) {
          aliveAt = Date.now();
          post({ event: "alive", request });
        }
        if (done) break;
      }
      post({ event: "incomplete", request, detail: "the answer's stream ended without its final event" });
    } catch (err) {
      failed(err, request, "the answer's stream broke");
    }
  }

  function failed(err, request, what) {
    if (err && err.name === "AbortError") post({ event: "aborted", request });
    else post({ event: "incomplete", request, detail: `${what}: ${(err && err.message) || err}` });
  }

  function watch(promise, request) {
    post({ event: "started", request });
    promise.then(
      (response) => {
        if (response.status >= 500 || response.status === 429) {
          post({ event: "http_error", request, status: response.status, detail: response.statusText || null });
          return;
        }
        const type = response.headers.get("content-type") || "";
        if (!response.ok || !response.body || !/event-stream/i.test(type)) return;
        readStream(response.clone().body, request);
      },
      (err) => failed(err, request, "the request failed")
    ).catch(() => {}); // our reading failed: not the page's concern, and not an alarm
  }

  window.fetch = function fetch(input, init) {
    let kind = null;
    try {
      kind = requestKind(input, init);
    } catch (err) {
      kind = null; // a URL we cannot parse is not ours to watch; fetch decides
    }
    const promise = originalFetch.apply(this, arguments);
    if (kind === "answer") watch(promise, ++requests);
    else if (kind) readThread(promise, kind.id);
    return promise;
  };
})();
