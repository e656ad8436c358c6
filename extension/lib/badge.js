// The toolbar badge: failure (red "!"), not paired (grey "!"), frames queued
// (their number), connected (no text).

const RED = "#d93025";
const GREY = "#80868b";
const AMBER = "#e37400";
const GREEN = "#188038";

function short(n) {
  return n > 999 ? `${Math.floor(n / 1000)}k` : String(n);
}

// {state, queued, failures} -> what the badge shows (pure, for tests and the popup).
export function badgeFor({ state, queued, failures }) {
  if (failures > 0) {
    const what = failures === 1 ? "1 failed session" : `${failures} failed sessions`;
    return { text: "!", color: RED, title: `DraftVault: ${what} — click to resume` };
  }
  if (state === "unpaired") {
    return { text: "!", color: GREY, title: "DraftVault: not paired — click to pair" };
  }
  if (state === "service_outdated" || state === "extension_outdated") {
    const which = state === "service_outdated" ? "the service" : "the extension";
    return { text: "!", color: AMBER, title: `DraftVault: update ${which} — click for how` };
  }
  if (queued > 0) {
    const where = state === "connected" ? "sending" : "the service is not reachable";
    return { text: short(queued), color: AMBER, title: `DraftVault: ${queued} queued (${where})` };
  }
  if (state === "connected") return { text: "", color: GREEN, title: "DraftVault: connected, everything saved" };
  return { text: "…", color: GREY, title: "DraftVault: connecting to the service" };
}

let last = null;

export async function showBadge(status) {
  const badge = badgeFor(status);
  const key = JSON.stringify(badge);
  if (key === last) return;
  last = key;
  await Promise.all([
    chrome.action.setBadgeText({ text: badge.text }),
    chrome.action.setBadgeBackgroundColor({ color: badge.color }),
    chrome.action.setTitle({ title: badge.title }),
  ]);
}
