"""WeChat Pay API v3 payment notifications: verify, decrypt, and (for tests and the demo) produce them.

A notification is a POST whose raw body is a JSON envelope with an encrypted `resource`. WeChat Pay signs
`"{Wechatpay-Timestamp}\\n{Wechatpay-Nonce}\\n{raw body}\\n"` with SHA256withRSA (PKCS#1 v1.5) using the
platform private key named by `Wechatpay-Serial`, and encrypts the transaction with AEAD_AES_256_GCM under
the merchant's 32-byte APIv3 key. Verification happens on the raw bytes, before any JSON parsing.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from guang.payments.models import EncryptedResource, Notification, Transaction

ALGORITHM = "AEAD_AES_256_GCM"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
EVENT_SUCCESS = "TRANSACTION.SUCCESS"
MAX_SKEW_S = 300
APIV3_KEY_BYTES = 32
GCM_NONCE_CHARS = 12
CHINA = timezone(timedelta(hours=8))

HEADER_SERIAL = "Wechatpay-Serial"
HEADER_SIGNATURE = "Wechatpay-Signature"
HEADER_TIMESTAMP = "Wechatpay-Timestamp"
HEADER_NONCE = "Wechatpay-Nonce"
HEADER_SIGNATURE_TYPE = "Wechatpay-Signature-Type"


class NotificationRefused(Exception):
    """A notification we must not act on; `reason` is safe to log and to answer with."""

    kind = "refused"
    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedNotification(NotificationRefused):
    kind = "malformed"


class UnknownSerial(NotificationRefused):
    kind = "unknown_serial"
    status = 401


class StaleTimestamp(NotificationRefused):
    kind = "stale_timestamp"
    status = 401


class CertificateNotValid(NotificationRefused):
    kind = "certificate_not_valid"
    status = 401


class BadSignature(NotificationRefused):
    kind = "bad_signature"
    status = 401


class DecryptionFailed(NotificationRefused):
    kind = "decryption_failed"


@dataclass(frozen=True)
class SignedHeaders:
    serial: str
    signature: str
    timestamp: str
    nonce: str

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> SignedHeaders:
        """Read the four signature headers, case-insensitively; any missing one refuses the request."""
        lower = {k.lower(): v for k, v in headers.items()}
        names = (HEADER_SERIAL, HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_NONCE)
        missing = [n for n in names if not lower.get(n.lower())]
        if missing:
            raise MalformedNotification(f"missing header {', '.join(missing)}")
        serial, signature, timestamp, nonce = (lower[n.lower()] for n in names)
        return cls(serial=serial, signature=signature, timestamp=timestamp, nonce=nonce)

    def as_dict(self) -> dict[str, str]:
        return {
            HEADER_SERIAL: self.serial,
            HEADER_SIGNATURE: self.signature,
            HEADER_TIMESTAMP: self.timestamp,
            HEADER_NONCE: self.nonce,
            HEADER_SIGNATURE_TYPE: SIGNATURE_TYPE,
        }


def signed_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


def sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5), as WeChat Pay and merchants sign."""
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify_signature(
    *,
    headers: SignedHeaders,
    body: bytes,
    platform_keys: Mapping[str, rsa.RSAPublicKey],
    now_s: float,
    max_skew_s: int = MAX_SKEW_S,
    platform_validity: Mapping[str, tuple[float, float]] | None = None,
) -> None:
    """Raise unless the body was signed just now by the platform key the serial names (serials compare
    case-insensitively) while its certificate, if it came from one, is valid."""
    serial = headers.serial.strip().upper()
    key = {k.upper(): v for k, v in platform_keys.items()}.get(serial)
    if key is None:
        raise UnknownSerial(f"unknown Wechatpay-Serial {headers.serial[:64]!r}")
    window = {k.upper(): v for k, v in (platform_validity or {}).items()}.get(serial)
    if window is not None and not window[0] <= now_s <= window[1]:
        raise CertificateNotValid(f"platform certificate {serial[:64]} is not valid now")
    try:
        timestamp = int(headers.timestamp)
    except ValueError:
        raise MalformedNotification("Wechatpay-Timestamp is not an integer") from None
    if abs(now_s - timestamp) > max_skew_s:
        raise StaleTimestamp(f"Wechatpay-Timestamp is {int(now_s - timestamp)} s off (limit {max_skew_s} s)")
    try:
        signature = base64.b64decode(headers.signature, validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("Wechatpay-Signature is not base64") from None
    try:
        key.verify(
            signature,
            signed_message(headers.timestamp, headers.nonce, body),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        raise BadSignature("Wechatpay-Signature does not verify") from None


def encrypt_resource(
    *,
    apiv3_key: bytes,
    plaintext: bytes,
    associated_data: str = "transaction",
    nonce: str | None = None,
    original_type: str = "transaction",
) -> EncryptedResource:
    """AEAD_AES_256_GCM, ciphertext and tag base64-encoded together, as WeChat Pay sends it."""
    nonce = nonce or secrets.token_hex(GCM_NONCE_CHARS // 2)
    sealed = AESGCM(apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode() or None)
    return EncryptedResource(
        original_type=original_type,
        algorithm=ALGORITHM,
        ciphertext=base64.b64encode(sealed).decode(),
        associated_data=associated_data,
        nonce=nonce,
    )


def decrypt_resource(*, apiv3_key: bytes, resource: EncryptedResource) -> bytes:
    if resource.algorithm != ALGORITHM:
        raise DecryptionFailed(f"unsupported resource algorithm {resource.algorithm[:32]!r}")
    try:
        sealed = base64.b64decode(resource.ciphertext, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("resource.ciphertext is not base64") from None
    try:
        return AESGCM(apiv3_key).decrypt(
            resource.nonce.encode(), sealed, resource.associated_data.encode() or None
        )
    except (InvalidTag, ValueError):
        raise DecryptionFailed("resource does not decrypt with the APIv3 key") from None


@dataclass(frozen=True)
class OpenedNotification:
    notification: Notification
    transaction: Transaction


@dataclass(frozen=True)
class NotificationVerifier:
    """What the merchant holds to open notifications: the platform public keys and the APIv3 key."""

    apiv3_key: bytes
    platform_keys: Mapping[str, rsa.RSAPublicKey]
    max_skew_s: int = MAX_SKEW_S
    platform_validity: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def open(
        self, *, headers: Mapping[str, str], body: bytes, now_s: float | None = None
    ) -> OpenedNotification:
        """Verify the signature over the raw body, then decrypt and parse the transaction."""
        signed = SignedHeaders.of(headers)
        verify_signature(
            headers=signed,
            body=body,
            platform_keys=self.platform_keys,
            now_s=time.time() if now_s is None else now_s,
            max_skew_s=self.max_skew_s,
            platform_validity=self.platform_validity,
        )
        try:
            notification = Notification.model_validate_json(body)
        except ValidationError as error:
            raise MalformedNotification(f"body: {_first_error(error)}") from None
        plaintext = decrypt_resource(apiv3_key=self.apiv3_key, resource=notification.resource)
        try:
            transaction = Transaction.model_validate_json(plaintext)
        except ValidationError as error:
            raise MalformedNotification(f"transaction: {_first_error(error)}") from None
        return OpenedNotification(notification=notification, transaction=transaction)


def _first_error(error: ValidationError) -> str:
    item = error.errors(include_url=False)[0]
    where = ".".join(str(p) for p in item["loc"])
    return f"{where}: {item['msg']}" if where else str(item["msg"])


def rfc3339(ms: int) -> str:
    """WeChat Pay's time format, in China time: 2018-06-08T10:34:56+08:00."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(CHINA).isoformat(timespec="seconds")


def new_serial() -> str:
    """A platform certificate serial number: 40 upper-case hex digits."""
    return secrets.token_hex(20).upper()


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class WeChatPaySimulator:
    """Plays WeChat Pay's side: builds a payment notification exactly as it would be delivered."""

    mchid: str
    app_id: str
    apiv3_key: bytes
    platform_serial: str
    platform_private_key: rsa.RSAPrivateKey
    clock: Any = field(default=time.time)

    def transaction(
        self,
        *,
        out_trade_no: str,
        total_fen: int,
        openid: str,
        trade_state: str = "SUCCESS",
        attach: str = "",
        paid_ms: int | None = None,
        transaction_id: str | None = None,
    ) -> dict[str, Any]:
        """The decrypted `transaction` resource of a JSAPI (mini-program) payment."""
        paid_ms = int(self.clock() * 1000) if paid_ms is None else paid_ms
        return {
            "mchid": self.mchid,
            "appid": self.app_id,
            "out_trade_no": out_trade_no,
            "transaction_id": transaction_id or f"4200{secrets.randbelow(10**24):024d}",
            "trade_type": "JSAPI",
            "trade_state": trade_state,
            "trade_state_desc": "支付成功" if trade_state == "SUCCESS" else trade_state,
            "bank_type": "OTHERS",
            "attach": attach,
            "success_time": rfc3339(paid_ms),
            "payer": {"openid": openid},
            "amount": {
                "total": total_fen,
                "payer_total": total_fen,
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }

    def notification(
        self,
        transaction: Mapping[str, Any],
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        serial: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """(headers, raw body) of one delivery: the transaction encrypted, the body signed."""
        created_ms = int(self.clock() * 1000)
        resource = encrypt_resource(
            apiv3_key=self.apiv3_key, plaintext=json.dumps(transaction, ensure_ascii=False).encode()
        )
        envelope = {
            "id": str(uuid.uuid4()),
            "create_time": rfc3339(created_ms),
            "resource_type": "encrypt-resource",
            "event_type": EVENT_SUCCESS,
            "summary": "支付成功",
            "resource": resource.model_dump(),
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(int(self.clock()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16).upper()
        headers = SignedHeaders(
            serial=serial or self.platform_serial,
            signature=sign(self.platform_private_key, signed_message(stamp, nonce, body)),
            timestamp=stamp,
            nonce=nonce,
        )
        return headers.as_dict(), body
