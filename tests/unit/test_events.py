from __future__ import annotations

from typing import Any

import pytest

from guang.domain.events import DwellEvent, EventRejected, event_from_json, event_to_json, parse_event


def dwell(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "e-1",
        "type": "dwell",
        "ts_ms": 1_790_000_000_000,
        "store_id": "store-001",
        "visitor_id": "v-1",
        "zone_id": "z-store-001-1",
        "sku_ids": ["sku-000001"],
        "dwell_ms": 40_000,
    }
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


def reason_for(raw: Any) -> str:
    with pytest.raises(EventRejected) as caught:
        parse_event(raw)
    return caught.value.reason


def test_a_valid_dwell_event_parses_to_its_type_and_round_trips() -> None:
    event = parse_event(dwell())
    assert isinstance(event, DwellEvent)
    assert event.subject_id == "v:v-1"
    assert event_from_json(event_to_json(event)) == event


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([1, 2], "must be a JSON object"),
        (dwell(type="teleport"), "type: must be one of"),
        (dwell(event_id=None), "event_id: Field required"),
        (dwell(dwell_ms=-5), "dwell_ms: Input should be greater than or equal to 0"),
        (dwell(ts_ms=1234), "ts_ms: Input should be greater than or equal to"),
        (dwell(user_id="m-1"), "exactly one of user_id or visitor_id"),
        (dwell(visitor_id=None), "exactly one of user_id or visitor_id"),
        (dwell(store_id=None), "store_id is required"),
        (dwell(colour="red"), "colour: Extra inputs are not permitted"),
        (dwell(event_id="a b"), "event_id: String should match pattern"),
    ],
)
def test_a_bad_event_is_refused_with_a_precise_reason(raw: Any, expected: str) -> None:
    assert expected in reason_for(raw)


def test_match_score_is_only_for_consented_members() -> None:
    face = {"event_id": "f-1", "type": "face", "ts_ms": 1_790_000_000_000, "store_id": "s", "action": "seen"}
    assert "match_score is only allowed" in reason_for({**face, "visitor_id": "v", "match_score": 0.8})
    assert parse_event({**face, "user_id": "m-1", "match_score": 0.8}).subject_id == "u:m-1"
