// GraphQL client + session (token in localStorage). Errors are thrown as GqlError; callers show them.
const TOKEN_KEY = 'guang.token';
const VIEWER_KEY = 'guang.viewer';

export class GqlError extends Error {
  constructor(message, code, path) {
    super(message);
    this.name = 'GqlError';
    this.code = code || 'UNKNOWN';
    this.path = path || null;
  }
}

export const session = {
  get token() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
  },
  get viewer() {
    try { return JSON.parse(localStorage.getItem(VIEWER_KEY) || 'null'); } catch { return null; }
  },
  get loggedIn() { return !!this.token; },
  save(token, viewer) {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.setItem(VIEWER_KEY, JSON.stringify(viewer || null));
    capabilityCache.clear();
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(VIEWER_KEY);
    capabilityCache.clear();
  },
};

const listeners = new Set();
/** Called with no argument when the server says the session is gone. */
export function onUnauthenticated(fn) { listeners.add(fn); }

/**
 * POST {query, variables} to /graphql. Resolves to `data`; rejects with GqlError (first error's
 * message and extensions.code). Never logs errors to the console.
 */
export async function gql(query, variables = {}, { keepalive = false } = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST', headers, body: JSON.stringify({ query, variables }), keepalive,
    });
  } catch (e) {
    throw new GqlError('网络不可用，请稍后再试', 'NETWORK');
  }
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  if (!body) throw new GqlError(`服务器开小差了（${res.status}）`, 'HTTP_' + res.status);
  if (body.errors && body.errors.length) {
    const err = body.errors[0];
    const code = (err.extensions && err.extensions.code) || 'ERROR';
    if (code === 'UNAUTHENTICATED' && token) {
      session.clear();
      listeners.forEach((fn) => { try { fn(); } catch (e) { console.info('[guang] listener', e); } });
    }
    throw new GqlError(err.message || '请求失败', code, err.path);
  }
  return body.data;
}

/** Like gql but resolves to null on any error (for optional features still being added). */
export async function gqlQuiet(query, variables = {}) {
  try { return await gql(query, variables); } catch (e) {
    console.info('[guang] optional call failed:', e.code, e.message);
    return null;
  }
}

const capabilityCache = new Map();
/** viewer { demo } — an error (field not there yet) counts as false. Cached per session. */
export async function isDemo() {
  if (!capabilityCache.has('demo')) {
    capabilityCache.set('demo', gqlQuiet('query ViewerDemo { viewer { demo } }').then((d) => !!(d && d.viewer && d.viewer.demo)));
  }
  return capabilityCache.get('demo');
}
