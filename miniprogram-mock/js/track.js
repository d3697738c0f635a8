// Interaction tracking: impressions (once per list) and clicks on recommendation items, batched
// into logInteractions (at most 50 a call). window.__guangTrack.sent records what the server accepted
// (kept in sessionStorage, so a reload does not forget it).
import { gql, session } from './api.js';

const MUTATION = `mutation LogInteractions($events: [InteractionInput!]!) {
  logInteractions(events: $events) { accepted refused { index reason } }
}`;
const FLUSH_MS = 2000; // the steady batching period
const FIRST_FLUSH_MS = 500; // a new batch goes out soon after its first event
const MAX_BATCH = 50;
const SENT_KEY = 'guang.track.sent';
const SENT_KEEP = 500;

function restored() {
  try { return JSON.parse(sessionStorage.getItem(SENT_KEY) || '[]'); } catch { return []; }
}
const state = window.__guangTrack = window.__guangTrack || { sent: restored(), refused: [], dropped: 0 };
const queue = [];
const seen = new Set();
let inflight = null;
let soon = 0;

function persist() {
  try { sessionStorage.setItem(SENT_KEY, JSON.stringify(state.sent.slice(-SENT_KEEP))); } catch { /* full or disabled */ }
}

/** The phone's own id per interaction: a batch resent after a network error counts once. */
function newEventId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'ev-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function push(ev) {
  queue.push({ ...ev, eventId: newEventId() });
  if (!soon) soon = setTimeout(() => { soon = 0; flush(); }, FIRST_FLUSH_MS);
}

/** list: {recId, surface}; target: {type: 'PRODUCT'|..., id} */
export function impression(list, target) {
  if (!list || !list.recId || !target || !target.id) return;
  const key = `${list.recId}|${target.type}|${target.id}`;
  if (seen.has(key)) return;
  seen.add(key);
  push({ action: 'IMPRESSION', targetType: target.type, targetId: String(target.id), surface: list.surface, recId: list.recId });
}

export function click(list, target) {
  if (!list || !target || !target.id) return;
  push({ action: 'CLICK', targetType: target.type, targetId: String(target.id), surface: list.surface, recId: list.recId || null });
  flush();
}

export async function flush({ keepalive = false } = {}) {
  if (inflight) return inflight.then(() => (queue.length ? flush({ keepalive }) : undefined));
  if (!queue.length || !session.loggedIn) return undefined;
  const batch = queue.splice(0, MAX_BATCH);
  inflight = (async () => {
    try {
      const log = (await gql(MUTATION, { events: batch }, { keepalive })).logInteractions;
      const refused = new Set((log.refused || []).map((r) => r.index));
      batch.forEach((ev, i) => { if (!refused.has(i)) state.sent.push(ev); });
      (log.refused || []).forEach((r) => state.refused.push({ ...batch[r.index], reason: r.reason }));
      persist();
    } catch (e) {
      // Tracking must never bother the shopper.
      state.dropped += batch.length;
      console.info('[guang] track flush failed:', e.code, e.message);
    }
  })();
  await inflight;
  inflight = null;
  if (queue.length) return flush({ keepalive });
  return undefined;
}

/** A new shopper: forget what the previous one sent. */
export function reset() {
  queue.length = 0;
  seen.clear();
  state.sent = [];
  state.refused = [];
  persist();
}

setInterval(() => { flush(); }, FLUSH_MS);
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush({ keepalive: true }); });
window.addEventListener('pagehide', () => { flush({ keepalive: true }); });
