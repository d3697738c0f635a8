// 我的: profile, likes, follows, advisors, comments, coupons, orders, face + location settings, logout.
import { gql, session } from '../api.js';
import { html, setHTML, onClick, toast, yuan, loadingTpl, emptyTpl, toastError, icon } from '../ui.js';
import { getChoice, getPosition, deny, locate, clearAll, showPrompt } from '../location.js';
import { go } from '../router.js';

const ME = `query Me { me { id nickname cityId consents { kind granted grantedAtMs } } }`;
const SECTIONS = [
  {
    id: 'my-likes', title: '我赞过的', empty: '还没有点赞的文章',
    query: `query { myLikedArticles(first: 10) { nodes { id title brandName likeCount } } }`,
    rows: (d) => d.myLikedArticles.nodes.map((a) => html`<a class="row link" href="#/article/${encodeURIComponent(a.id)}"><span class="ellipsis">${a.title}</span><span class="muted small">${a.brandName} ›</span></a>`),
  },
  {
    id: 'my-follows', title: '我关注的门店', empty: '还没有关注的门店',
    query: `query { myFollowedStores(first: 10) { nodes { id name mallName floor } } }`,
    rows: (d) => d.myFollowedStores.nodes.map((s) => html`<a class="row link" href="#/store/${encodeURIComponent(s.id)}"><span class="ellipsis">${s.name}</span><span class="muted small">${s.mallName} ${s.floor} ›</span></a>`),
  },
  {
    id: 'my-advisors', title: '我的购物顾问', empty: '还没有购物顾问，去「店员说」找找吧',
    query: `query { myAdvisors(first: 10) { nodes { sinceMs source staff { id name title store { name brandName } } } } }`,
    rows: (d) => d.myAdvisors.nodes.map((a) => html`<a class="row link" href="#/staff/${encodeURIComponent(a.staff.id)}"><span><b>${a.staff.name}</b> <span class="muted small">${a.staff.title}</span></span><span class="muted small">${a.staff.store.brandName} ›</span></a>`),
  },
  {
    id: 'my-comments', title: '我的评论', empty: '还没有评论',
    query: `query { myComments(first: 10) { nodes { id articleId articleTitle text hidden flagged createdAtMs } } }`,
    rows: (d) => d.myComments.nodes.map((c) => html`<a class="row link col" href="#/article/${encodeURIComponent(c.articleId)}"><span class="ellipsis">${c.text}</span><span class="muted small">${c.hidden || c.flagged ? '评论审核中 · ' : ''}${c.articleTitle}</span></a>`),
  },
  {
    id: 'my-coupons', title: '我的优惠券', empty: '还没有优惠券', more: '#/coupons',
    query: `query { myCoupons(first: 5) { nodes { id status coupon { id title discountFen minSpendFen } } } }`,
    rows: (d) => d.myCoupons.nodes.map((c) => html`<a class="row link" href="#/coupons"><span class="ellipsis">${c.coupon.title}</span><span class="muted small">${statusText(c.status)} ›</span></a>`),
  },
  {
    id: 'my-orders', title: '我的订单', empty: '还没有订单',
    query: `query { myOrders(first: 5) { nodes { id status storeName amountFen createdMs } } }`,
    rows: (d) => d.myOrders.nodes.map((o) => html`<a class="row link" href="#/pay/${encodeURIComponent(o.id)}"><span class="ellipsis">${o.storeName}</span><span class="muted small">${yuan(o.amountFen)} · ${o.status === 'PAID' ? '已支付' : '待支付'} ›</span></a>`),
  },
];

export function statusText(s) {
  return { CLAIMED: '可使用', REDEEMED: '已核销', EXPIRED: '已过期' }[s] || s;
}

export async function render(root) {
  root.dataset.testid = 'page-me';
  const pos = getPosition();
  const choice = getChoice();
  setHTML(root, html`
    <div class="me-hero"><div class="avatar big">${icon('user')}</div><div><h2 data-testid="me-nickname">加载中…</h2><div class="small">逛一逛会员</div></div></div>
    ${SECTIONS.map((s) => html`<section class="card me-section" data-testid="${s.id}">
      <div class="section-head"><h3>${s.title}</h3>${s.more ? html`<a class="more" href="${s.more}" data-testid="${s.id}-more">全部 ›</a>` : ''}</div>
      <div class="rows">${loadingTpl()}</div></section>`)}
    <section class="card me-section">
      <a class="row link" href="#/face" data-testid="face-settings"><span>人脸识别</span><span class="muted small" data-testid="face-settings-state">… ›</span></a>
      <div class="row" data-testid="location-settings">
        <span>位置信息<br><span class="muted small" data-testid="location-settings-state">${pos ? `已开启${pos.mall ? ' · ' + pos.mall.name : ''}` : choice === 'deny' ? '已关闭' : '未开启'}</span></span>
        <span class="row-actions">
          ${pos ? html`<button class="btn small ghost" data-testid="location-refresh">更新位置</button>
            <button class="btn small ghost" data-testid="location-disable">关闭</button>`
            : html`<button class="btn small primary" data-testid="location-on">开启</button>`}
        </span>
      </div>
    </section>
    <div class="pad"><button class="btn ghost block danger" data-testid="logout">退出登录</button></div>`);

  gql(ME).then((d) => {
    const m = d.me;
    setHTML(root.querySelector('[data-testid=me-nickname]'), html`${m.nickname}`);
    const face = m.consents.find((c) => c.kind === 'FACE');
    setHTML(root.querySelector('[data-testid=face-settings-state]'), html`${face && face.granted ? '已开启' : '未开启'} ›`);
  }).catch(toastError);

  SECTIONS.forEach((s) => {
    const rows = root.querySelector(`[data-testid=${s.id}] .rows`);
    gql(s.query).then((d) => {
      const items = s.rows(d);
      setHTML(rows, items.length ? html`${items}` : emptyTpl(s.empty));
    }).catch((e) => { setHTML(rows, emptyTpl('加载失败')); toastError(e); });
  });

  onClick(root.querySelector('[data-testid=location-refresh]'), async () => {
    const p = await locate();
    if (p) toast(p.mall ? `你在${p.mall.name}` : '位置已更新');
  });
  onClick(root.querySelector('[data-testid=location-disable]'), async () => { await deny(); toast('已关闭位置信息'); });
  onClick(root.querySelector('[data-testid=location-on]'), async () => { showPrompt(); });
  onClick(root.querySelector('[data-testid=logout]'), async () => {
    clearAll();
    session.clear();
    window.dispatchEvent(new CustomEvent('guang:session'));
    toast('已退出登录');
    go('/login');
  });
}
