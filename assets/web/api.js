// The public API as the pages use it. The access token lives in memory only; the refresh token
// in sessionStorage (per tab, survives reloads: see docs/architecture.md), rotated a minute
// before the access token expires and whenever a request is refused with 401.
const REFRESH_KEY = 'chatgate.refresh';
const EARLY_MS = 60_000;

let access = null;
let refreshTimer = null;
let refreshing = null;
let onEnded = () => {};

/// An answer that is not 2xx, with its message in words.
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(describe(status, body, retryAfter));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/// The session is over (logged out, revoked, password changed, refresh token reused).
export class SessionEnded extends Error {}

export function whenSessionEnds(callback) { onEnded = callback; }
export function hasSession() { return access !== null || sessionStorage.getItem(REFRESH_KEY) !== null; }

function fieldErrors(body) {
  return Object.entries(body)
    .filter(([, v]) => Array.isArray(v))
    .map(([field, v]) => {
      const name = field.replace(/_/g, ' ');
      return `${name[0].toUpperCase()}${name.slice(1)}: ${v.join(' ')}`;
    })
    .join('\n');
}

/// The words for a refusal: never the raw JSON.
export function describe(status, body, retryAfter) {
  const said = body && typeof body === 'object' ? (body.error ?? body.detail) : null;
  const text = typeof said === 'string' ? said : (said && said.message) || '';
  if (status === 429) {
    const wait = Number(retryAfter);
    return Number.isFinite(wait) && wait > 0
      ? `Too many requests: please wait ${wait} second${wait === 1 ? '' : 's'} and try again.`
      : 'Too many requests: please wait a moment and try again.';
  }
  if (status === 502) return 'The AI provider is unavailable right now. Nothing was charged.';
  if (status === 504) return 'The AI provider did not answer in time. Nothing was charged.';
  if (status === 403 && text === 'Insufficient tokens') {
    return 'You do not have enough tokens for this message. Nothing was charged.';
  }
  if (status === 503) return text || 'The server is busy: please try again in a moment.';
  if (text) return text;
  if (body && typeof body === 'object') {
    const fields = fieldErrors(body);
    if (fields) return fields;
  }
  return status ? `The request failed (HTTP ${status}).` : 'The server could not be reached.';
}

function expiryOf(jwt) {
  try {
    const claims = JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return claims.exp * 1000;
  } catch {
    return Date.now() + EARLY_MS * 2;
  }
}

function keep(pair) {
  access = pair.access;
  sessionStorage.setItem(REFRESH_KEY, pair.refresh);
  clearTimeout(refreshTimer);
  const wait = Math.max(5_000, expiryOf(pair.access) - Date.now() - EARLY_MS);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

function forget() {
  access = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
}

function send(method, path, body, headers = {}, signal = undefined) {
  const init = { method, headers: { ...headers }, signal };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

async function readBody(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  if (type.includes('json')) return res.json().catch(() => null);
  return res.text();
}

async function expectOk(res) {
  const body = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, body, res.headers.get('retry-after'));
  return body;
}

export async function login(username, password) {
  keep(await expectOk(await send('POST', '/api/login/', { username, password })));
}

export async function register(username, password) {
  await expectOk(await send('POST', '/api/register/', { username, password }));
}

const ENDED = 'Your session has ended (you logged out elsewhere, your password changed, or '
  + 'your sign-in was used from somewhere else). Please log in again.';

/// Trades the refresh token for a new pair; one at a time, however many requests ask.
export function refresh() {
  refreshing ??= (async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) throw new SessionEnded('Please log in.');
    const res = await send('POST', '/api/token/refresh/', { refresh: token });
    if (res.status === 401 || res.status === 400) {
      forget();
      const ended = new SessionEnded(ENDED);
      onEnded(ended);
      throw ended;
    }
    keep(await expectOk(res));
  })().finally(() => { refreshing = null; });
  return refreshing;
}

export async function logout() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  forget();
  if (token) await send('POST', '/api/logout/', { refresh: token }).catch(() => {});
}

/// The raw Response of an authenticated request (for streams): refreshed and retried once
/// on a 401.
export async function call(method, path, { body, signal, headers } = {}) {
  if (!access) await refresh();
  let res = await send(method, path, body, { ...headers, authorization: `Bearer ${access}` }, signal);
  if (res.status === 401) {
    await refresh();
    res = await send(method, path, body, { ...headers, authorization: `Bearer ${access}` }, signal);
  }
  return res;
}

/// An authenticated request's JSON body; an ApiError when it is not 2xx.
export async function api(method, path, options = {}) {
  return expectOk(await call(method, path, options));
}

/// Reads a server-sent event stream, calling `onEvent(name, data)` for each event.
export async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}
