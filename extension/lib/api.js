// The service's HTTP API with the stored token (used by the worker and the popup).

import { t } from "./i18n.js";
import { apiUrl, loadSettings } from "./settings.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, body) {
  const { serverUrl, token } = await loadSettings();
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiUrl(serverUrl, path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, t("serviceUnreachable", serverUrl));
  }
  if (!response.ok) {
    let detail = "";
    try {
      const doc = await response.json();
      detail = doc.detail || doc.message || "";
    } catch (err) {
      // not JSON: the status says enough
    }
    throw new ApiError(response.status, `${method} ${path}: ${response.status} ${detail}`.trim());
  }
  return response.json();
}

export const api = {
  failures: () => request("GET", "/api/failures?resolved=false").then((r) => r.items),
  captureHealth: () => request("GET", "/api/capture-health").then((r) => r.degraded),
  conversation: (id) => request("GET", `/api/conversations/${encodeURIComponent(id)}`),
  conversations: (params = {}) =>
    request("GET", `/api/conversations?${new URLSearchParams(params)}`).then((r) => r.items),
  // `replaced`: the pack also carries the answer the last answer replaced, labelled;
  // `thinking`: the turns' thinking too (left out by default).
  resume: (id, target, { replaced = false, thinking = false } = {}) =>
    request("GET", `/api/conversations/${encodeURIComponent(id)}/resume?target=${encodeURIComponent(target)}` +
      (replaced ? "&replaced=true" : "") + (thinking ? "&thinking=true" : "")),
  resolve: (id, resolution) =>
    request("POST", `/api/failures/${encodeURIComponent(id)}/resolve`, { resolution }),
  statusCheck: () => request("GET", "/api/settings/status-check"),
  setStatusCheck: (enabled) => request("PUT", "/api/settings/status-check", { enabled }),
  loginLink: () => request("POST", "/api/login-link"),
  pair: (code, name) => request("POST", "/api/pair", { code, name }),
};
