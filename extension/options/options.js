// Options: service address, sites on/off, temporary chats, the size cap of kept images
// and files (content/attachments.js), unpair, and the service's
// provider status-page check (a setting of the service, set through its API).

import { api } from "../lib/api.js";
import { localize, t } from "../lib/i18n.js";
import { MSG } from "../lib/messages.js";
import { loadSettings, saveSettings, setSitePaused } from "../lib/settings.js";
import { SITES } from "../lib/vocabulary.js";

const $ = (id) => document.getElementById(id);
localize();

const STATE_WORDS = {
  connected: t("optionsStateConnected"),
  connecting: t("stateConnecting"),
  offline: t("optionsStateOffline"),
  unpaired: t("optionsStateUnpaired"),
  service_outdated: t("stateServiceOutdated"),
  extension_outdated: t("stateExtensionOutdated"),
};

function say(text) {
  $("message").textContent = text;
  $("message").classList.remove("hidden");
}

async function render() {
  const settings = await loadSettings();
  $("server-url").value = settings.serverUrl;
  $("capture-temporary").checked = settings.captureTemporary;
  if (document.activeElement !== $("attachment-max")) $("attachment-max").value = settings.attachmentMaxMB;
  $("unpair").disabled = !settings.token;
  $("sites").replaceChildren(
    ...Object.entries(SITES).map(([site, { name }]) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.dataset.site = site;
      box.checked = !settings.pausedSites.includes(site);
      box.addEventListener("change", () => setSitePaused(site, !box.checked));
      label.append(box, ` ${name}`);
      return label;
    })
  );
}

async function renderState() {
  const status = await chrome.runtime.sendMessage({ type: MSG.STATUS }).catch(() => null);
  if (!status) return;
  $("state-dot").className = `dot ${status.state}`;
  $("state-text").textContent = STATE_WORDS[status.state] || status.state;
}

$("server-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const url = new URL($("server-url").value);
  await saveSettings({ serverUrl: url.origin });
  say(t("savedServer", url.origin));
});

// The service polls the page, not the browser: the note says exactly what it contacts.
function renderStatusCheck(check) {
  $("status-check").checked = check.enabled;
  $("status-check").disabled = false;
  const seconds = Math.round(check.interval_s);
  $("status-check-note").textContent = check.enabled
    ? t("statusCheckOn", check.url, check.host, seconds)
    : t("statusCheckOff", check.url, check.host, seconds);
}

async function loadStatusCheck() {
  try {
    renderStatusCheck(await api.statusCheck());
  } catch (err) {
    $("status-check").disabled = true; // unpaired or the service is away: the state line says which
  }
}

$("status-check").addEventListener("change", async (e) => {
  e.target.disabled = true;
  try {
    renderStatusCheck(await api.setStatusCheck(e.target.checked));
  } catch (err) {
    say(t("statusCheckFailed", err.message));
    await loadStatusCheck();
  }
});

$("attachment-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const mb = Math.max(0, Math.min(256, Math.round(Number($("attachment-max").value))));
  await saveSettings({ attachmentMaxMB: mb });
  say(t("savedAttachmentMax", mb));
});

$("capture-temporary").addEventListener("change", (e) => saveSettings({ captureTemporary: e.target.checked }));

$("unpair").addEventListener("click", async () => {
  await chrome.storage.local.remove("token");
  say(t("unpaired"));
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local") render();
});

await render();
await renderState();
await loadStatusCheck();
setInterval(renderState, 2000);
