// The popup: pairing, status, pause, history, and the failed sessions with their
// resume actions. Captured text is untrusted: it only ever goes into textContent.
// Actions that open tabs run in the service worker (the popup closes when a new
// tab takes the focus).

import { api } from "../lib/api.js";
import { lostPrompt, unsentDraft } from "../lib/drafts.js";
import { localize, t } from "../lib/i18n.js";
import { kindInWords, siteName, TARGETS } from "../lib/vocabulary.js";
import { MSG } from "../lib/messages.js";
import { isPaused, setSitePaused, setTabPaused } from "../lib/settings.js";
import { localNetworkState, noticeFor } from "./notices.js";

const $ = (id) => document.getElementById(id);
const send = (message) => chrome.runtime.sendMessage(message);

localize();

const STATE_WORDS = {
  connected: t("stateConnected"),
  connecting: t("stateConnecting"),
  offline: t("stateOffline"),
  unpaired: t("stateUnpaired"),
  service_outdated: t("stateServiceOutdated"),
  extension_outdated: t("stateExtensionOutdated"),
};

let status = null;
let lnaState = null; // Chrome's Local Network Access permission, see notices.js
let tabId = null;
let tabState = null;

function say(text, isError = false) {
  const box = $("message");
  box.textContent = text;
  box.classList.toggle("error", isError);
  box.classList.remove("hidden");
}

function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t("agoSeconds", s);
  if (s < 3600) return t("agoMinutes", Math.round(s / 60));
  if (s < 86400) return t("agoHours", Math.round(s / 3600));
  return t("agoDays", Math.round(s / 86400));
}

function renderStatus() {
  if (!status) return;
  const parts = [STATE_WORDS[status.state] || status.state];
  if (status.state === "connected" && status.lastAckAt) parts.push(t("statusSaved", ago(Date.now() - status.lastAckAt)));
  if (status.queued > 0) parts.push(t("statusQueued", status.queued));
  $("status-text").textContent = parts.join(" · ");
  // the dot is the connection alone: failed sessions have their own list below (and the badge)
  $("status").querySelector(".dot").className = `dot ${status.state}`;
  const notice = noticeFor(status, lnaState);
  $("notice").textContent = notice || "";
  $("notice").classList.toggle("hidden", !notice);
  $("pair").classList.toggle("hidden", status.state !== "unpaired");
  $("history").disabled = status.state === "unpaired";
}

async function refreshStatus() {
  status = await send({ type: MSG.STATUS });
  renderStatus();
}

// ---- pairing -------------------------------------------------------------------

$("pair-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("pair-button");
  button.disabled = true;
  const answer = await send({ type: MSG.PAIR, code: $("pair-code").value });
  button.disabled = false;
  if (answer && answer.ok) {
    $("pair-code").value = "";
    say(t("paired"));
    await refreshStatus();
    await loadFailures();
  } else {
    say(t("pairingFailed", answer ? answer.error : t("noAnswer")), true);
  }
});

// ---- this tab ----------------------------------------------------------------------

async function currentTabId() {
  const fromQuery = new URLSearchParams(location.search).get("tab");
  if (fromQuery) return Number(fromQuery);
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab ? tab.id : null;
}

async function loadTab() {
  tabId = await currentTabId();
  tabState = tabId == null ? null : await chrome.tabs.sendMessage(tabId, { type: MSG.TAB_STATE }).catch(() => null);
  if (!tabState) return;
  const site = siteName(tabState.site);
  const chars = tabState.draftChars;
  const parts = [
    site,
    tabState.turns === 1 ? t("turnsOne") : t("turnsMany", tabState.turns),
    !chars ? t("noDraft") : chars === 1 ? t("draftOne") : t("draftMany", chars.toLocaleString()),
  ];
  if (tabState.broken) parts.push(t("adapterBroken"));
  $("tab-text").textContent = parts.join(" · ");
  $("pause-site-text").textContent = t("pauseSite", site);
  const { pausedSites = [] } = await chrome.storage.local.get("pausedSites");
  $("pause-site").checked = pausedSites.includes(tabState.site);
  $("pause-tab").checked = await isPaused(tabId, null);
  $("tab").classList.remove("hidden");
}

