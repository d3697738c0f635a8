"""Live dashboards: a fresh view whenever the dataflow announces a change in a watched store.

The dataflow publishes a store announcement whenever it writes what it learnt about someone there (the
screens react to the same signal). One listener per process follows them, and only while someone watches
a dashboard. A watcher of a store, or of the mall it is in, is marked dirty; it renders again after a
short settling delay (the dataflow writes the store's figures in the same batch as the announcement, but
through another sink) and at most once per `min_interval_s`, so a burst of events is one push. Payments
are not announced: without news a watcher renders again every `refresh_s`, which also rolls the buckets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from guang.adapters.ports import StoreChange

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 1.0
SETTLE_S = 0.25
REFRESH_S = 10.0
T = TypeVar("T")


def store_topic(store_id: str) -> str:
    return f"store:{store_id}"


def mall_topic(mall_id: str) -> str:
    return f"mall:{mall_id}"


class DashboardHub:
    def __init__(
        self,
        *,
        changes: Callable[[], AsyncIterator[StoreChange]],
        mall_of: Callable[[str], str | None],
        min_interval_s: float = MIN_INTERVAL_S,
        settle_s: float = SETTLE_S,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._changes = changes
        self._mall_of = mall_of
        self._min_interval_s = min_interval_s
        self._settle_s = settle_s
        self._refresh_s = refresh_s
        self._watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    @property
    def watching(self) -> int:
        return sum(len(w) for w in self._watchers.values())

    @property
    def listening(self) -> bool:
        return self._task is not None and not self._task.done()

    async def watch(self, topic: str, render: Callable[[], Awaitable[T]]) -> AsyncGenerator[T, None]:
        """`render()` at once, then again after each change announced for `topic` (coalesced)."""
        dirty = asyncio.Event()
        self._watchers[topic].add(dirty)
        self._ensure_listening()
        try:
            yield await render()
            last = time.monotonic()
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(dirty.wait(), timeout=self._refresh_s)
                settle = self._settle_s if dirty.is_set() else 0.0
                wait = max(settle, self._min_interval_s - (time.monotonic() - last))
                if wait > 0:
                    await asyncio.sleep(wait)
                dirty.clear()
                yield await render()
                last = time.monotonic()
        finally:
            self._forget(topic, dirty)

    def notify(self, store_id: str) -> None:
        """Mark the watchers of the store and of its mall dirty."""
        topics = [store_topic(store_id)]
        mall_id = self._mall_of(store_id)
        if mall_id is not None:
            topics.append(mall_topic(mall_id))
        for topic in topics:
            for dirty in self._watchers.get(topic, ()):
                dirty.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _ensure_listening(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="dashboard-hub")

    def _forget(self, topic: str, dirty: asyncio.Event) -> None:
        watchers = self._watchers.get(topic)
        if watchers is not None:
            watchers.discard(dirty)
            if not watchers:
                del self._watchers[topic]
        if not self._watchers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _listen(self) -> None:
        while True:
            try:
                async for change in self._changes():
                    self.notify(change.store_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dashboard hub lost the store announcements; retrying")
                await asyncio.sleep(1.0)
