"""The merchant's WeChat Pay credentials: from settings (server mode) or generated once for the demo.

Demo mode (`settings.demo`, no `wechatpay_mchid`): a merchant key pair, one platform key pair with its
serial, an APIv3 key, an mchid and an appid are generated into `data_dir/wechatpay/` (files 0600) on first
start and reused. Holding the platform private key is what lets the demo and the tests play WeChat Pay's
side. Neither configured nor demo: no keys at all (payments are off), never demo keys by surprise.

Platform certificate serials are 40 hex digits, zero-padded, upper case (compared case-insensitively);
a certificate outside its validity dates is not loaded, and one that expires later stops verifying then.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from guang.payments.models import PrepayParams
from guang.payments.wechatpay import (
    APIV3_KEY_BYTES,
    NotificationVerifier,
    WeChatPaySimulator,
    new_private_key,
    new_serial,
    sign,
)
from guang.settings import Settings

log = logging.getLogger(__name__)

DEMO_DIR = "wechatpay"
DEMO_CONFIG = "wechatpay.json"
MERCHANT_KEY = "merchant_key.pem"
PLATFORM_KEY = "platform_key.pem"


class WeChatPayConfigError(ValueError):
    """The WeChat Pay settings are incomplete or unreadable."""


@dataclass(frozen=True)
class WeChatPayKeys:
    mchid: str
    app_id: str
    apiv3_key: bytes = field(repr=False)
    platform_keys: dict[str, rsa.RSAPublicKey] = field(repr=False)
    platform_validity: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    """Serial -> (not before, not after) in epoch seconds, for keys that came from a certificate."""
    merchant_key: rsa.RSAPrivateKey | None = field(default=None, repr=False)
    platform_serial: str | None = None
    platform_private_key: rsa.RSAPrivateKey | None = field(default=None, repr=False)
    """Only in demo mode: WeChat Pay's own signing key, for the simulator."""

    @property
    def demo(self) -> bool:
        return self.platform_private_key is not None

    def verifier(self, *, max_skew_s: int) -> NotificationVerifier:
        return NotificationVerifier(
            apiv3_key=self.apiv3_key, platform_keys=self.platform_keys, max_skew_s=max_skew_s,
            platform_validity=self.platform_validity,
        )  # fmt: skip

    def simulator(self) -> WeChatPaySimulator | None:
        """WeChat Pay's side, when we hold its key (demo mode); None in server mode."""
        if self.platform_private_key is None or self.platform_serial is None:
            return None
        return WeChatPaySimulator(
            mchid=self.mchid,
            app_id=self.app_id,
            apiv3_key=self.apiv3_key,
            platform_serial=self.platform_serial,
            platform_private_key=self.platform_private_key,
        )

    def prepay(self, *, prepay_id: str, now_s: int) -> PrepayParams:
        """`wx.requestPayment` parameters; paySign signs appId, timeStamp, nonceStr and package."""
        stamp, nonce, package = str(now_s), secrets.token_hex(16), f"prepay_id={prepay_id}"
        message = f"{self.app_id}\n{stamp}\n{nonce}\n{package}\n".encode()
        pay_sign = sign(self.merchant_key, message) if self.merchant_key is not None else ""
        return PrepayParams(
            app_id=self.app_id, time_stamp=stamp, nonce_str=nonce, package=package, pay_sign=pay_sign,
            demo=self.demo,
        )  # fmt: skip


