// The toolbar badge: failure (red "!"), not paired (grey "!"), frames queued
// (their number), connected (no text).

import { t } from "./i18n.js";

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
    return { text: "!", color: RED, title: failures === 1 ? t("badgeFailedOne") : t("badgeFailedMany", failures) };
  }
  if (state === "unpaired") {
    return { text: "!", color: GREY, title: t("badgeUnpaired") };
  }
  if (state === "service_outdated" || state === "extension_outdated") {
    const title = state === "service_outdated" ? t("badgeServiceOutdated") : t("badgeExtensionOutdated");
    return { text: "!", color: AMBER, title };
  }
  if (queued > 0) {
    const title = state === "connected" ? t("badgeQueuedSending", queued) : t("badgeQueuedOffline", queued);
    return { text: short(queued), color: AMBER, title };
  }
  if (state === "connected") return { text: "", color: GREEN, title: t("badgeConnected") };
  return { text: "…", color: GREY, title: t("badgeConnecting") };
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
