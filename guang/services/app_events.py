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

    async def emit_many(self, events: Sequence[BaseEvent]) -> None:
        """Publish a batch of fresh events (new ids, nothing to de-duplicate) in one round trip."""
        if events:
            await self._bus.publish([(f"{self._namespace}:{e.event_id}", event_to_json(e)) for e in events])
