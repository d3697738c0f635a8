// Location: in-app permission prompt, consent, position (URL override or geolocation), reportLocation.
import { gql } from './api.js';
import { html, setHTML, toast, toastError, icon } from './ui.js';

const CHOICE_KEY = 'guang.location.choice'; // 'allow' | 'deny'
const POS_KEY = 'guang.location.pos'; // {lat, lng, accuracyM, source, mall, ts}
const REPORT = `mutation Report($lat: Float!, $lng: Float!, $acc: Float!) {
  reportLocation(lat: $lat, lng: $lng, accuracyM: $acc, source: GPS) { eventId mall { id name district geofenceM } }
}`;
const CONSENT = `mutation Consent($granted: Boolean!) { setConsent(kind: LOCATION, granted: $granted) { id } }`;

export function getChoice() {
  try { return localStorage.getItem(CHOICE_KEY); } catch { return null; }
}
/** The remembered position (with the mall it put the shopper in), or null when location is off. */
export function getPosition() {
  if (getChoice() !== 'allow') return null;
  try {
    const p = JSON.parse(localStorage.getItem(POS_KEY) || 'null');
    return p && Number.isFinite(p.lat) && Number.isFinite(p.lng) ? p : null;
  } catch { return null; }
}
export function latLng() {
  const p = getPosition();
  return p ? { lat: p.lat, lng: p.lng } : null;
}

/** ?lat=..&lng=.. in the page URL (demo override). */
export function urlOverride() {
  const q = new URLSearchParams(location.search);
  const lat = parseFloat(q.get('lat'));
  const lng = parseFloat(q.get('lng'));
  if (Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) return { lat, lng, accuracyM: 10 };
  return null;
}

function emit() { window.dispatchEvent(new CustomEvent('guang:location')); }

function browserPosition() {
  return new Promise((resolve) => {
    if (!('geolocation' in navigator)) { resolve(null); return; }
    try {
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracyM: p.coords.accuracy || 50 }),
        () => resolve(null),
        { timeout: 5000, maximumAge: 60000, enableHighAccuracy: true },
      );
    } catch { resolve(null); }
  });
}

/** Find the position, report it, remember it. Resolves to the stored position or null. */
export async function locate() {
  const pos = urlOverride() || await browserPosition();
  if (!pos) { toast('无法获取你的位置，请稍后在「我的」中重试'); return null; }
  let mall = null;
  try {
    const d = await gql(REPORT, { lat: pos.lat, lng: pos.lng, acc: pos.accuracyM });
    mall = d.reportLocation.mall;
  } catch (e) {
    toastError(e, '位置上报失败');
  }
  const stored = { ...pos, mall, ts: Date.now() };
  localStorage.setItem(POS_KEY, JSON.stringify(stored));
  emit();
  return stored;
}

export async function allow() {
  localStorage.setItem(CHOICE_KEY, 'allow');
  try {
    await gql(CONSENT, { granted: true });
  } catch (e) {
    toastError(e, '授权失败');
    return null;
  }
  return locate();
}

export async function deny() {
  localStorage.setItem(CHOICE_KEY, 'deny');
  localStorage.removeItem(POS_KEY);
  emit();
  try { await gql(CONSENT, { granted: false }); } catch (e) { console.info('[guang] location consent off failed', e.message); }
}

/** Forget the choice (我的 → 位置设置) so the prompt can be shown again. */
export function resetChoice() {
  localStorage.removeItem(CHOICE_KEY);
  localStorage.removeItem(POS_KEY);
  emit();
}

export function clearAll() {
  localStorage.removeItem(CHOICE_KEY);
  localStorage.removeItem(POS_KEY);
}

let promptOpen = false;
/** The in-app permission prompt, shown once (until the choice is reset). */
export function showPrompt() {
  if (promptOpen) return;
  promptOpen = true;
  const root = document.getElementById('overlay-root');
  const wrap = document.createElement('div');
  wrap.className = 'mask mask-center';
  wrap.dataset.keep = '1';
  setHTML(wrap, html`<div class="modal perm" data-testid="location-prompt" role="dialog" aria-modal="true">
    <div class="perm-ico">${icon('pin', 'ico big')}</div>
    <div class="perm-title">「逛」想使用你的位置</div>
    <p class="perm-text">用于推荐附近门店、优惠券和商场活动。你可以随时在「我的 → 位置设置」中关闭。</p>
    <div class="perm-actions">
      <button class="btn ghost" data-testid="location-deny">不允许</button>
      <button class="btn primary" data-testid="location-allow">允许</button>
    </div></div>`);
  root.appendChild(wrap);
  const done = () => { wrap.remove(); promptOpen = false; };
  wrap.querySelector('[data-testid=location-allow]').addEventListener('click', () => { done(); allow(); });
  wrap.querySelector('[data-testid=location-deny]').addEventListener('click', () => { done(); deny(); });
}

/** On start (logged in): prompt if never asked; refresh when the URL override moved us. */
export function boot() {
  const choice = getChoice();
  if (!choice) { showPrompt(); return; }
  if (choice === 'allow') {
    const o = urlOverride();
    const p = getPosition();
    if (o && (!p || p.lat !== o.lat || p.lng !== o.lng)) locate();
  }
}
