"""Revoked sessions: a deleted member's old token is refused, a later login's token is not."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from guang.accounts.models import Principal, Role
from guang.accounts.revocations import SessionRevocations, revocation_key
from guang.accounts.tokens import SessionTokens
from guang.domain.errors import Unauthenticated


class FakeDocuments:
    """Just what SessionRevocations uses."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def upsert(self, collection: str, doc_id: str, doc: Mapping[str, Any]) -> None:
        self.docs[doc_id] = {**doc, "_id": doc_id}

    async def delete_many(self, collection: str, query: Mapping[str, Any]) -> int:
        old = [k for k, d in self.docs.items() if d["until_ms"] < query["until_ms"]["$lt"]]
        for key in old:
            del self.docs[key]
        return len(old)

    async def find(self, collection: str, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [d for d in self.docs.values() if d["until_ms"] > query["until_ms"]["$gt"]]


SHOPPER = Principal(subject_id="m-1", role=Role.SHOPPER)


async def test_a_revoked_members_earlier_sessions_are_refused_and_later_ones_work() -> None:
    documents = FakeDocuments()
    revocations = SessionRevocations(documents=documents, keep_ms=3_600_000)  # type: ignore[arg-type]
    tokens = SessionTokens(secret="s", ttl_s=3600)
    tokens.check_revocations(revocations)
    now_ms = int(time.time() * 1000)
    old = tokens.issue(SHOPPER, now=now_ms / 1000 - 5)
    other = tokens.issue(Principal(subject_id="m-2", role=Role.SHOPPER), now=now_ms / 1000 - 5)
    assert tokens.verify(old) == SHOPPER
    await revocations.revoke("m-1", at_ms=now_ms - 2000)
    with pytest.raises(Unauthenticated):
        tokens.verify(old)
    assert tokens.verify(other).subject_id == "m-2"
    assert tokens.verify(tokens.issue(SHOPPER, now=now_ms / 1000 - 1)) == SHOPPER
    assert list(documents.docs) == [revocation_key("m-1")] and "m-1" not in str(documents.docs)


async def test_another_process_learns_revocations_from_the_documents() -> None:
    documents = FakeDocuments()
    here = SessionRevocations(documents=documents, keep_ms=3_600_000)  # type: ignore[arg-type]
    there = SessionRevocations(documents=documents, keep_ms=3_600_000)  # type: ignore[arg-type]
    await here.revoke("m-1", at_ms=int(time.time() * 1000))
    await there.refresh()
    assert there.is_revoked("m-1", issued_ms=0) and not there.is_revoked("m-2", issued_ms=0)


async def test_a_restarted_process_knows_every_revocation_before_it_serves() -> None:
    documents = FakeDocuments()
    await SessionRevocations(documents=documents, keep_ms=3_600_000).revoke(  # type: ignore[arg-type]
        "m-1", at_ms=int(time.time() * 1000)
    )
    restarted = SessionRevocations(documents=documents, keep_ms=3_600_000)  # type: ignore[arg-type]
    await restarted.current()
    assert restarted.is_revoked("m-1", issued_ms=0)
