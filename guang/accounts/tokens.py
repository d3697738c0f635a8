"""Our session tokens: HS256 JWTs signed with a key derived from the secret, with an expiry."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Protocol

import jwt

from guang.accounts.models import Principal, Role
from guang.domain.errors import Unauthenticated

ISSUER = "guang"
ALGORITHM = "HS256"


def _signing_key(secret: str) -> bytes:
    """A key used only for session JWTs, so a leaked device token key cannot mint sessions."""
    return hmac.new(secret.encode(), b"guang-session-jwt", hashlib.sha256).digest()


def _key_id(key: bytes) -> str:
    """Names a signing key in the token header (not secret: a hash of a derived key)."""
    return hashlib.sha256(b"kid:" + key).hexdigest()[:12]


class Revocations(Protocol):
    def is_revoked(self, subject_id: str, *, issued_ms: int) -> bool: ...


class SessionTokens:
    """Signs with the current secret; also accepts sessions signed with `previous_secrets` until they
    expire, so the secret can be rotated without logging everyone out (the header's `kid` names the key)."""

    def __init__(
        self,
        *,
        secret: str,
        ttl_s: int,
        privileged_ttl_s: int | None = None,
        previous_secrets: Sequence[str] = (),
    ) -> None:
        self._key = _signing_key(secret)
        self._kid = _key_id(self._key)
        self._keys = {_key_id(k): k for k in (_signing_key(s) for s in previous_secrets)} | {
            self._kid: self._key
        }
        self._ttl_s = ttl_s
        self._privileged_ttl_s = privileged_ttl_s if privileged_ttl_s is not None else ttl_s
        self._revocations: Revocations | None = None

    def check_revocations(self, revocations: Revocations) -> None:
        """From now on a session whose subject was revoked after it was issued is refused."""
        self._revocations = revocations

    @property
    def longest_ttl_s(self) -> int:
        return max(self._ttl_s, self._privileged_ttl_s)

    def ttl_for(self, role: Role) -> int:
        """Staff and admin scopes change (moves, departures): their sessions are shorter."""
        return self._ttl_s if role is Role.SHOPPER else self._privileged_ttl_s

    def issue(self, principal: Principal, *, now: float | None = None) -> str:
        at = now if now is not None else time.time()
        issued = int(at)
        claims = {
            "iss": ISSUER,
            "sub": principal.subject_id,
            "role": principal.role.value,
            "iat": issued,
            "iat_ms": int(at * 1000),
            "exp": issued + self.ttl_for(principal.role),
            **{k: v for k in ("store_id", "brand_id", "mall_id") if (v := getattr(principal, k)) is not None},
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid", self._kid)
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise Unauthenticated("session signed with a key that is no longer accepted: log in again")
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]}
            )
            role = Role(claims["role"])
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("session expired: log in again") from error
        except (jwt.InvalidTokenError, KeyError, ValueError) as error:
            raise Unauthenticated(f"invalid session token: {error}") from error
        issued_ms = int(claims.get("iat_ms", int(claims.get("iat", 0)) * 1000))
        if self._revocations is not None and self._revocations.is_revoked(
            str(claims["sub"]), issued_ms=issued_ms
        ):
            raise Unauthenticated("this session was ended: the account's data was deleted")
        return Principal(
            subject_id=str(claims["sub"]),
            role=role,
            store_id=claims.get("store_id"),
            brand_id=claims.get("brand_id"),
            mall_id=claims.get("mall_id"),
        )

    def from_header(self, authorization: str | None) -> Principal | None:
        """The principal of an `Authorization: Bearer <jwt>` header; None when there is no header."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <session token>'")
        return self.verify(token.strip())