def generate(*, app_id: str = "") -> WeChatPayKeys:
    """Fresh demo credentials (also what tests use)."""
    platform = new_private_key()
    serial = new_serial()
    return WeChatPayKeys(
        mchid=f"19{secrets.randbelow(10**8):08d}",
        app_id=app_id or f"wx{secrets.token_hex(8)}",
        apiv3_key=secrets.token_hex(APIV3_KEY_BYTES // 2).encode(),
        platform_keys={serial: platform.public_key()},
        merchant_key=new_private_key(),
        platform_serial=serial,
        platform_private_key=platform,
    )


def load(settings: Settings) -> WeChatPayKeys | None:
    """Server-mode credentials when an mchid is configured, else the demo ones in demo mode
    (`settings.demo`), else None: WeChat Pay is not configured and payments are off."""
    if settings.wechatpay_mchid:
        return from_settings(settings)
    if not settings.demo:
        return None
    keys = demo(settings.data_dir / DEMO_DIR)
    app_id = settings.wechatpay_app_id or settings.wechat_app_id
    if app_id and app_id != keys.app_id:
        keys = replace(keys, app_id=app_id)
    return keys


def from_settings(settings: Settings) -> WeChatPayKeys:
    key = settings.wechatpay_apiv3_key.get_secret_value().encode()
    if len(key) != APIV3_KEY_BYTES:
        raise WeChatPayConfigError(f"GUANG_WECHATPAY_APIV3_KEY must be {APIV3_KEY_BYTES} bytes")
    app_id = settings.wechatpay_app_id or settings.wechat_app_id
    if not app_id:
        raise WeChatPayConfigError("GUANG_WECHATPAY_APP_ID (or GUANG_WECHAT_APP_ID) is required")
    if not settings.wechatpay_platform_certs_dir:
        raise WeChatPayConfigError("GUANG_WECHATPAY_PLATFORM_CERTS_DIR is required")
    platform, validity = load_platform(Path(settings.wechatpay_platform_certs_dir))
    merchant = None
    if settings.wechatpay_merchant_key_path:
        merchant = _private_key(Path(settings.wechatpay_merchant_key_path).read_bytes())
    return WeChatPayKeys(
        mchid=settings.wechatpay_mchid,
        app_id=app_id,
        apiv3_key=key,
        platform_keys=platform,
        platform_validity=validity,
        merchant_key=merchant,
    )


def serial_hex(serial_number: int) -> str:
    """A certificate serial as WeChat Pay writes it in Wechatpay-Serial: 40 hex digits, upper case."""
    return format(serial_number, "040X")


def platform_keys(directory: Path, *, now_s: float | None = None) -> dict[str, rsa.RSAPublicKey]:
    return load_platform(directory, now_s=now_s)[0]


def load_platform(
    directory: Path, *, now_s: float | None = None
) -> tuple[dict[str, rsa.RSAPublicKey], dict[str, tuple[float, float]]]:
    """Serial -> public key for every *.pem: a certificate's own serial (only when valid at `now_s`), or
    a public key's file name; and the validity window of each certificate's serial."""
    now = time.time() if now_s is None else now_s
    found: dict[str, rsa.RSAPublicKey] = {}
    validity: dict[str, tuple[float, float]] = {}
    refused: list[str] = []
    for path in sorted(directory.glob("*.pem")):
        data = path.read_bytes()
        key: object
        if b"BEGIN CERTIFICATE" in data:
            cert = x509.load_pem_x509_certificate(data)
            serial, key = serial_hex(cert.serial_number), cert.public_key()
            start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
            if not start.timestamp() <= now <= end.timestamp():
                refused.append(
                    f"{path.name} (serial {serial}) is valid only from {start:%Y-%m-%d} to {end:%Y-%m-%d}"
                )
                continue
            validity[serial] = (start.timestamp(), end.timestamp())
        else:
            serial, key = path.stem.upper(), serialization.load_pem_public_key(data)
        if not isinstance(key, rsa.RSAPublicKey):
            raise WeChatPayConfigError(f"{path.name}: not an RSA key")
        found[serial] = key
    for reason in refused:
        log.warning("wechatpay platform certificate not loaded: %s", reason)
    if not found:
        detail = f": {'; '.join(refused)}" if refused else ""
        raise WeChatPayConfigError(
            f"no valid platform certificate or public key (*.pem) in {directory}{detail}"
        )
    return found, validity


def demo(directory: Path) -> WeChatPayKeys:
    """The demo credentials kept in `directory`, generated on first use."""
    config = directory / DEMO_CONFIG
    if not config.exists():
        _write_demo(directory, generate())
    meta = json.loads(config.read_text())
    platform = _private_key((directory / PLATFORM_KEY).read_bytes())
    return WeChatPayKeys(
        mchid=meta["mchid"],
        app_id=meta["app_id"],
        apiv3_key=meta["apiv3_key"].encode(),
        platform_keys={meta["platform_serial"]: platform.public_key()},
        merchant_key=_private_key((directory / MERCHANT_KEY).read_bytes()),
        platform_serial=meta["platform_serial"],
        platform_private_key=platform,
    )


def _write_demo(directory: Path, keys: WeChatPayKeys) -> None:
    assert keys.merchant_key is not None and keys.platform_private_key is not None
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    _write_private(directory / MERCHANT_KEY, _pem(keys.merchant_key))
    _write_private(directory / PLATFORM_KEY, _pem(keys.platform_private_key))
    meta = {
        "mchid": keys.mchid,
        "app_id": keys.app_id,
        "apiv3_key": keys.apiv3_key.decode(),
        "platform_serial": keys.platform_serial,
    }
    _write_private(directory / DEMO_CONFIG, json.dumps(meta, indent=2).encode())  # written last: complete


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only from the first byte, replaced atomically."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _private_key(data: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise WeChatPayConfigError("not an RSA private key")
    return key
