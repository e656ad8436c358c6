// What the popup tells the person when DraftVault cannot work by itself: the two
// sides speak different protocol versions (connection.js sets the state from the
// service's bad_protocol answer), or Chrome's Local Network Access keeps the
// extension from reaching the service on this computer (Chrome 142+ asks once;
// the answer is readable through navigator.permissions).

import { t } from "../lib/i18n.js";

const VERSION_NOTICES = {
  service_outdated: () => t("noticeServiceOutdated"),
  extension_outdated: () => t("noticeExtensionOutdated"),
};

// Chrome's names for the permission: "loopback-network" (127.0.0.1) since 145,
// "local-network-access" (its older alias) since 142. Other browsers have neither.
const LNA_NAMES = ["loopback-network", "local-network-access"];

export async function localNetworkState() {
  for (const name of LNA_NAMES) {
    try {
      return (await navigator.permissions.query({ name })).state;
    } catch (err) {
      // not a permission this browser knows
    }
  }
  return null;
}

// The notice for this worker status and Local Network Access state, or null.
export function noticeFor(status, lnaState) {
  if (Object.hasOwn(VERSION_NOTICES, status.state)) return VERSION_NOTICES[status.state]();
  if (status.state !== "offline") return null;
  if (lnaState === "denied") {
    return t("noticeLnaDenied", `chrome://settings/content/siteDetails?site=chrome-extension://${chrome.runtime.id}`);
  }
  if (lnaState === "prompt") return t("noticeLnaPrompt", t("noticeStart"));
  return t("noticeStart");
}
