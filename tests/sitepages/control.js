// Test control for the fake chat sites (page world). window.__dv_site holds the
// site's templates and selectors (tests/sitepages/<site>.py). Plays what the real
// site does: Enter sends (Shift+Enter: new line), the draft becomes a user turn, a
// new chat gets its id in the URL, answers stream with the site's streaming marks.
(() => {
  const cfg = window.__dv_site;
  const $ = (sel, root = document) => root.querySelector(sel);
  const thread = () => $("[data-dv-thread]");
  const composer = () => $(cfg.composer);
  const items = () => [...thread().querySelectorAll(":scope > [data-dv-turn]")];
  let counter = 0;
  let streaming = null; // the content element being written

  const fill = (tpl, values) => tpl.replace(/\{\{(\w+)\}\}/g, (m, k) => (k in values ? values[k] : m));
  const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const newId = () => crypto.randomUUID();
  const userHtml = (text) =>
    cfg.userLine ? text.split("\n").map((line) => fill(cfg.userLine, { LINE: esc(line) })).join("") : esc(text);

  function insertItem(markup) {
    const list = items();
    if (list.length) list[list.length - 1].insertAdjacentHTML("afterend", markup);
    else thread().insertAdjacentHTML("afterbegin", markup);
    const after = items();
    return after[after.length - 1];
  }

  function addTurn(role, content, { isStreaming = false } = {}) {
    counter += 1;
    const n = String(items().length + 1);
    const ident = `${newId()}`;
    if (role === "user") return insertItem(fill(cfg.userTemplate, { ID: ident, N: n, TEXT: userHtml(content) }));
    const reply = fill(cfg.assistantTemplate, { ID: ident, N: n, HTML: content, STREAMING: String(isStreaming) });
    if (cfg.pairs) {
      const list = items();
      const last = list[list.length - 1];
      if (last && !last.querySelector(cfg.assistantRoot)) {
        last.insertAdjacentHTML("beforeend", reply);
        return last.querySelector(cfg.assistantRoot);
      }
      return insertItem(fill(cfg.pairTemplate, { ID: ident, BODY: reply })).querySelector(cfg.assistantRoot);
    }
    return insertItem(reply);
  }

  function draft() {
    const el = composer();
    if (!el) return null;
    if (el.tagName === "TEXTAREA") return el.value;
    return el.innerText.replace(/\n+$/, "");
  }

  function clearComposer() {
    const el = composer();
    if (el.tagName === "TEXTAREA") el.value = "";
    else el.innerHTML = cfg.emptyComposer;
    el.dispatchEvent(new InputEvent("input", { bubbles: true }));
  }

  function setActions(markup) {
    const box = $("[data-dv-actions]");
    if (box) box.innerHTML = markup;
  }

  function streamingMark(turn, on) {
    if (!cfg.streamingAttr) return;
    const [sel, attr, onValue, offValue] = cfg.streamingAttr;
    const el = turn.matches(sel) ? turn : turn.querySelector(sel);
    if (el) el.setAttribute(attr, on ? onValue : offValue);
  }

  function send() {
    const text = draft();
    if (!text || !text.trim()) return false;
    addTurn("user", text);
    clearComposer();
    if (location.pathname === cfg.newChatPath || !new RegExp(cfg.idPattern).test(location.pathname)) {
      const id = cfg.newIdHex ? newId().replace(/-/g, "").slice(0, 16) : newId();
      history.pushState(null, "", cfg.conversationPath.replace("{id}", id));
    }
    return true;
  }

  function streamStart() {
    const turn = addTurn("assistant", "", { isStreaming: true });
    streamingMark(turn, true);
    streaming = { turn, body: turn.querySelector("[data-dv-html]") };
    setActions(cfg.stopButtonHtml);
  }

  function streamChunk(text) {
    if (!streaming) streamStart();
    const body = streaming.body;
    let p = body.lastElementChild;
    if (!p || p.tagName !== "P") p = body.appendChild(document.createElement("p"));
    p.appendChild(document.createTextNode(text));
  }

  function streamHtml(markup) {
    if (!streaming) streamStart();
    streaming.body.innerHTML = markup;
  }

  function finish() {
    if (streaming) streamingMark(streaming.turn, false);
    streaming = null;
    setActions(cfg.sendButtonHtml);
  }

  function error(text) {
    finish();
    const markup = fill(cfg.errorHtml, { TEXT: esc(text || cfg.errorText) });
    const list = items();
    if (cfg.errorInBody) document.body.insertAdjacentHTML("beforeend", markup); // a toast
    else if (list.length) list[list.length - 1].insertAdjacentHTML("afterend", markup);
    else thread().insertAdjacentHTML("beforeend", markup);
  }

  function generate(n) {
    let markup = "";
    const start = cfg.pairs ? items().length * 2 : items().length;
    for (let i = 0; i < n; i++) {
      const k = start + i + 1;
      if (i % 2 === 0) {
        markup += fill(cfg.userTemplate, { ID: newId(), N: String(k), TEXT: esc(`Question ${k}: how does part ${k} work?`) });
      } else {
        const reply = fill(cfg.assistantTemplate, {
          ID: newId(),
          N: String(k),
          HTML: `<p>Answer ${k} with <strong>bold</strong> and <code>code</code>.</p><ul><li><p>point ${k}</p></li></ul>`,
          STREAMING: "false",
        });
        if (cfg.pairs) markup = markup.slice(0, -cfg.pairEnd.length) + reply + cfg.pairEnd;
        else markup += reply;
      }
    }
    const list = items();
    if (list.length) list[list.length - 1].insertAdjacentHTML("afterend", markup);
    else thread().insertAdjacentHTML("afterbegin", markup);
  }

  function navigate(path, turns, title) {
    finish();
    history.pushState(null, "", path);
    for (const el of items()) el.remove();
    for (const el of document.querySelectorAll("[data-dv-error]")) el.remove();
    for (const [role, content] of turns || []) addTurn(role, content);
    clearComposer();
    document.title = title || cfg.defaultTitle;
    if (cfg.titleSelector && $(cfg.titleSelector)) $(cfg.titleSelector).textContent = title || "";
  }

  function blank() {
    streaming = null;
    document.body.replaceChildren();
  }

  function logout() {
    streaming = null;
    document.body.innerHTML = cfg.loginHtml;
    if (cfg.loginPath) history.pushState(null, "", cfg.loginPath);
  }

  document.addEventListener(
    "keydown",
    (e) => {
      if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
      if (!composer() || !composer().contains(e.target)) return;
      e.preventDefault();
      send();
    },
    true
  );
  document.addEventListener("click", (e) => {
    if (e.target.closest(cfg.sendButton)) send();
    else if (e.target.closest(cfg.stopButton)) finish();
  });

  setActions(cfg.sendButtonHtml);
  window.__dv_test = {
    ready: true,
    type(text) {
      const el = composer();
      if (el.tagName === "TEXTAREA") el.value = text;
      else el.innerHTML = text.split("\n").map((l) => `<p>${l ? esc(l) : "<br>"}</p>`).join("");
      el.dispatchEvent(new InputEvent("input", { bubbles: true }));
    },
    draft,
    send,
    streamStart,
    streamChunk,
    streamHtml,
    finish,
    stop: finish,
    error,
    generate,
    navigate,
    blank,
    logout,
  };
})();