// The content script re-reads its pause state at once on dv:pause-changed.
const pauseChanged = () => chrome.tabs.sendMessage(tabId, { type: MSG.PAUSE_CHANGED }).catch(() => {});
$("pause-tab").addEventListener("change", (e) => setTabPaused(tabId, e.target.checked).then(pauseChanged));
$("pause-site").addEventListener("change", (e) => setSitePaused(tabState.site, e.target.checked).then(pauseChanged));

// ---- failed sessions -------------------------------------------------------------

// The assistants a pack can be opened in (those with a page; ChatGPT has its own
// button) or copied for.
const targetOptions = (keep) =>
  Object.entries(TARGETS).filter(keep).map(([value, spec]) => Object.assign(document.createElement("option"), { value, textContent: spec.name }));
const failureTemplate = $("failure-template").content;
failureTemplate.querySelector(".open-target").append(...targetOptions(([key, spec]) => spec.url && key !== "chatgpt"));
failureTemplate.querySelector(".copy-target").append(...targetOptions(() => true));

async function copy(text) {
  await navigator.clipboard.writeText(text);
}

async function act(button, work) {
  const buttons = button.closest(".failure").querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    await work();
  } catch (err) {
    say(err.message, true);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

async function failuresChanged() {
  status = await send({ type: MSG.FAILURES_CHANGED });
  renderStatus();
  await loadFailures();
}

function checkAnswer(answer) {
  if (!answer || !answer.ok) throw new Error((answer && answer.error) || t("workerNoAnswer"));
  return answer;
}

function renderFailure(failure, detail) {
  const item = $("failure-template").content.firstElementChild.cloneNode(true);
  item.dataset.failure = failure.id;
  item.dataset.conversation = failure.conversation;
  // Title and site come with the failure; the conversation itself only for its drafts and prompt.
  const site = failure.site ? siteName(failure.site) : "";
  item.querySelector(".title").textContent = failure.title || (site ? t("untitledSiteChat", site) : t("untitledChat"));
  let kind = kindInWords(failure.kind, failure.site);
  if (failure.provider_outage) kind = t("kindWithOutage", kind);
  if (failure.detail) kind = t("kindWithDetail", kind, failure.detail);
  item.querySelector(".kind").textContent = kind;
  const when = new Date(failure.detected_at);
  item.querySelector(".when").textContent = `${ago(Date.now() - when.getTime())} · ${when.toLocaleString()}`;
  item.querySelector(".when").title = failure.detected_at;
  // The pack can carry the answer the last answer replaced (a regenerated one, say).
  if (detail && hasReplacedAnswer(detail)) item.querySelector(".replaced").classList.remove("hidden");
  // Thinking stays out of packs unless asked for (resume.py).
  if (detail?.turns.some((t) => t.thinking)) item.querySelector(".thinking").classList.remove("hidden");
  const options = () => ({ replaced: item.querySelector(".with-replaced").checked,
                           thinking: item.querySelector(".with-thinking").checked });
  const restore = item.querySelector(".restore");
  if (!detail || !unsentDraft(detail)) restore.classList.add("hidden");
  // The site answers again (recovery.py): offer the lost prompt, to send by hand.
  const prompt = detail && failure.recovered_at ? lostPrompt(detail, failure.kind) : null;
  if (prompt) {
    const back = item.querySelector(".back");
    back.textContent = t("siteBackSince", siteName(failure.site), new Date(failure.recovered_at).toLocaleTimeString());
    back.classList.remove("hidden");
    item.querySelector(".again").classList.remove("hidden");
  }

  item.querySelector(".again").addEventListener("click", (e) =>
    act(e.target, async () => {
      const answer = checkAnswer(
        await send({ type: MSG.SEND_AGAIN, conversation: failure.conversation, failure: failure.id })
      );
      if (!answer.filled) say(t("copiedPasteComposer"));
      else if (answer.newChat) say(t("sendAgainNewChat"));
      else say(answer.files ? t("promptRestoredAttach", String(answer.files)) : t("promptRestored"));
      await failuresChanged();
    })
  );
  item.querySelector(".resume").addEventListener("click", (e) =>
    act(e.target, async () => {
      const answer = checkAnswer(
        await send({ type: MSG.RESUME, conversation: failure.conversation, target: "chatgpt", failure: failure.id,
                     ...options() })
      );
      say(answer.filled ? t("resumedInChatGPT") : t("copiedForChatGPT"));
      await failuresChanged();
    })
  );
  restore.addEventListener("click", (e) =>
    act(e.target, async () => {
      const answer = checkAnswer(
        await send({ type: MSG.RESTORE_DRAFT, conversation: failure.conversation, failure: failure.id })
      );
      say(answer.filled ? t("draftRestored") : t("copiedDraft"));
      await failuresChanged();
    })
  );
  item.querySelector(".dismiss").addEventListener("click", (e) =>
    act(e.target, async () => {
      await api.resolve(failure.id, "dismissed");
      await failuresChanged();
    })
  );
  item.querySelector(".open").addEventListener("click", (e) =>
    act(e.target, async () => {
      const target = item.querySelector(".open-target").value;
      const spec = TARGETS[target];
      if (await chrome.permissions.contains({ origins: [spec.origin] })) {
        const answer = checkAnswer(
          await send({ type: MSG.RESUME, conversation: failure.conversation, target, failure: failure.id,
                       ...options() })
        );
        say(answer.filled ? t("openedIn", spec.name) : t("copiedPasteInto", spec.name));
        await failuresChanged();
      } else {
        const pack = await api.resume(failure.conversation, target, options());
        await copy(pack.text);
        say(t("copiedPasteInto", spec.name));
      }
    })
  );
  item.querySelector(".copy").addEventListener("click", (e) =>
    act(e.target, async () => {
      const target = item.querySelector(".copy-target").value;
      const pack = await api.resume(failure.conversation, target, options());
      await copy(pack.text);
      const name = TARGETS[target].name;
      const omitted = pack.omitted_turns;
      say(!omitted ? t("copiedPackFor", name)
        : omitted === 1 ? t("copiedPackForOmittedOne", name) : t("copiedPackForOmittedMany", name, omitted));
    })
  );
  return item;
}

// An earlier version of the current thread's last answer is kept (resume.py replaced_answer).
function hasReplacedAnswer(detail) {
  const last = detail.turns.findLast((t) => t.role === "assistant");
  return Boolean(last) && (detail.branches || []).some((b) =>
    b.turns.some((t) => t.index === last.index && t.role === "assistant" && t.text.trim() && t.text !== last.text));
}

async function loadFailures() {
  if (!status || status.state === "unpaired") return;
  let failures;
  try {
    failures = await api.failures();
  } catch (err) {
    return; // the status line already says the service is away
  }
  failures.sort((a, b) => b.detected_at.localeCompare(a.detected_at));
  if (failures.length !== status.failures) {
    // The worker's count (badge) lags behind a failure it was not pushed.
    status = await send({ type: MSG.FAILURES_CHANGED });
    renderStatus();
  }
  const details = await Promise.all(failures.map((f) => api.conversation(f.conversation).catch(() => null)));
  const list = $("failure-list");
  list.replaceChildren(...failures.map((f, i) => renderFailure(f, details[i])));
  $("failure-count").textContent = failures.length ? `(${failures.length})` : "";
  $("failures").classList.toggle("hidden", failures.length === 0);
}

// ---- capture health: sites whose pages DraftVault no longer reads ----------------

async function loadDegraded() {
  if (!status || status.state === "unpaired") return;
  const degraded = await api.captureHealth().catch(() => []);
  $("degraded").replaceChildren(
    ...degraded.map((d) => {
      const p = document.createElement("p");
      p.className = "degraded";
      p.textContent = t("captureDegraded", d.host, new Date(d.since).toLocaleString());
      p.title = d.detail || "";
      return p;
    })
  );
  $("degraded").classList.toggle("hidden", degraded.length === 0);
}

// ---- footer --------------------------------------------------------------------------

$("history").addEventListener("click", async () => {
  try {
    const { url } = await api.loginLink();
    await chrome.tabs.create({ url });
  } catch (err) {
    say(t("historyFailed", err.message), true);
  }
});

$("options").addEventListener("click", () => chrome.runtime.openOptionsPage());

// ---- start ------------------------------------------------------------------------------

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && "token" in changes) refreshStatus().then(() => Promise.all([loadFailures(), loadDegraded()]));
});

lnaState = await localNetworkState();
await refreshStatus();
setInterval(() => refreshStatus().catch(() => {}), 1000);
await Promise.all([loadTab(), loadFailures(), loadDegraded()]);
