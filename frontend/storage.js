// Where the quiz in progress is remembered: the URL (?session=ID, shareable, survives reload)
// and localStorage (survives closing the tab). Result pages use ?result=ID.

const ACTIVE_KEY = "idealtype.activeSession";

// Storage can throw (privacy modes, disabled storage): the quiz must still run without it.
export function storageGet(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function storageSet(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* not available: the URL still carries the session id */
  }
}

/** The id of the unfinished quiz, or null. */
export function activeSession() {
  return storageGet(ACTIVE_KEY) || null;
}

export function rememberActiveSession(sessionId) {
  storageSet(ACTIVE_KEY, sessionId || null);
}

/** What the address bar asks for: {result: id} | {session: id} | {}. */
export function routeFromUrl() {
  const params = new URLSearchParams(location.search);
  const result = params.get("result");
  const session = params.get("session");
  if (result) return { result };
  if (session) return { session };
  return {};
}

/** Put `{session: id}`, `{result: id}` or `{}` into the address bar. */
export function setUrl(route, { push = false } = {}) {
  const url = new URL(location.href);
  url.search = "";
  url.hash = "";
  for (const [name, value] of Object.entries(route)) url.searchParams.set(name, value);
  if (url.href === location.href) return;
  history[push ? "pushState" : "replaceState"](null, "", url);
}

export function resultLink(sessionId) {
  const url = new URL(location.href);
  url.search = "";
  url.hash = "";
  url.searchParams.set("result", sessionId);
  return url.href;
}
