"""Session tokens across a rotation of the secret: old sessions last until they expire, no longer."""

from __future__ import annotations

import time

import jwt
import pytest

from guang.accounts.models import Principal, Role
from guang.accounts.tokens import SessionTokens
from guang.domain.errors import Unauthenticated

SHOPPER = Principal(subject_id="m-1", role=Role.SHOPPER)
STAFF = Principal(subject_id="st-1", role=Role.STAFF, store_id="store-1")


def test_after_rotation_old_sessions_work_until_they_expire_and_new_ones_use_the_new_key() -> None:
    before = SessionTokens(secret="old", ttl_s=3600)
    old_session = before.issue(SHOPPER)
    expired = before.issue(SHOPPER, now=time.time() - 7200)
    after = SessionTokens(secret="new", ttl_s=3600, previous_secrets=["old"])
    fresh = after.issue(STAFF)

    assert after.verify(old_session) == SHOPPER
    assert after.verify(fresh) == STAFF
    with pytest.raises(Unauthenticated, match="expired"):
        after.verify(expired)
    assert jwt.get_unverified_header(fresh)["kid"] != jwt.get_unverified_header(old_session)["kid"]
    with pytest.raises(Unauthenticated, match="no longer accepted"):
        SessionTokens(secret="new", ttl_s=3600).verify(old_session)  # the old secret retired
    with pytest.raises(Unauthenticated, match="no longer accepted"):
        before.verify(fresh)


def test_a_forged_key_id_or_signature_is_refused() -> None:
    tokens = SessionTokens(secret="s", ttl_s=3600)
    claims = jwt.decode(tokens.issue(SHOPPER), options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens.issue(SHOPPER))["kid"]
    forged = jwt.encode(claims, "a-guessed-key-of-thirty-two-bytes!", algorithm="HS256", headers={"kid": kid})
    with pytest.raises(Unauthenticated, match="invalid session token"):
        tokens.verify(forged)
    with pytest.raises(Unauthenticated, match="invalid session token"):
        tokens.verify("not-a-jwt")
