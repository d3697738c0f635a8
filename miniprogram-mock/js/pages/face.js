// Face recognition consent: explicit, separate, revocable.
import { gql } from '../api.js';
import { html, setHTML, headerTpl, bindBack, onClick, toast, loadingTpl, emptyTpl, toastError, fmtTime, icon } from '../ui.js';

const ME = `query Face { me { id consents { kind granted grantedAtMs } } }`;
const CODE = `mutation EnrolCode { faceEnrolmentCode { code expiresAtMs } }`;
const SET = `mutation SetFace($granted: Boolean!) { setConsent(kind: FACE, granted: $granted) { id consents { kind granted grantedAtMs } } }`;

const faceOf = (m) => m.consents.find((c) => c.kind === 'FACE') || { kind: 'FACE', granted: false, grantedAtMs: null };

export async function render(root) {
  root.dataset.testid = 'page-face';
  setHTML(root, html`${headerTpl('人脸识别')}${loadingTpl()}`);
  bindBack(root);
  let face;
  let enrol = null;
  try {
    face = faceOf((await gql(ME)).me);
  } catch (e) {
    setHTML(root, html`${headerTpl('人脸识别')}${emptyTpl('加载失败')}`);
    bindBack(root);
    toastError(e);
    return;
  }
  const draw = () => {
    setHTML(root, html`${headerTpl('人脸识别')}
      <div class="card face-card">
        <div class="face-ico">${icon('face', 'ico big')}</div>
        <div class="face-state ${face.granted ? 'on' : 'off'}" data-testid="face-state">${face.granted ? '已开启' : '未开启'}</div>
        ${face.granted && face.grantedAtMs ? html`<div class="muted small">开启于 ${fmtTime(face.grantedAtMs)}</div>` : ''}
      </div>
      <div class="card face-info">
        <h3>开启后会发生什么</h3>
        <ul>
          <li>在参与活动的门店，摄像头会识别出你，店员和店内屏幕可以据此为你提供更贴心的服务和推荐。</li>
          <li>你的人脸特征模板只保存在门店的设备上，不会上传照片或人脸特征到云端，也不会用于其他用途。</li>
          <li>未开启时，门店只会把你当作匿名访客统计，不会识别你是谁。</li>
          <li>你可以随时在这里关闭，关闭后我们会通知门店设备删除你的人脸模板。</li>
        </ul>
      </div>
      <div class="pad">
        ${face.granted ? html`
          <div class="card face-code" data-testid="face-code-card">
            <h3>到店录入</h3>
            ${enrol ? html`
              <div class="face-code-value" data-testid="face-code">${enrol.code.slice(0, 4)} ${enrol.code.slice(4)}</div>
              <div class="muted small">在门店的录入屏输入此码并拍照；${fmtTime(enrol.expiresAtMs)} 前有效，只能用一次</div>`
            : html`<div class="muted small">到店后在录入屏输入录入码并拍一张照片，门店设备才能认出你。</div>`}
            <button class="btn primary block" data-testid="face-get-code">${enrol ? '换一个录入码' : '获取录入码'}</button>
          </div>
          <button class="btn ghost block danger" data-testid="face-opt-out">关闭并删除</button>`
        : html`
          <label class="agree"><input type="checkbox" data-testid="face-agree"> 我已阅读并同意《人脸识别服务说明》</label>
          <button class="btn primary block" data-testid="face-opt-in" disabled>开启人脸识别</button>`}
      </div>`);
    bindBack(root);
    const agree = root.querySelector('[data-testid=face-agree]');
    const optIn = root.querySelector('[data-testid=face-opt-in]');
    if (agree) agree.addEventListener('change', () => { optIn.disabled = !agree.checked; });
    onClick(optIn, async () => {
      if (!agree.checked) { toast('请先阅读并同意'); return; }
      face = faceOf((await gql(SET, { granted: true })).setConsent);
      toast('人脸识别已开启');
      draw();
    });
    onClick(root.querySelector('[data-testid=face-get-code]'), async () => {
      enrol = (await gql(CODE)).faceEnrolmentCode;
      draw();
    });
    onClick(root.querySelector('[data-testid=face-opt-out]'), async () => {
      enrol = null;
      face = faceOf((await gql(SET, { granted: false })).setConsent);
      toast('已关闭人脸识别，门店设备将删除你的人脸模板');
      draw();
    });
  };
  draw();
}
