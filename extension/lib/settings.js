// The extension's settings in chrome.storage.local (serverUrl and token are named by
// the contract in DESIGN.md; tests set them directly), with their defaults, and the
// per-session pause list.

export const DEFAULTS = Object.freeze({
  serverUrl: "http://127.0.0.1:8737",
  token: null,
  clientId: null,
  pausedSites: [],
  captureTemporary: true,
  attachmentMaxMB: 25, // content/attachments.js: larger files are kept by name, type and size only
});

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

// All settings with defaults filled in; creates the clientId on first use.
export async function loadSettings() {
  const stored = await chrome.storage.local.get(Object.keys(DEFAULTS));
  const settings = { ...DEFAULTS, ...stored };
  if (!settings.clientId) {
    settings.clientId = randomId();
    await chrome.storage.local.set({ clientId: settings.clientId });
  }
  return settings;
}

export function saveSettings(items) {
  return chrome.storage.local.set(items);
}

// "http://127.0.0.1:8737/" -> "ws://127.0.0.1:8737/ws"
export function wsUrl(serverUrl) {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = url.pathname.replace(/\/+$/, "") + "/ws";
  url.search = "";
  url.hash = "";
  return url.toString();
}

export function apiUrl(serverUrl, path) {
  return serverUrl.replace(/\/+$/, "") + path;
}

// Tabs paused by the user for this browser session (chrome.storage.session).
export async function pausedTabs() {
  const { pausedTabs = [] } = await chrome.storage.session.get("pausedTabs");
  return pausedTabs;
}

export async function setTabPaused(tabId, paused) {
  const tabs = new Set(await pausedTabs());
  if (paused) tabs.add(tabId);
  else tabs.delete(tabId);
  await chrome.storage.session.set({ pausedTabs: [...tabs] });
}

export async function setSitePaused(site, paused) {
  const { pausedSites = [] } = await chrome.storage.local.get("pausedSites");
  const sites = new Set(pausedSites);
  if (paused) sites.add(site);
  else sites.delete(site);
  await chrome.storage.local.set({ pausedSites: [...sites] });
}

export async function isPaused(tabId, site) {
  const [{ pausedSites = [] }, tabs] = await Promise.all([
    chrome.storage.local.get("pausedSites"),
    pausedTabs(),
  ]);
  return pausedSites.includes(site) || (tabId != null && tabs.includes(tabId));
}
