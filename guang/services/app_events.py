"""Events the API itself produces (locations, interactions, payments), onto the same bus as devices'."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from guang.adapters.ports import EventBus
from guang.domain.events import BaseEvent, event_to_json


def new_event_id() -> str:
    return uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)


class AppEvents:
    def __init__(self, bus: EventBus, *, namespace: str = "app") -> None:
        self._bus = bus
        self._namespace = namespace

    async def emit(self, event: BaseEvent, *, dedupe_id: str | None = None) -> bool:
        """Publish once per `dedupe_id` (default: the event id); False when it was already published."""
        key = f"{self._namespace}:{dedupe_id or event.event_id}"
        [result] = await self._bus.publish([(key, event_to_json(event))])
        return result.accepted

    async def emit_many(self, events: Sequence[tuple[BaseEvent, str | None]]) -> int:
        """Publish (event, dedupe_id) pairs in one round trip; return how many were new."""
        if not events:
            return 0
        results = await self._bus.publish(
            [(f"{self._namespace}:{dedupe or e.event_id}", event_to_json(e)) for e, dedupe in events]
        )
        return sum(1 for r in results if r.accepted)
