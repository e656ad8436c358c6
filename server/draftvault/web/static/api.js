// The service's JSON API as the history page calls it (same origin, session cookie).

export class SignedOut extends Error {}

/** fetch() that throws SignedOut on a 401 and an Error with the service's message
 * on any other failure. */
export async function api(path, options = {}) {
  const res = await fetch(path, { credentials: "same-origin", ...options });
  if (res.status === 401) throw new SignedOut();
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      message = body.detail || body.message || message;
    } catch { /* not JSON */ }
    throw new Error(message);
  }
  return res;
}

export const getJSON = async (path, options) => (await api(path, options)).json();
