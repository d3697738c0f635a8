"""Sessions voided before they expire: a member who deleted their data keeps no working token.

Token checks are synchronous (`SessionTokens.verify`), so they read memory. A revocation is written to
memory at once in this process and to the `session_revocations` documents for other API processes, which
re-read them before a GraphQL request when the copy is older than `refresh_s` (`current`). A record is kept
only until every session issued before it has expired, and names the member by a keyed hash, not by id.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

from guang.adapters.ports import DocumentStore

REVOCATIONS = "session_revocations"
REFRESH_S = 2.0


def _now_ms() -> int:
    return int(time.time() * 1000)


def revocation_key(subject_id: str) -> str:
    return hashlib.sha256(f"guang-revoked:{subject_id}".encode()).hexdigest()[:32]


class SessionRevocations:
    def __init__(self, *, documents: DocumentStore, keep_ms: int, refresh_s: float = REFRESH_S) -> None:
        self._documents = documents
        self._keep_ms = keep_ms
        self._refresh_s = refresh_s
        self._revoked: dict[str, tuple[int, int]] = {}
        """key -> (revoked at ms, forget after ms)."""
        self._read_at = float("-inf")
        self._refreshing: asyncio.Task[None] | None = None

    def is_revoked(self, subject_id: str, *, issued_ms: int) -> bool:
        """Whether a session of `subject_id` issued at `issued_ms` was revoked (issued at or before)."""
        self._refresh_soon()
        found = self._revoked.get(revocation_key(subject_id))
        return found is not None and issued_ms <= found[0] and _now_ms() < found[1]

    async def revoke(self, subject_id: str, *, at_ms: int) -> None:
        """Void every session of `subject_id` issued up to `at_ms`; idempotent."""
        key = revocation_key(subject_id)
        until = at_ms + self._keep_ms
        self._revoked[key] = (max(at_ms, self._revoked.get(key, (0, 0))[0]), until)
        await self._documents.upsert(REVOCATIONS, key, {"at_ms": self._revoked[key][0], "until_ms": until})
        await self._documents.delete_many(REVOCATIONS, {"until_ms": {"$lt": at_ms}})

    async def refresh(self) -> None:
        """Re-read the revocations other processes wrote; forget expired ones."""
        now = _now_ms()
        docs = await self._documents.find(REVOCATIONS, {"until_ms": {"$gt": now}})
        fresh = {str(d["_id"]): (int(d["at_ms"]), int(d["until_ms"])) for d in docs}
        mine = {k: v for k, v in self._revoked.items() if v[1] > now and k not in fresh}
        self._revoked = fresh | mine
        self._read_at = time.monotonic()

    async def current(self) -> None:
        """Make sure what `is_revoked` reads is at most `refresh_s` old: awaited before each GraphQL
        request, so a restarted process never serves a revoked session, and another process within
        `refresh_s` of the revocation."""
        if time.monotonic() - self._read_at < self._refresh_s:
            return
        if self._refreshing is not None and not self._refreshing.done():
            await asyncio.shield(self._refreshing)
            return
        self._read_at = time.monotonic()
        self._refreshing = asyncio.get_running_loop().create_task(self.refresh())
        await asyncio.shield(self._refreshing)

    def _refresh_soon(self) -> None:
        if time.monotonic() - self._read_at < self._refresh_s:
            return
        if self._refreshing is not None and not self._refreshing.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._read_at = time.monotonic()  # one refresh per period, even if it fails
        self._refreshing = loop.create_task(self.refresh())
