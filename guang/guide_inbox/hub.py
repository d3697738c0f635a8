"""One reader of the signals stream per process, fanning each alert out to its staff member's open inboxes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

from guang.domain.signals import Signal
from guang.guide_inbox.models import GuideAlert
from guang.guide_inbox.ports import AlertLog, SignalFeed
from guang.guide_inbox.service import GuideInbox

log = logging.getLogger(__name__)
QUEUE_SIZE = 32
RETRY_S = 1.0


class GuideHub:
    """Started and stopped with the app. A subscriber gets only the alerts addressed to its staff id."""

    def __init__(self, *, feed: SignalFeed, inbox: GuideInbox, alerts: AlertLog) -> None:
        self._feed = feed
        self._inbox = inbox
        self._log = alerts
        self._queues: dict[str, set[asyncio.Queue[GuideAlert]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="guide-hub")

    async def stop(self) -> None:
        """Stop reading and let go of the connections (they reopen on next use, e.g. a restart)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._feed.close()
        await self._log.close()

    @contextlib.asynccontextmanager
    async def inbox(self, staff_id: str) -> AsyncIterator[asyncio.Queue[GuideAlert]]:
        """A queue of this staff member's alerts from now on, open while the context is."""
        queue: asyncio.Queue[GuideAlert] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues[staff_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[staff_id].discard(queue)
            if not self._queues[staff_id]:
                del self._queues[staff_id]

    async def recent(self, staff_id: str, *, skip: int, limit: int) -> list[GuideAlert]:
        return await self._log.recent(staff_id, skip=skip, limit=limit)

    async def handle(self, signal: Signal) -> list[GuideAlert]:
        """Alert the advisors a signal concerns: record each alert, then push it to open inboxes."""
        alerts = await self._inbox.alerts_for(signal)
        for alert in alerts:
            await self._log.record(alert)
            for queue in list(self._queues.get(alert.staff_id, ())):
                if queue.full():  # a phone that stopped reading loses its oldest alert, not the newest
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(alert)
        return alerts

    async def _listen(self) -> None:
        while True:
            try:
                async for signal in self._feed.follow():
                    try:
                        await self.handle(signal)
                    except Exception:
                        log.exception("guide inbox could not handle signal %s; skipped", signal.dedupe_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("guide inbox lost the signals stream; retrying")
                await asyncio.sleep(RETRY_S)
