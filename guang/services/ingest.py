"""Accepting events from devices: validate each one, keep every good one, publish once per event_id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from guang.adapters.ports import EventBus
from guang.domain.events import BaseEvent, EventRejected, FaceEvent, event_to_json, parse_event
from guang.domain.models import Device

Status = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True)
class EventResult:
    index: int
    event_id: str | None
    status: Status
    reason: str | None = None


class BatchRejected(ValueError):
    """The body as a whole is unusable (not a list, too large)."""


ALLOWED_TYPES: dict[str, frozenset[str]] = {
    "camera": frozenset({"face", "dwell"}),
    "pos": frozenset({"payment"}),
    "screen": frozenset({"interaction"}),
}
"""What each kind of device may report; anything else from it is refused."""


def _check_device(event: BaseEvent, device: Device) -> None:
    kind = getattr(event, "type", "")
    if kind not in ALLOWED_TYPES.get(device.kind, frozenset()):
        raise EventRejected(f"type: a {device.kind} device may not send {kind} events", event.event_id)
    if event.mall_id is not None and event.mall_id != device.mall_id:
        raise EventRejected(
            f"mall_id: device {device.id} belongs to mall {device.mall_id}, not {event.mall_id}",
            event.event_id,
        )
    if event.store_id is not None and event.store_id != device.store_id:
        raise EventRejected(
            f"store_id: device {device.id} belongs to store {device.store_id}, not {event.store_id}",
            event.event_id,
        )
    if event.device_id is not None and event.device_id != device.id:
        raise EventRejected(
            f"device_id: token is for device {device.id}, not {event.device_id}", event.event_id
        )


def _stamp(raw: Any, device: Device) -> Any:
    """Fill in the fields the device is authoritative for, before validation."""
    if not isinstance(raw, dict):
        return raw
    defaults = {"store_id": device.store_id, "mall_id": device.mall_id, "device_id": device.id}
    return {**raw, **{k: v for k, v in defaults.items() if raw.get(k) is None}}


FaceConsented = Callable[[Sequence[str]], Awaitable[set[str]]]
"""Which of these members have an active face-recognition consent now."""


async def _refuse_unconsented_faces(
    parsed: list[tuple[int, BaseEvent]], consented: FaceConsented
) -> dict[int, EventResult]:
    """A face event naming a member is a recognition result: without the member's consent it must not
    enter the system at all (DESIGN §6). The camera should have sent an anonymous visitor id."""
    named = {e.user_id for _, e in parsed if isinstance(e, FaceEvent) and e.user_id is not None}
    if not named:
        return {}
    allowed = await consented(sorted(named))
    return {
        index: EventResult(
            index,
            event.event_id,
            "rejected",
            f"user_id: member {event.user_id} has no active face-recognition consent; "
            "send an anonymous visitor_id instead",
        )
        for index, event in parsed
        if isinstance(event, FaceEvent) and event.user_id is not None and event.user_id not in allowed
    }


async def ingest_batch(
    body: Any, *, device: Device, bus: EventBus, max_events: int, face_consented: FaceConsented
) -> list[EventResult]:
    """Validate and publish a batch; a bad event is reported and never blocks the others."""
    if not isinstance(body, list):
        raise BatchRejected("the body must be a JSON array of events")
    if len(body) > max_events:
        raise BatchRejected(f"at most {max_events} events per batch, got {len(body)}")
    results: dict[int, EventResult] = {}
    to_publish: list[tuple[int, BaseEvent]] = []
    for index, raw in enumerate(body):
        try:
            event: BaseEvent = parse_event(_stamp(raw, device))
            _check_device(event, device)
        except EventRejected as rejected:
            results[index] = EventResult(index, rejected.event_id, "rejected", rejected.reason)
            continue
        to_publish.append((index, event))
    refused = await _refuse_unconsented_faces(to_publish, face_consented)
    results.update(refused)
    to_publish = [(index, event) for index, event in to_publish if index not in refused]
    published = await bus.publish(
        (f"{device.store_id}:{e.event_id}", event_to_json(e)) for _, e in to_publish
    )
    for (index, event), outcome in zip(to_publish, published, strict=True):
        results[index] = EventResult(index, event.event_id, "accepted" if outcome.accepted else "duplicate")
    return [results[i] for i in range(len(body))]
