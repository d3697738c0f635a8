"""The WeCom 联系我 `state` (≤ 30 characters): a source letter, a random nonce and a truncated HMAC.

The nonce keys a `consult_states` document (staff, source, member, time); the HMAC makes a forged or
edited state fail before any lookup. The contact-way QR URL is derived without revealing the WeCom user id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from guang.domain.errors import Invalid
from guang.staff.models import SOURCE_OF_LETTER, ConsultSource

WECOM_STATE_MAX = 30
NONCE_CHARS = 12
MAC_CHARS = 16
STATE_CHARS = 1 + NONCE_CHARS + MAC_CHARS
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CONTACT_WAY_BASE = "https://work.weixin.qq.com/ca/"
assert STATE_CHARS <= WECOM_STATE_MAX


def state_key(secret: str) -> bytes:
    """A key used only for consult states, derived from the app secret."""
    return hmac.new(secret.encode(), b"guang-consult-state", hashlib.sha256).digest()


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:MAC_CHARS]


def new_state(key: bytes, source: ConsultSource) -> str:
    nonce = "".join(secrets.choice(ALPHABET) for _ in range(NONCE_CHARS))
    body = source.letter + nonce
    return body + _mac(key, body)


def verify_state(key: bytes, state: str) -> ConsultSource:
    """The source a genuine state was issued for; Invalid for anything we did not sign."""
    state = state.strip()
    if len(state) != STATE_CHARS or any(c not in ALPHABET for c in state[1:]):
        raise Invalid("not a consult state issued by us")
    source = SOURCE_OF_LETTER.get(state[0])
    body, mac = state[: 1 + NONCE_CHARS], state[1 + NONCE_CHARS :]
    if source is None or not hmac.compare_digest(mac, _mac(key, body)):
        raise Invalid("consult state failed its integrity check (tampered or forged)")
    return source


def contact_way_url(key: bytes, wecom_user_id: str, state: str) -> str:
    """The demo 联系我 QR URL. In production the `config_id` and QR come from WeCom's
    `externalcontact/add_contact_way` (type 1, scene 2, user [wecom_user_id]), configured by setting;
    here it is a keyed hash, so the URL is stable per staff member and does not reveal their WeCom id."""
    config_id = hmac.new(key, b"contact-way:" + wecom_user_id.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{CONTACT_WAY_BASE}{config_id}?state={state}"
