"""Pushes fresh recommendations to the screens of a store when the dataflow announces a change there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

from api import metrics
from guang.adapters.ports import FeatureStore
from recsys.models import RecList, Surface
from recsys.store_lists import StoreListCache

log = logging.getLogger(__name__)
REFRESH_S = 30.0


class ScreenHub:
    """One Redis subscription for the process; one recommendation per store change, fanned out."""

    def __init__(self, *, lists: StoreListCache, features: FeatureStore, items: int) -> None:
        self._lists = lists
        self._features = features
        self._items = items
        self._queues: dict[str, set[asyncio.Queue[RecList]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="screen-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def recommend(self, store_id: str) -> RecList:
        with metrics.recommendation_seconds.labels(Surface.SCREEN.value).time():
            return await self._lists.get(store_id, limit=self._items, surface=Surface.SCREEN)

    async def updates(self, store_id: str) -> AsyncIterator[RecList]:
        """The current list at once, then a new one on every change in the store (or every 30 s)."""
        queue: asyncio.Queue[RecList] = asyncio.Queue(maxsize=4)
        self._queues[store_id].add(queue)
        metrics.screens_connected.inc()
        try:
            yield await self.recommend(store_id)
            while True:
                try:
                    update = await asyncio.wait_for(queue.get(), timeout=REFRESH_S)
                except TimeoutError:
                    update = await self.recommend(store_id)
                metrics.screen_updates.inc()
                yield update
        finally:
            self._queues[store_id].discard(queue)
            metrics.screens_connected.dec()

    async def _listen(self) -> None:
        while True:
            try:
                async for change in self._features.store_changes():
                    self._lists.invalidate(change.store_id)
                    await self._on_change(change.store_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("screen hub lost the feature announcements; retrying")
                await asyncio.sleep(1.0)

    async def _on_change(self, store_id: str) -> None:
        queues = self._queues.get(store_id)
        if not queues:
            return
        update = await self.recommend(store_id)
        for queue in list(queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(update)
