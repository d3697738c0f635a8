"""Store-wide lists shared by everyone asking about the same store within a short window.

A store's SCREEN list depends only on who is in the store, which changes when the dataflow announces
it. Lists are therefore reused for at most `ttl_s`, dropped at once when the store changes, and
computed once per store however many requests arrive together (single flight). A computation that
started before a change is never joined by, nor cached for, requests that arrive after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from recsys.models import RecList, Surface

Compute = Callable[[str, int, Surface], Awaitable[RecList]]


@dataclass(frozen=True)
class _Entry:
    recs: RecList
    at: float
    version: int


class StoreListCache:
    def __init__(self, compute: Compute, *, ttl_s: float) -> None:
        self._compute = compute
        self._ttl_s = ttl_s
        self._entries: dict[tuple[str, int, Surface], _Entry] = {}
        self._inflight: dict[tuple[str, int, Surface, int], asyncio.Future[RecList]] = {}
        self._versions: dict[str, int] = {}
        self.reused = 0
        self.computed = 0

    def invalidate(self, store_id: str) -> None:
        """Something changed in the store: the next request computes a fresh list."""
        self._versions[store_id] = self._versions.get(store_id, 0) + 1

    async def get(self, store_id: str, *, limit: int, surface: Surface) -> RecList:
        key = (store_id, limit, surface)
        version = self._versions.get(store_id, 0)
        entry = self._entries.get(key)
        if entry is not None and entry.version == version and time.monotonic() - entry.at < self._ttl_s:
            self.reused += 1
            return entry.recs
        flight = (*key, version)
        pending = self._inflight.get(flight)
        if pending is not None:
            self.reused += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[RecList] = asyncio.get_running_loop().create_future()
        self._inflight[flight] = future
        self.computed += 1
        try:
            recs = await self._compute(store_id, limit, surface)
            if self._versions.get(store_id, 0) == version:
                self._entries[key] = _Entry(recs, time.monotonic(), version)
            future.set_result(recs)
            return recs
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters get it, nobody logs "never retrieved"
            raise
        finally:
            del self._inflight[flight]
