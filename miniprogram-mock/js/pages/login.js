import { gql, session } from '../api.js';
import { html, setHTML, onClick, toast } from '../ui.js';
import { go } from '../router.js';
import { clearAll } from '../location.js';

const LOGIN = `mutation Login($code: String!) {
  login(code: $code) { token expiresInS newMember viewer { subjectId role } }
}`;

function randomCode() {
  return 'demo:h5-' + Math.random().toString(36).slice(2, 10);
}

export async function render(root) {
  root.dataset.testid = 'page-login';
  root.classList.add('login');
  setHTML(root, html`
    <div class="login-hero"><div class="logo">逛</div><h1>逛一逛</h1><p>附近好店、优惠与种草，一站逛起</p></div>
    <form class="card login-form" autocomplete="off">
      <label for="login-code">登录码</label>
      <input id="login-code" class="input" data-testid="login-code" placeholder="demo:&lt;openid&gt;" value="${randomCode()}">
      <p class="hint">演示环境：登录码形如 <code>demo:&lt;openid&gt;</code>，启动日志里有现成的购物者登录码；任意 <code>demo:</code> 开头的码会创建一位新购物者。</p>
      <button type="submit" class="btn primary block" data-testid="login-submit">微信一键登录</button>
    </form>`);
  const form = root.querySelector('form');
  const input = root.querySelector('[data-testid=login-code]');
  const button = root.querySelector('[data-testid=login-submit]');
  form.addEventListener('submit', (ev) => { ev.preventDefault(); button.click(); });
  onClick(button, async () => {
    const code = input.value.trim();
    if (!code) { toast('请输入登录码'); return; }
    button.disabled = true;
    try {
      const d = await gql(LOGIN, { code });
      clearAll();
      session.save(d.login.token, d.login.viewer);
      window.dispatchEvent(new CustomEvent('guang:session'));
      toast(d.login.newMember ? '欢迎新朋友！' : '登录成功');
      go('/home');
    } finally {
      button.disabled = false;
    }
  });
}
