"""Signals a shopper's phone sends about recommendation lists, and the demo's stand-in for a camera."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from guang.adapters.ports import FeatureStore
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.events import DwellEvent, InteractionEvent
from guang.services.app_events import AppEvents, new_event_id, now_ms
from guang.services.catalog import Catalog, CatalogZone

MAX_INTERACTIONS = 50
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_DWELL_S = 600


@dataclass(frozen=True)
class Interaction:
    action: str
    target_type: str
    target_id: str
    surface: str
    rec_id: str | None = None
    client_event_id: str | None = None
    """The phone's own id for this interaction: sending it again (a retry) changes nothing."""


@dataclass(frozen=True)
class Refusal:
    index: int
    reason: str


@dataclass(frozen=True)
class SimulatedDwell:
    event_id: str
    store_id: str
    zone_id: str
    zone_name: str
    category: str
    dwell_ms: int


def _first_error(error: ValidationError) -> str:
    item = error.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in item['loc']) or 'event'}: {item['msg']}"


class Signals:
    def __init__(self, *, events: AppEvents, features: FeatureStore, catalog: Catalog, demo: bool) -> None:
        self._events = events
        self._features = features
        self._catalog = catalog
        self._demo = demo

    async def log_interactions(
        self, *, member_id: str, interactions: Sequence[Interaction]
    ) -> tuple[int, list[Refusal]]:
        """Impressions, clicks … of one shopper; every valid one is kept, each invalid one refused alone."""
        if not 1 <= len(interactions) <= MAX_INTERACTIONS:
            raise Invalid(f"send between 1 and {MAX_INTERACTIONS} interactions at a time")
        at = now_ms()
        refused: list[Refusal] = []
        valid: list[tuple[InteractionEvent, str | None]] = []
        for index, item in enumerate(interactions):
            try:
                event = InteractionEvent.model_validate(
                    {
                        "type": "interaction", "event_id": new_event_id(), "ts_ms": at, "user_id": member_id,
                        "action": item.action, "target_type": item.target_type, "target_id": item.target_id,
                        "surface": item.surface, "rec_id": item.rec_id,
                    }
                )  # fmt: skip
            except ValidationError as error:
                refused.append(Refusal(index, _first_error(error)))
                continue
            if item.client_event_id is not None and not CLIENT_ID.fullmatch(item.client_event_id):
                refused.append(Refusal(index, "eventId: 8–64 letters, digits, '-' or '_'"))
                continue
            dedupe = f"interaction:{member_id}:{item.client_event_id}" if item.client_event_id else None
            valid.append((event, dedupe))
        await self._events.emit_many(valid)
        return len(valid), refused

    async def simulate_dwell(
        self, *, member_id: str, store_id: str, seconds: int, zone_id: str | None = None
    ) -> SimulatedDwell:
        """Demo mode only: what the store's camera reports when this shopper stands at a shelf."""
        if not self._demo:
            raise Forbidden("dwell is simulated only in demo mode (`guang demo`)")
        if not 1 <= seconds <= MAX_DWELL_S:
            raise Invalid(f"seconds must be between 1 and {MAX_DWELL_S}")
        store = self._catalog.stores.get(store_id)
        if store is None:
            raise NotFound(f"unknown store {store_id}")
        if not await self._features.face_consented([member_id]):
            raise Forbidden(
                "a camera may recognise you only after you turn on face recognition (FACE consent)"
            )
        zone = self._zone(store_id, zone_id)
        event = DwellEvent(
            type="dwell", event_id=new_event_id(), ts_ms=now_ms(), user_id=member_id, mall_id=store.mall_id,
            store_id=store_id, zone_id=zone.id, dwell_ms=seconds * 1000,
        )  # fmt: skip
        await self._events.emit(event)
        return SimulatedDwell(event.event_id, store_id, zone.id, zone.name, zone.category, event.dwell_ms)

    def _zone(self, store_id: str, zone_id: str | None) -> CatalogZone:
        shelves = [z for z in self._catalog.zones.values() if z.store_id == store_id and z.kind == "shelf"]
        if zone_id is not None:
            found = next((z for z in shelves if z.id == zone_id), None)
            if found is None:
                raise NotFound(f"store {store_id} has no shelf zone {zone_id}")
            return found
        if not shelves:
            raise NotFound(f"store {store_id} has no shelf zones")
        return random.choice(shelves)
