// "Capture degraded on claude.ai since …": sites whose pages the extension no longer
// reads (GET /api/capture-health), shown above the list until capture works again.

import { getJSON } from "./api.js";

const POLL_MS = 30000;

function line(site) {
  const since = new Date(site.since);
  const p = document.createElement("p");
  p.textContent = `Capture degraded on ${site.host} since ${since.toLocaleString()}`;
  p.title = `${site.detail || ""} (${site.since})`.trim();
  return p;
}

async function show(box) {
  let degraded;
  try {
    ({ degraded } = await getJSON("/api/capture-health"));
  } catch {
    return; // signed out or away: the page says so elsewhere
  }
  box.replaceChildren(...degraded.map(line));
  box.hidden = degraded.length === 0;
}

/** Shows capture health in `box` now and every half minute. */
export function watchCaptureHealth(box) {
  show(box);
  setInterval(() => show(box), POLL_MS);
}
