// Staff profile: name, title, store, posts, 向TA咨询 (WeCom QR modal).
import { gql } from '../api.js';
import { html, setHTML, headerTpl, bindBack, onClick, yuan, fmtTime, loadingTpl, emptyTpl, toastError, icon } from '../ui.js';
import { consult } from './common.js';

const PROFILE = `query Staff($id: String!, $after: String) {
  staffProfile(id: $id) {
    id name title postCount isMyAdvisor
    store { id name brandName mallName }
    posts(first: 10, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id text publishedAtMs products { product { id name priceFen } } }
    }
  }
}`;

const postTpl = (p) => html`<div class="card post" data-testid="staff-post">
  <div class="post-text">${p.text}</div>
  ${p.products.length ? html`<div class="tags">${p.products.map((x) => html`<span class="tag">${x.product.name} ${yuan(x.product.priceFen)}</span>`)}</div>` : ''}
  <div class="muted small">${fmtTime(p.publishedAtMs)}</div></div>`;

export async function render(root, { id }) {
  root.dataset.testid = 'page-staff';
  setHTML(root, html`${headerTpl('导购')}${loadingTpl()}`);
  bindBack(root);
  let s;
  try {
    s = (await gql(PROFILE, { id, after: null })).staffProfile;
  } catch (e) {
    setHTML(root, html`${headerTpl('导购')}${emptyTpl('找不到这位导购')}`);
    bindBack(root);
    toastError(e);
    return;
  }
  setHTML(root, html`${headerTpl('导购主页')}
    <div class="card staff-hero">
      <div class="avatar big">${s.name.slice(0, 1)}</div>
      <div class="sh-main">
        <h2 data-testid="staff-name">${s.name}</h2>
        <div class="muted">${s.title}</div>
        <a class="small" href="#/store/${encodeURIComponent(s.store.id)}" data-testid="staff-store">${s.store.brandName} · ${s.store.name} · ${s.store.mallName} ›</a>
        <div class="muted small"><span data-testid="staff-post-count">${s.postCount}</span> 条店员说${s.isMyAdvisor ? ' · 我的购物顾问' : ''}</div>
      </div>
    </div>
    <div class="pad"><button class="btn primary block" data-testid="consult-button">${icon('chat')} 向TA咨询</button></div>
    <section class="section">
      <div class="section-head"><h2>TA的店员说</h2></div>
      <div class="post-list">${s.posts.nodes.length ? s.posts.nodes.map(postTpl) : emptyTpl('还没有店员说')}</div>
      <button class="btn ghost block" data-testid="staff-posts-more" ${s.posts.pageInfo.hasNextPage ? '' : 'hidden'}>加载更多</button>
    </section>`);
  bindBack(root);
  onClick(root.querySelector('[data-testid=consult-button]'), () => consult(id, 'PROFILE'));
  const more = root.querySelector('[data-testid=staff-posts-more]');
  let after = s.posts.pageInfo.endCursor;
  onClick(more, async () => {
    const conn = (await gql(PROFILE, { id, after })).staffProfile.posts;
    root.querySelector('.post-list').insertAdjacentHTML('beforeend', conn.nodes.map((p) => postTpl(p).s).join(''));
    after = conn.pageInfo.endCursor;
    more.hidden = !conn.pageInfo.hasNextPage;
  });
}
