from __future__ import annotations

import math
from typing import Literal

from guang.domain.events import DwellEvent, LocationEvent
from guang.domain.models import GeoPoint, Mall, Store
from guang.domain.writes import Delete, Put
from stream.geofence import (
    GeofenceConfig,
    Geofences,
    GeofenceState,
    Signal,
    haversine_m,
    update_geofence,
    where_key,
)

T0 = 1_790_000_000_000
KERRY = (31.2236, 121.4456)  # 上海 静安嘉里中心, radius 250 m
RAFFLES = (31.2335, 121.4747)  # 上海 来福士, radius 200 m
FENCES = Geofences.build(
    malls=[("m-kerry", *KERRY, 250.0), ("m-raffles", *RAFFLES, 200.0)],
    stores=[("s-a", "m-kerry", KERRY[0], KERRY[1] + 0.00063), ("s-b", "m-kerry", *KERRY, 20.0)],
)  # s-a: ~60 m east of the centre, default radius 30 m; s-b: at the centre, 20 m
CONFIG = GeofenceConfig(mall_exit_margin_m=50, store_exit_margin_m=10, max_accuracy_m=200)
WHERE = where_key("v:v1")


def near(centre: tuple[float, float], north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    lat, lng = centre
    metres_per_deg = math.pi * 6_371_008.8 / 180
    return lat + north_m / metres_per_deg, lng + east_m / (metres_per_deg * math.cos(math.radians(lat)))


def fix(
    event_id: str,
    ts: int,
    where: tuple[float, float],
    *,
    accuracy: float = 10.0,
    source: Literal["gps", "wifi", "parking_gate"] = "gps",
    mall_id: str | None = None,
) -> LocationEvent:
    return LocationEvent(
        type="location", event_id=event_id, ts_ms=T0 + ts * 1000, visitor_id="v1", mall_id=mall_id,
        lat=where[0], lng=where[1], accuracy_m=accuracy, source=source,
    )  # fmt: skip


def run(
    events: list[LocationEvent], state: GeofenceState | None = None
) -> tuple[GeofenceState | None, list[object]]:
    out: list[object] = []
    for event in events:
        state, emitted = update_geofence(state, event, fences=FENCES, config=CONFIG)
        out.extend(emitted)
    return state, out


def signals(out: list[object]) -> list[tuple[str, str, str | None, str]]:
    return [(s.kind, s.mall_id, s.store_id, s.event_id) for s in out if isinstance(s, Signal)]


def test_the_test_geometry_is_what_it_claims() -> None:
    assert abs(haversine_m(*KERRY, *near(KERRY, north_m=270)) - 270) < 0.5
    assert abs(haversine_m(*KERRY, *near(KERRY, east_m=60)) - FENCES.stores["s-a"].distance_m(*KERRY)) < 1
    assert 2_900 < haversine_m(*KERRY, *RAFFLES) < 3_100


def test_crossing_in_gives_one_arrival_and_writes_where() -> None:
    state, out = run(
        [
            fix("e1", 0, near(KERRY, north_m=600)),
            fix("e2", 10, near(KERRY, north_m=240)),
            fix("e3", 20, near(KERRY, north_m=150)),
            fix("e4", 30, near(KERRY, north_m=100)),
        ]
    )
    assert out == [
        Signal("arrival", "v:v1", "m-kerry", None, T0 + 10_000, "e2"),
        Put(WHERE, "m-kerry", field="mall"),
        Put(WHERE, T0 + 10_000, field="ts"),
    ]
    assert state is not None
    assert (state.mall_id, state.store_id, state.ts_ms) == ("m-kerry", None, T0 + 30_000)


def test_jitter_just_outside_the_border_does_not_exit() -> None:
    _, out = run(
        [
            fix("e1", 0, near(KERRY, north_m=200)),
            fix("e2", 10, near(KERRY, north_m=270)),  # outside the radius, inside the margin
            fix("e3", 20, near(KERRY, north_m=245)),
            fix("e4", 30, near(KERRY, east_m=290)),
            fix("e5", 40, near(KERRY, north_m=230)),
        ]
    )
    assert signals(out) == [("arrival", "m-kerry", None, "e1")]


def test_a_clear_exit_gives_one_exit_and_deletes_the_mall() -> None:
    state, out = run([fix("e1", 0, near(KERRY, north_m=100))])
    state, out = run(
        [
            fix("e2", 10, near(KERRY, north_m=400)),
            fix("e3", 20, near(KERRY, north_m=500)),
            fix("e4", 30, near(KERRY, north_m=260)),  # back near the border, but not inside
        ],
        state,
    )
    assert out == [
        Signal("exit", "v:v1", "m-kerry", None, T0 + 10_000, "e2"),
        Delete(WHERE, member="mall"),
        Put(WHERE, T0 + 10_000, field="ts"),
    ]


def test_two_consecutive_fixes_just_outside_are_an_exit() -> None:
    _, out = run(
        [
            fix("e1", 0, near(KERRY, north_m=100)),
            fix("e2", 10, near(KERRY, north_m=270)),
            fix("e3", 20, near(KERRY, north_m=280)),
        ]
    )
    assert signals(out) == [("arrival", "m-kerry", None, "e1"), ("exit", "m-kerry", None, "e3")]


def test_parking_gate_gives_parking_entry_and_arrival() -> None:
    gate = near(KERRY, north_m=280)  # gates sit at the edge: the event's mall_id decides, not the point
    state, out = run([fix("g1", 0, gate, accuracy=500, source="parking_gate", mall_id="m-kerry")])
    assert out == [
        Signal("parking_entry", "v:v1", "m-kerry", None, T0, "g1"),
        Signal("arrival", "v:v1", "m-kerry", None, T0, "g1"),
        Put(WHERE, "m-kerry", field="mall"),
        Put(WHERE, T0, field="ts"),
    ]
    state, out = run(
        [
            fix("e1", 10, near(KERRY, north_m=200)),
            fix("g2", 20, gate, source="parking_gate", mall_id="m-kerry"),
        ],
        state,
    )
    assert signals(out) == [("parking_entry", "m-kerry", None, "g2")]


def test_parking_gate_without_mall_id_uses_the_mall_around_it_and_leaves_the_old_one() -> None:
    _, out = run(
        [
            fix("e1", 0, near(KERRY)),
            fix("g1", 600, near(RAFFLES, east_m=150), source="parking_gate"),
            fix("g2", 700, near(RAFFLES, east_m=2_000), source="parking_gate"),  # no mall: nothing
        ]
    )
    assert signals(out) == [
        ("arrival", "m-kerry", None, "e1"),
        ("store_enter", "m-kerry", "s-b", "e1"),
        ("store_exit", "m-kerry", "s-b", "g1"),
        ("exit", "m-kerry", None, "g1"),
        ("parking_entry", "m-raffles", None, "g1"),
        ("arrival", "m-raffles", None, "g1"),
    ]


def test_fixes_of_poor_accuracy_decide_nothing() -> None:
    state, out = run(
        [
            fix("e1", 0, near(KERRY, north_m=100), accuracy=350),  # would be an arrival
            fix("e2", 10, near(KERRY, north_m=100)),
            fix("e3", 20, near(KERRY, north_m=3_000), accuracy=800),  # would be an exit
        ]
    )
    assert signals(out) == [("arrival", "m-kerry", None, "e2")]
    assert state is not None and state.mall_id == "m-kerry" and state.ts_ms == T0 + 10_000


def test_late_and_duplicate_fixes_change_nothing() -> None:
    state, _ = run([fix("e1", 60, near(KERRY, north_m=100))])
    state, out = run(
        [
            fix("e0", 0, near(KERRY, north_m=1_000)),  # older than what is known: ignored
            fix("e2", 70, near(KERRY, north_m=1_000)),
            fix("e2", 80, near(KERRY, north_m=100)),  # same event id again: ignored
        ],
        state,
    )
    assert signals(out) == [("exit", "m-kerry", None, "e2")]
    assert state is not None and state.mall_id is None and state.ts_ms == T0 + 70_000


def test_store_enter_and_exit_inside_the_mall() -> None:
    _, out = run(
        [
            fix("e1", 0, near(KERRY, east_m=60)),  # arrival and into s-a at once
            fix("e2", 10, near(KERRY, east_m=95)),  # 35 m from s-a: within its margin
            fix("e3", 20, near(KERRY, east_m=70)),
            fix("e4", 30, near(KERRY, east_m=5)),  # 55 m from s-a, inside s-b
            fix("e5", 40, near(KERRY, north_m=400)),  # out of the mall from inside a store
        ]
    )
    assert signals(out) == [
        ("arrival", "m-kerry", None, "e1"),
        ("store_enter", "m-kerry", "s-a", "e1"),
        ("store_exit", "m-kerry", "s-a", "e4"),
        ("store_enter", "m-kerry", "s-b", "e4"),
        ("store_exit", "m-kerry", "s-b", "e5"),
        ("exit", "m-kerry", None, "e5"),
    ]
    writes = [w for w in out if not isinstance(w, Signal)]
    assert writes == [
        Put(WHERE, "m-kerry", field="mall"),
        Put(WHERE, "s-a", field="store"),
        Put(WHERE, T0, field="ts"),
        Put(WHERE, "s-b", field="store"),
        Put(WHERE, T0 + 30_000, field="ts"),
        Delete(WHERE, member="mall"),
        Delete(WHERE, member="store"),
        Put(WHERE, T0 + 40_000, field="ts"),
    ]


def test_moving_straight_between_malls_exits_one_and_arrives_at_the_other() -> None:
    _, out = run([fix("e1", 0, near(KERRY, north_m=200)), fix("e2", 900, near(RAFFLES))])
    assert signals(out) == [
        ("arrival", "m-kerry", None, "e1"),
        ("exit", "m-kerry", None, "e2"),
        ("arrival", "m-raffles", None, "e2"),
    ]


def test_other_events_pass_through_and_fences_build_from_models() -> None:
    dwell = DwellEvent(
        type="dwell", event_id="d1", ts_ms=T0, store_id="s-a", visitor_id="v1", zone_id="z1", dwell_ms=1
    )
    assert update_geofence(None, dwell, fences=FENCES, config=CONFIG) == (None, [])
    centre = GeoPoint.at(lat=KERRY[0], lng=KERRY[1])
    fences = Geofences.from_models(
        [Mall(id="m1", name="静安嘉里中心", city_id="sh", district="静安", location=centre)],
        [Store(id="s1", name="A", brand_id="b", mall_id="m1", floor="B1", location=centre)],
    )
    assert fences.mall_at(*near(KERRY, north_m=240)) == "m1"
    assert fences.mall_at(*near(KERRY, north_m=260)) is None
    assert fences.store_at("m1", *near(KERRY, east_m=25)) == "s1"
    assert fences.store_at("m1", *near(KERRY, east_m=35)) is None
