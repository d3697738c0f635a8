// Pieces shared by several pages: claim a coupon, consult a staff member, product sheet, rec lists.
import { gql } from '../api.js';
import { html, setHTML, openSheet, toast, yuan, esc, raw, seasonText } from '../ui.js';
import { latLng, showPrompt } from '../location.js';
import * as track from '../track.js';

const CLAIM = `mutation Claim($id: String!, $lat: Float!, $lng: Float!) {
  claimCoupon(couponId: $id, lat: $lat, lng: $lng) { id status coupon { id title claimableByMe } }
}`;

/** Claim with the remembered position; turns the button into 已领取 on success. */
export async function claim(button, couponId) {
  const pos = latLng();
  if (!pos) { toast('领取优惠券需要你的位置'); showPrompt(); return null; }
  button.disabled = true;
  try {
    const d = await gql(CLAIM, { id: couponId, lat: pos.lat, lng: pos.lng });
    button.textContent = '已领取';
    button.classList.add('done');
    toast(`领取成功：${d.claimCoupon.coupon.title}`);
    return d.claimCoupon;
  } catch (e) {
    button.disabled = false;
    throw e;
  }
}

const CONSULT = `mutation Consult($id: String!, $source: ConsultSource!) {
  consultStaff(staffId: $id, source: $source) {
    qrUrl state newAdvisor advisorSinceMs
    staff { id name title store { name brandName mallName } }
  }
}`;

/** An article cover: only same-origin images are loaded (nothing may come from elsewhere). */
export function coverTpl(a, cls = 'cover') {
  if (a.coverUrl && sameOrigin(a.coverUrl)) return html`<img class="${cls}" src="${a.coverUrl}" alt="" width="343" height="190">`;
  return html`<div class="${cls} cover-ph">${a.category || '种草'}</div>`;
}

export function sameOrigin(url) {
  try { return new URL(url, location.href).origin === location.origin; } catch { return false; }
}

function hash32(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i += 1) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}

/** A QR-looking placeholder (we cannot render WeCom's QR offline): deterministic from the state. */
export function placeholderQr(seed, size = 25) {
  let h = hash32(seed);
  const next = () => { h ^= h << 13; h >>>= 0; h ^= h >>> 17; h ^= h << 5; h >>>= 0; return h; };
  const cells = [];
  const finder = (x, y) => {
    for (const [fx, fy] of [[0, 0], [size - 7, 0], [0, size - 7]]) {
      const dx = x - fx; const dy = y - fy;
      if (dx >= 0 && dx < 7 && dy >= 0 && dy < 7) {
        return dx === 0 || dy === 0 || dx === 6 || dy === 6 || (dx >= 2 && dx <= 4 && dy >= 2 && dy <= 4) ? 1 : 0;
      }
      if (dx >= -1 && dx <= 7 && dy >= -1 && dy <= 7) return 0;
    }
    return -1;
  };
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const f = finder(x, y);
      if (f === 1 || (f === -1 && next() % 2 === 0)) cells.push(`<rect x="${x}" y="${y}" width="1" height="1"/>`);
    }
  }
  return `<svg class="qr-svg" viewBox="-2 -2 ${size + 4} ${size + 4}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="二维码占位"><rect x="-2" y="-2" width="${size + 4}" height="${size + 4}" fill="#fff"/><g fill="#111">${cells.join('')}</g></svg>`;
}

export async function consult(staffId, source) {
  const d = await gql(CONSULT, { id: staffId, source });
  const r = d.consultStaff;
  const qr = sameOrigin(r.qrUrl)
    ? html`<img class="qr-img" src="${r.qrUrl}" alt="导购企业微信二维码">`
    : raw(placeholderQr(r.state));
  openSheet({
    title: `向${r.staff.name}咨询`,
    testid: 'consult-qr',
    modal: true,
    body: html`<div class="consult">
      <div class="consult-who"><b>${r.staff.name}</b> · ${r.staff.title}<br><small>${r.staff.store.brandName} · ${r.staff.store.name}</small></div>
      <div class="qr-box" data-testid="consult-qr-code">${qr}</div>
      <div class="qr-state" data-testid="consult-state">${r.state}</div>
      <p class="qr-tip">长按识别二维码添加导购企业微信</p>
      <p class="muted small">${r.newAdvisor ? '已加入「我的购物顾问」' : 'TA 已在你的「我的购物顾问」中'}</p>
    </div>`,
  });
  return r;
}

/** A product in a sheet (tap on a recommended item). */
export function productSheet(product, reason) {
  openSheet({
    title: '商品详情',
    testid: 'product-sheet',
    body: html`<div class="product-detail">
      <div class="pd-img">${product.category || '好物'}</div>
      <h3>${product.name}</h3>
      <div class="muted">${product.brandName || ''}${product.season ? ' · ' + seasonText(product.season) : ''}</div>
      <div class="price big">${yuan(product.priceFen)}</div>
      ${reason ? html`<div class="reason">推荐理由：${reason}</div>` : ''}
      <p class="muted small">到店可试穿，或在品牌门店页下单。</p>
    </div>`,
  });
}

/**
 * Render a Recommendation (recId + items) into `section`: items get impressions (once per list) and
 * clicks with the recId. testids: item / reason names are parameters so each surface keeps its own.
 */
export function renderRecs(listEl, rec, { surface, itemId = 'feed-item', reasonId = 'feed-reason', empty = '暂无推荐' }) {
  if (!rec || !rec.items || !rec.items.length) {
    setHTML(listEl, html`<div class="state empty">${empty}</div>`);
    return;
  }
  const list = { recId: rec.recId, surface: rec.surface || surface };
  setHTML(listEl, html`${rec.items.map((it, i) => html`
    <button class="rec-item" data-testid="${itemId}" data-idx="${i}" data-product-id="${it.product.id}">
      <div class="rec-img">${(it.product.category || '好物').slice(0, 4)}</div>
      <div class="rec-name">${it.product.name}</div>
      <div class="rec-brand muted small">${it.product.brandName}</div>
      <div class="price">${yuan(it.product.priceFen)}</div>
      <div class="rec-reason" data-testid="${reasonId}">${it.reason}</div>
    </button>`)}`);
  listEl.querySelectorAll('.rec-item').forEach((el) => {
    const it = rec.items[Number(el.dataset.idx)];
    track.impression(list, { type: 'PRODUCT', id: it.product.id });
    el.addEventListener('click', () => {
      track.click(list, { type: 'PRODUCT', id: it.product.id });
      productSheet(it.product, it.reason);
    });
  });
}

export const REC_FIELDS = 'recId surface items { score reason product { id name brandName category season priceFen } }';
export { esc };
