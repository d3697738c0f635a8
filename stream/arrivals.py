"""A consented member recognised entering a store: the moment their advisors' inbox and the nearest
screen act on. Only members with an active face consent get this far (see intake.face_consent_gate)."""

from __future__ import annotations

from guang.domain.events import Event, FaceEvent
from guang.domain.signals import Signal


def member_arrivals(event: Event) -> list[Signal]:
    if not (isinstance(event, FaceEvent) and event.action == "enter" and event.user_id and event.store_id):
        return []
    return [
        Signal(
            "member_arrival",
            event.subject_id,
            event.mall_id or "",
            event.store_id,
            event.ts_ms,
            event.event_id,
        )
    ]
