"""Property-based checks (hypothesis) that untrusted input is refused with a reason and never takes good
events down with it: any JSON at all for one event, any mix of good and bad events in a batch, any
numbers for a position."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guang.domain.errors import Invalid
from guang.domain.events import EVENT_TYPES, EventRejected, parse_event
from guang.domain.geo import check_position
from guang.services.ingest import ingest_batch
from tests.unit.test_ingest import CAMERA, FakeBus, dwell, nobody

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
FIELDS = ["event_id", "type", "ts_ms", "store_id", "mall_id", "visitor_id", "user_id", "zone_id", "dwell_ms",
          "action", "sku_ids", "match_score", "lat", "lng", "order_id", "items", "v"]  # fmt: skip
EVENTISH = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=8),
    JSON
    | st.sampled_from([*EVENT_TYPES, "enter", "z1", "store-A", 1_790_000_000_000, -1, 10**20, "\u202e\x00"]),
    max_size=10,
)
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(EVENTISH | JSON)
def test_any_json_for_an_event_is_either_a_typed_event_or_a_refusal_with_a_reason(raw: Any) -> None:
    try:
        event = parse_event(raw)
    except EventRejected as refused:
        assert refused.reason and len(refused.reason) < 2_000
        return
    assert event.type in EVENT_TYPES and (event.user_id is None) != (event.visitor_id is None)


GOOD = st.integers(0, 10**6).map(lambda n: (True, dwell(f"good-{n}")))
OTHER = (EVENTISH | JSON).map(lambda item: (False, item))


@QUICK
@given(st.lists(GOOD | OTHER, max_size=30))
def test_every_good_event_of_a_batch_is_kept_whatever_else_is_in_it(tagged: list[tuple[bool, Any]]) -> None:
    body = [item for _, item in tagged]
    bus = FakeBus()
    results = asyncio.run(ingest_batch(body, device=CAMERA, bus=bus, max_events=1000, face_consented=nobody))

    assert [r.index for r in results] == list(range(len(body)))
    assert {f"store-A:{item['event_id']}" for good, item in tagged if good} <= set(bus.events)
    for result in results:
        assert result.status in {"accepted", "duplicate", "rejected"}
        assert (result.status == "rejected") == bool(result.reason)


@QUICK
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_a_position_is_on_earth_or_refused_with_a_reason(lat: float, lng: float) -> None:
    on_earth = math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180
    try:
        check_position(lat, lng)
    except Invalid as refused:
        assert not on_earth and "not a position on Earth" in refused.message
        return
    assert on_earth
