// The quiz API (DESIGN.md "API"). Every failure becomes an ApiError the screens can explain:
// status 0 = the network (or a timeout), otherwise the HTTP status with the server's
// {"error": {"code", "message"}} body.

const TIMEOUT_MS = 15000;
// Same origin by default; a deployment can point the site at another API origin with
// <meta name="idealtype-api" content="https://api.example.com">.
const API_ORIGIN = (document.querySelector('meta[name="idealtype-api"]')?.content || "").replace(/\/$/, "");

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }

  get isNetwork() {
    return this.status === 0;
  }
}

async function request(method, path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(API_ORIGIN + path, {
      method,
      headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, "network", String(err?.message || err));
  } finally {
    clearTimeout(timer);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    /* empty or non-JSON body (e.g. a proxy's error page) */
  }
  if (!response.ok) {
    const error = payload?.error || {};
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message);
  }
  return payload;
}

const id = (sessionId) => encodeURIComponent(sessionId);

export const api = {
  config: () => request("GET", "/api/config"),
  createSession: (options) => request("POST", "/api/sessions", options),
  session: (sessionId) => request("GET", `/api/sessions/${id(sessionId)}`),
  /** imageId null answers "none of these". */
  pick: (sessionId, round, imageId) =>
    request(
      "POST",
      `/api/sessions/${id(sessionId)}/picks`,
      imageId === null ? { round, none_of_these: true } : { round, image_id: imageId },
    ),
  result: (sessionId, k = 7) => request("GET", `/api/sessions/${id(sessionId)}/result?k=${k}`),
};

/** Face URLs may be relative to the API (local server) or absolute (CDN). */
export function assetUrl(url) {
  return new URL(url, API_ORIGIN ? API_ORIGIN + "/" : location.href).href;
}
