"""WeChat Pay API v3 notifications: sign/verify and encrypt/decrypt round trips, and every refusal."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from guang.domain.errors import Invalid
from guang.domain.models import OrderItem
from guang.payments import keys as wechatpay_keys
from guang.payments.keys import WeChatPayConfigError, WeChatPayKeys
from guang.payments.models import PayableOrder, Transaction
from guang.payments.service import (
    CheckoutLine,
    commission_fen,
    merge_lines,
    mismatch,
    paid_time_ms,
    payment_event,
)
from guang.payments.wechatpay import (
    BadSignature,
    CertificateNotValid,
    DecryptionFailed,
    MalformedNotification,
    StaleTimestamp,
    UnknownSerial,
    WeChatPaySimulator,
    decrypt_resource,
    encrypt_resource,
    new_private_key,
    rfc3339,
    signed_message,
)
from guang.settings import Settings

NOW = 1_750_000_000


@pytest.fixture(scope="module")
def keys() -> WeChatPayKeys:
    return wechatpay_keys.generate(app_id="wx1234567890abcdef")


def _simulator(keys: WeChatPayKeys) -> WeChatPaySimulator:
    simulator = keys.simulator()
    assert simulator is not None
    simulator.clock = lambda: float(NOW)
    return simulator


def _delivery(keys: WeChatPayKeys, **overrides: object) -> tuple[dict[str, str], bytes]:
    simulator = _simulator(keys)
    tx = simulator.transaction(out_trade_no="o123", total_fen=12_900, openid="openid-1")
    return simulator.notification(tx, **overrides)  # type: ignore[arg-type]


def _open(keys: WeChatPayKeys, headers: dict[str, str], body: bytes, now: float = NOW) -> Transaction:
    return keys.verifier(max_skew_s=300).open(headers=headers, body=body, now_s=now).transaction


def test_a_notification_built_like_wechat_pay_opens_to_the_transaction(keys: WeChatPayKeys) -> None:
    headers, body = _delivery(keys)
    tx = _open(keys, headers, body)
    assert (tx.mchid, tx.appid, tx.out_trade_no, tx.trade_state) == (
        keys.mchid, "wx1234567890abcdef", "o123", "SUCCESS",
    )  # fmt: skip
    assert (tx.amount.total, tx.amount.payer_total, tx.amount.currency) == (12_900, 12_900, "CNY")
    assert tx.payer.openid == "openid-1" and tx.success_time.endswith("+08:00")
    envelope = json.loads(body)
    assert envelope["event_type"] == "TRANSACTION.SUCCESS" and envelope["resource_type"] == "encrypt-resource"
    assert envelope["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert envelope["resource"]["original_type"] == "transaction"
    assert "o123" not in body.decode(), "the transaction travels encrypted"


def test_the_signature_is_sha256_with_rsa_over_timestamp_nonce_body(keys: WeChatPayKeys) -> None:
    headers, body = _delivery(keys)
    message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n".encode() + body + b"\n"
    assert signed_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body) == message
    public = keys.platform_keys[headers["Wechatpay-Serial"]]
    public.verify(
        base64.b64decode(headers["Wechatpay-Signature"]), message, padding.PKCS1v15(), hashes.SHA256()
    )


def test_the_resource_decrypts_the_way_wechat_pays_python_sample_does(keys: WeChatPayKeys) -> None:
    """Key bytes as-is, nonce and associated_data as UTF-8, tag appended to the base64 ciphertext."""
    resource = json.loads(_delivery(keys)[1])["resource"]
    plain = AESGCM(keys.apiv3_key).decrypt(
        resource["nonce"].encode(),
        base64.b64decode(resource["ciphertext"]),
        resource["associated_data"].encode(),
    )
    assert json.loads(plain)["out_trade_no"] == "o123"
    assert len(keys.apiv3_key) == 32 and len(resource["nonce"]) == 12


def test_headers_are_read_case_insensitively(keys: WeChatPayKeys) -> None:
    headers, body = _delivery(keys)
    assert _open(keys, {k.lower(): v for k, v in headers.items()}, body).out_trade_no == "o123"


def test_a_forged_signature_is_refused(keys: WeChatPayKeys) -> None:
    forger = WeChatPaySimulator(
        mchid=keys.mchid, app_id=keys.app_id, apiv3_key=keys.apiv3_key,
        platform_serial=str(keys.platform_serial), platform_private_key=new_private_key(),
        clock=lambda: float(NOW),
    )  # fmt: skip
    headers, body = forger.notification(forger.transaction(out_trade_no="o1", total_fen=1, openid="x"))
    with pytest.raises(BadSignature):
        _open(keys, headers, body)
    with pytest.raises(BadSignature):
        _open(keys, {**headers, "Wechatpay-Signature": "not base64!"}, body)


def test_a_tampered_body_is_refused(keys: WeChatPayKeys) -> None:
    headers, body = _delivery(keys)
    envelope = json.loads(body)
    envelope["summary"] = "改过"
    with pytest.raises(BadSignature):
        _open(keys, headers, json.dumps(envelope).encode())
    with pytest.raises(BadSignature):
        _open(keys, headers, body + b" ")
    with pytest.raises(BadSignature):
        _open(keys, {**_delivery(keys)[0]}, body)  # another delivery's signature and nonce


def test_an_unknown_serial_is_refused(keys: WeChatPayKeys) -> None:
    headers, body = _delivery(keys, serial="0" * 40)
    with pytest.raises(UnknownSerial):
        _open(keys, headers, body)


def test_timestamps_more_than_five_minutes_off_are_refused(keys: WeChatPayKeys) -> None:
    headers, body = _delivery(keys)
    assert _open(keys, headers, body, now=NOW + 300).out_trade_no == "o123"
    assert _open(keys, headers, body, now=NOW - 300).out_trade_no == "o123"
    with pytest.raises(StaleTimestamp):
        _open(keys, headers, body, now=NOW + 301)
    with pytest.raises(StaleTimestamp):
        _open(keys, headers, body, now=NOW - 3600)


def test_missing_or_malformed_headers_and_bodies_are_refused(keys: WeChatPayKeys) -> None:
    headers, body = _delivery(keys)
    for name in ("Wechatpay-Serial", "Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce"):
        with pytest.raises(MalformedNotification, match=name):
            _open(keys, {k: v for k, v in headers.items() if k != name}, body)
    headers, body = _delivery(keys, timestamp="soon")
    with pytest.raises(MalformedNotification):
        _open(keys, headers, body)
    simulator = _simulator(keys)
    for bad in (b"not json", b'{"id": "x"}'):
        headers = simulator.notification({})[0]
        signed = {**headers, **_resign(simulator, headers, bad)}
        with pytest.raises(MalformedNotification):
            _open(keys, signed, bad)


def _resign(simulator: WeChatPaySimulator, headers: dict[str, str], body: bytes) -> dict[str, str]:
    message = signed_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body)
    signature = simulator.platform_private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {"Wechatpay-Signature": base64.b64encode(signature).decode()}


def test_a_resource_that_does_not_decrypt_with_our_apiv3_key_is_refused(keys: WeChatPayKeys) -> None:
    other = WeChatPaySimulator(
        mchid=keys.mchid, app_id=keys.app_id, apiv3_key=b"k" * 32, platform_serial=str(keys.platform_serial),
        platform_private_key=_simulator(keys).platform_private_key, clock=lambda: float(NOW),
    )  # fmt: skip
    headers, body = other.notification(other.transaction(out_trade_no="o1", total_fen=1, openid="x"))
    with pytest.raises(DecryptionFailed):
        _open(keys, headers, body)


def test_decryption_checks_the_tag_associated_data_and_algorithm() -> None:
    key = b"0123456789abcdef0123456789abcdef"
    sealed = encrypt_resource(apiv3_key=key, plaintext=b'{"a":1}', associated_data="transaction")
    assert decrypt_resource(apiv3_key=key, resource=sealed) == b'{"a":1}'
    with pytest.raises(DecryptionFailed):
        decrypt_resource(apiv3_key=key, resource=sealed.model_copy(update={"associated_data": "other"}))
    flipped = bytearray(base64.b64decode(sealed.ciphertext))
    flipped[0] ^= 1
    with pytest.raises(DecryptionFailed):
        decrypt_resource(
            apiv3_key=key,
            resource=sealed.model_copy(update={"ciphertext": base64.b64encode(flipped).decode()}),
        )
    with pytest.raises(DecryptionFailed, match="algorithm"):
        decrypt_resource(apiv3_key=key, resource=sealed.model_copy(update={"algorithm": "AES_128_CBC"}))
    empty_ad = encrypt_resource(apiv3_key=key, plaintext=b"{}", associated_data="")
    assert decrypt_resource(apiv3_key=key, resource=empty_ad) == b"{}"


def test_demo_keys_are_generated_once_owner_only_and_reused(tmp_path: Path) -> None:
    first = wechatpay_keys.demo(tmp_path / "wechatpay")
    files = sorted((tmp_path / "wechatpay").iterdir())
    assert [f.name for f in files] == ["merchant_key.pem", "platform_key.pem", "wechatpay.json"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    again = wechatpay_keys.demo(tmp_path / "wechatpay")
    assert (again.mchid, again.app_id, again.apiv3_key, again.platform_serial) == (
        first.mchid, first.app_id, first.apiv3_key, first.platform_serial,
    )  # fmt: skip
    simulator = first.simulator()
    assert simulator is not None and first.demo
    headers, body = simulator.notification(simulator.transaction(out_trade_no="o9", total_fen=5, openid="x"))
    assert again.verifier(max_skew_s=300).open(headers=headers, body=body).transaction.out_trade_no == "o9"
    assert first.apiv3_key.decode() not in repr(first)


def test_server_mode_keys_come_from_settings_and_certificates(tmp_path: Path) -> None:
    platform = new_private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(platform.public_key())
        .serial_number(0x5157F09EFDC096DE15EBE81A47057A7232F4F1A).not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365)).sign(platform, hashes.SHA256())
    )  # fmt: skip
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "platform.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pub_key = new_private_key().public_key()
    (certs / "PUB_KEY_ID_0114232134912410000000000000.pem").write_bytes(
        pub_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings = Settings(
        data_dir=tmp_path, demo=True, wechatpay_mchid="1900000109", wechatpay_app_id="wxd678efh567hg6787",
        wechatpay_apiv3_key=SecretStr("a" * 32), wechatpay_platform_certs_dir=str(certs),
    )  # fmt: skip
    loaded = wechatpay_keys.load(settings)
    assert loaded is not None
    assert set(loaded.platform_keys) == {
        "05157F09EFDC096DE15EBE81A47057A7232F4F1A", "PUB_KEY_ID_0114232134912410000000000000",
    }  # fmt: skip
    assert (loaded.mchid, loaded.app_id, loaded.demo, loaded.simulator()) == (
        "1900000109", "wxd678efh567hg6787", False, None,
    )  # fmt: skip
    assert not (tmp_path / "wechatpay").exists(), "server mode generates no demo keys"
    assert "a" * 32 not in repr(settings) and "a" * 32 not in str(settings.model_dump())
    with pytest.raises(WeChatPayConfigError, match="32 bytes"):
        wechatpay_keys.load(settings.model_copy(update={"wechatpay_apiv3_key": SecretStr("short")}))
    with pytest.raises(WeChatPayConfigError, match="CERTS_DIR"):
        wechatpay_keys.load(settings.model_copy(update={"wechatpay_platform_certs_dir": ""}))


def test_prepay_parameters_are_signed_with_the_merchant_key(keys: WeChatPayKeys) -> None:
    params = keys.prepay(prepay_id="wx201410272009395522657a690389285100", now_s=NOW)
    assert params.package == "prepay_id=wx201410272009395522657a690389285100" and params.sign_type == "RSA"
    message = f"{params.app_id}\n{params.time_stamp}\n{params.nonce_str}\n{params.package}\n".encode()
    assert keys.merchant_key is not None
    keys.merchant_key.public_key().verify(
        base64.b64decode(params.pay_sign), message, padding.PKCS1v15(), hashes.SHA256()
    )


def _order(**changes: object) -> PayableOrder:
    base = PayableOrder(
        id="o1", member_id="m-1", store_id="s-1",
        items=[OrderItem(sku_id="sku-000001", qty=2, price_fen=500)],
        amount_fen=1000, paid_ms=0, status="pending", out_trade_no="o1", mall_id="mall-1", mchid="1900000109",
        app_id="wxapp", openid="openid-1", created_ms=NOW * 1000,
    )  # fmt: skip
    return base.model_copy(update=changes)


def _tx(**changes: object) -> Transaction:
    raw = WeChatPaySimulator(
        mchid="1900000109", app_id="wxapp", apiv3_key=b"k" * 32, platform_serial="S",
        platform_private_key=None,  # type: ignore[arg-type]
        clock=lambda: float(NOW),
    ).transaction(out_trade_no="o1", total_fen=1000, openid="openid-1")  # fmt: skip
    return Transaction.model_validate({**raw, **changes})


def test_an_authentic_notification_must_still_match_the_order() -> None:
    assert mismatch(_order(), _tx(), mchid="1900000109", app_id="wxapp") is None
    assert "mchid" in str(mismatch(_order(), _tx(mchid="1900000999"), mchid="1900000109", app_id="wxapp"))
    assert "appid" in str(mismatch(_order(), _tx(appid="wxother"), mchid="1900000109", app_id="wxapp"))
    wrong_amount = _tx(amount={"total": 1, "payer_total": 1, "currency": "CNY"})
    assert "amount" in str(mismatch(_order(), wrong_amount, mchid="1900000109", app_id="wxapp"))
    usd = _tx(amount={"total": 1000, "currency": "USD"})
    assert "currency" in str(mismatch(_order(), usd, mchid="1900000109", app_id="wxapp"))
    assert "openid" in str(mismatch(_order(), _tx(payer={"openid": "x"}), mchid="1900000109", app_id="wxapp"))
    seeded = _order(mchid="", app_id="", status="paid")
    assert mismatch(seeded, _tx(), mchid="1900000109", app_id="wxapp") is not None


def test_the_payment_event_comes_from_the_order_alone() -> None:
    paid = _order(status="paid", paid_ms=NOW * 1000, guide_id="st-1", coupon_ids=["c-1"])
    event = payment_event(paid)
    assert event == payment_event(paid), "a re-emit is the same event (same id)"
    assert (event.event_id, event.user_id, event.store_id, event.mall_id, event.amount_fen) == (
        "wxpay-o1", "m-1", "s-1", "mall-1", 1000,
    )  # fmt: skip
    assert (event.channel, event.guide_id, event.coupon_ids, event.ts_ms) == (
        "wechatpay", "st-1", ["c-1"], NOW * 1000,
    )  # fmt: skip
    assert [(i.sku_id, i.qty, i.price_fen) for i in event.items] == [("sku-000001", 2, 500)]


def test_commission_checkout_lines_and_paid_time() -> None:
    assert commission_fen(20_567, 0.03) == 617 and commission_fen(1, 0.5) == 1
    assert merge_lines([CheckoutLine("a", 1), CheckoutLine("b", 2), CheckoutLine("a", 3)]) == {"a": 4, "b": 2}
    for bad in ([], [CheckoutLine("a", 0)], [CheckoutLine("a", -1)], [CheckoutLine("a", 100)]):
        with pytest.raises(Invalid):
            merge_lines(bad)
    tx = _tx(success_time=rfc3339(NOW * 1000))
    assert paid_time_ms(tx, NOW * 1000 + 5000) == NOW * 1000
    assert paid_time_ms(_tx(success_time="2001-01-01T00:00:00+08:00"), NOW * 1000) == NOW * 1000
    assert paid_time_ms(_tx(success_time="garbage"), 7) == 7


def _certificate(serial: int, *, days_from_now: tuple[int, int] = (-1, 365)) -> tuple[bytes, object]:
    platform = new_private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(platform.public_key())
        .serial_number(serial).not_valid_before(now + dt.timedelta(days=days_from_now[0]))
        .not_valid_after(now + dt.timedelta(days=days_from_now[1])).sign(platform, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM), platform


def test_certificate_serials_keep_leading_zeros_and_match_case_insensitively(tmp_path: Path) -> None:
    serial = 0x0ABCDEF0123456789ABCDEF0123456789ABCDEF  # 39 hex digits: WeChat Pay writes 40
    pem, platform = _certificate(serial)
    (tmp_path / "platform.pem").write_bytes(pem)
    keys, validity = wechatpay_keys.load_platform(tmp_path)
    expected = "00ABCDEF0123456789ABCDEF0123456789ABCDEF"
    assert list(keys) == [expected] and len(expected) == 40 and set(validity) == {expected}
    assert wechatpay_keys.serial_hex(0x1F) == "0" * 38 + "1F"
    apiv3 = b"k" * 32
    simulator = WeChatPaySimulator(
        mchid="1900000109", app_id="wxapp", apiv3_key=apiv3, platform_serial=expected.lower(),
        platform_private_key=platform,  # type: ignore[arg-type]
    )  # fmt: skip
    headers, body = simulator.notification(simulator.transaction(out_trade_no="o1", total_fen=5, openid="x"))
    verifier = WeChatPayKeys(mchid="1900000109", app_id="wxapp", apiv3_key=apiv3, platform_keys=keys,
                             platform_validity=validity).verifier(max_skew_s=300)  # fmt: skip
    assert verifier.open(headers=headers, body=body).transaction.out_trade_no == "o1"


def test_certificates_outside_their_validity_dates_are_refused(tmp_path: Path) -> None:
    expired, _ = _certificate(0x1234, days_from_now=(-400, -30))
    future, _ = _certificate(0x5678, days_from_now=(30, 400))
    (tmp_path / "expired.pem").write_bytes(expired)
    (tmp_path / "future.pem").write_bytes(future)
    with pytest.raises(WeChatPayConfigError, match="valid only from"):
        wechatpay_keys.load_platform(tmp_path)
    current, platform = _certificate(0x9ABC)
    (tmp_path / "current.pem").write_bytes(current)
    keys, validity = wechatpay_keys.load_platform(tmp_path)
    assert list(keys) == [wechatpay_keys.serial_hex(0x9ABC)]
    # A certificate that expires while the process runs stops verifying then.
    serial = wechatpay_keys.serial_hex(0x9ABC)
    simulator = WeChatPaySimulator(
        mchid="1", app_id="wx", apiv3_key=b"k" * 32, platform_serial=serial,
        platform_private_key=platform,  # type: ignore[arg-type]
    )  # fmt: skip
    headers, body = simulator.notification(simulator.transaction(out_trade_no="o1", total_fen=5, openid="x"))
    verifier = WeChatPayKeys(mchid="1", app_id="wx", apiv3_key=b"k" * 32, platform_keys=keys,
                             platform_validity=validity).verifier(max_skew_s=10**9)  # fmt: skip
    later = validity[serial][1] + 60
    with pytest.raises(CertificateNotValid):
        verifier.open(headers=headers, body=body, now_s=later)


def test_without_demo_mode_or_an_mchid_there_are_no_keys_at_all(tmp_path: Path) -> None:
    assert wechatpay_keys.load(Settings(data_dir=tmp_path, demo=False)) is None
    assert not (tmp_path / "wechatpay").exists(), "no demo keys are generated outside demo mode"
    demo = wechatpay_keys.load(Settings(data_dir=tmp_path, demo=True))
    assert demo is not None and demo.demo and demo.simulator() is not None
