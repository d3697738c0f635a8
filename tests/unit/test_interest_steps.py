from __future__ import annotations

from guang.domain.events import DwellEvent, FaceEvent, LocationEvent
from stream.steps import InterestConfig, dwell_weight, update_interest

T0 = 1_790_000_000_000
CONFIG = InterestConfig(half_life_s=60.0, zone_categories={"z-jeans": "牛仔裤", "z-coats": "外套"})


def dwell(event_id: str, zone: str, ts: int = T0, ms: int = 40_000) -> DwellEvent:
    return DwellEvent(
        type="dwell", event_id=event_id, ts_ms=ts, store_id="s1", visitor_id="v1", zone_id=zone,
        sku_ids=["sku-1", "sku-2"], dwell_ms=ms,
    )  # fmt: skip


def test_dwell_builds_category_and_sku_interest_with_the_shelf_as_reason() -> None:
    _, features = update_interest(None, dwell("e1", "z-jeans"), config=CONFIG)
    assert features is not None
    assert features.category_scores == {"牛仔裤": dwell_weight(40_000)}
    assert features.sku_scores == {"sku-1": 2.0, "sku-2": 2.0}
    assert features.last_dwell is not None and features.last_dwell.zone_id == "z-jeans"
    assert features.store_id == "s1" and features.present


def test_the_same_event_id_twice_changes_nothing() -> None:
    state, first = update_interest(None, dwell("e1", "z-jeans"), config=CONFIG)
    state, second = update_interest(state, dwell("e1", "z-jeans"), config=CONFIG)
    assert second is None
    assert state is not None and state.features == first


def test_older_interest_decays_with_event_time() -> None:
    state, _ = update_interest(None, dwell("e1", "z-jeans"), config=CONFIG)
    _, later = update_interest(state, dwell("e2", "z-coats", ts=T0 + 60_000), config=CONFIG)
    assert later is not None
    assert later.category_scores["牛仔裤"] == 2.0  # one half-life later: 4.0 -> 2.0
    assert later.category_scores["外套"] == 4.0


def test_a_late_event_counts_less_and_does_not_move_the_clock_back() -> None:
    state, _ = update_interest(None, dwell("e1", "z-jeans", ts=T0 + 60_000), config=CONFIG)
    _, features = update_interest(state, dwell("e0", "z-coats", ts=T0), config=CONFIG)
    assert features is not None
    assert features.ts_ms == T0 + 60_000
    assert features.category_scores["外套"] == 2.0
    assert features.last_dwell is not None and features.last_dwell.zone_id == "z-jeans"


def test_face_exit_marks_the_subject_gone_and_other_events_pass_through() -> None:
    state, _ = update_interest(None, dwell("e1", "z-jeans"), config=CONFIG)
    exit_event = FaceEvent(
        type="face", event_id="f1", ts_ms=T0 + 1, store_id="s1", visitor_id="v1", action="exit"
    )
    state, features = update_interest(state, exit_event, config=CONFIG)
    assert features is not None and not features.present
    location = LocationEvent(
        type="location",
        event_id="l1",
        ts_ms=T0,
        visitor_id="v1",
        lat=31.2,
        lng=121.4,
        accuracy_m=10,
        source="gps",
    )
    assert update_interest(state, location, config=CONFIG) == (state, None)
