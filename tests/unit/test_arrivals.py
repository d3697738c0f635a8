from __future__ import annotations

from guang.domain.events import FaceEvent
from guang.domain.signals import Signal
from stream.arrivals import member_arrivals

T0 = 1_790_000_000_000


def face(action: str, **subject: str) -> FaceEvent:
    return FaceEvent.model_validate(
        {
            "type": "face",
            "event_id": "f1",
            "ts_ms": T0,
            "store_id": "s1",
            "mall_id": "m1",
            "action": action,
            **subject,
        }
    )


def test_a_member_entering_is_an_arrival_and_visitors_or_later_sightings_are_not() -> None:
    assert member_arrivals(face("enter", user_id="m-7")) == [
        Signal("member_arrival", "u:m-7", "m1", "s1", T0, "f1")
    ]
    assert member_arrivals(face("seen", user_id="m-7")) == []
    assert member_arrivals(face("enter", visitor_id="v-1")) == []
