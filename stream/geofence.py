"""Pure geofence step: location fixes -> arrival / parking / exit / store signals and the subject's `where`.

Used as `op.stateful_flat_map(step_id, events_keyed_by_subject, partial(update_geofence, fences=...,
config=...))`. Borders get hysteresis so GPS jitter does not flap: a subject enters a fence at its
radius but leaves only beyond radius + margin, or after consecutive fixes just outside it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from guang.domain.events import Event, LocationEvent
from guang.domain.keys import (
    WHERE_MALL,
    WHERE_STORE,
    WHERE_TS,
    where_key,
)
from guang.domain.models import Mall, Store
from guang.domain.signals import Signal, SignalKind
from guang.domain.writes import Delete, Put, Write

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180
DEFAULT_STORE_RADIUS_M = 30.0
MAX_SEEN_EVENT_IDS = 512

MallSpec = tuple[str, float, float, float]
"""(mall_id, lat, lng, radius_m)"""
StoreSpec = tuple[str, str, float, float] | tuple[str, str, float, float, float]
"""(store_id, mall_id, lat, lng[, radius_m])"""


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Fence:
    id: str
    lat: float
    lng: float
    radius_m: float

    def __post_init__(self) -> None:
        if not self.radius_m > 0:
            raise ValueError(f"fence {self.id}: radius_m must be positive, got {self.radius_m}")

    def distance_m(self, lat: float, lng: float) -> float:
        return haversine_m(self.lat, self.lng, lat, lng)


def _nearest_inside(fences: Iterable[Fence], lat: float, lng: float) -> str | None:
    """The containing fence with the nearest centre (ties by id); latitude alone rules most out cheaply."""
    best: tuple[float, str] | None = None
    for fence in fences:
        if abs(lat - fence.lat) * METRES_PER_DEGREE_LAT > fence.radius_m:
            continue
        distance = fence.distance_m(lat, lng)
        if distance <= fence.radius_m and (best is None or (distance, fence.id) < best):
            best = (distance, fence.id)
    return best[1] if best is not None else None


@dataclass(frozen=True)
class Geofences:
    """Mall and store circles; a linear scan is plenty for a few hundred malls."""

    malls: Mapping[str, Fence]
    stores: Mapping[str, Fence]
    stores_in_mall: Mapping[str, tuple[Fence, ...]]

    @classmethod
    def build(cls, malls: Iterable[MallSpec], stores: Iterable[StoreSpec] = ()) -> Geofences:
        mall_fences = {m[0]: Fence(m[0], m[1], m[2], m[3]) for m in malls}
        store_fences: dict[str, Fence] = {}
        by_mall: dict[str, list[Fence]] = {}
        for spec in stores:
            radius = spec[4] if len(spec) == 5 else DEFAULT_STORE_RADIUS_M
            fence = Fence(spec[0], spec[2], spec[3], radius)
            store_fences[fence.id] = fence
            by_mall.setdefault(spec[1], []).append(fence)
        return cls(mall_fences, store_fences, {k: tuple(v) for k, v in by_mall.items()})

    @classmethod
    def from_models(
        cls, malls: Iterable[Mall], stores: Iterable[Store], *, store_radius_m: float = DEFAULT_STORE_RADIUS_M
    ) -> Geofences:
        return cls.build(
            [(m.id, m.location.coordinates[1], m.location.coordinates[0], m.radius_m) for m in malls],
            [
                (s.id, s.mall_id, s.location.coordinates[1], s.location.coordinates[0], store_radius_m)
                for s in stores
            ],
        )

    def mall_at(self, lat: float, lng: float) -> str | None:
        return _nearest_inside(self.malls.values(), lat, lng)

    def store_at(self, mall_id: str, lat: float, lng: float) -> str | None:
        return _nearest_inside(self.stores_in_mall.get(mall_id, ()), lat, lng)


@dataclass(frozen=True)
class GeofenceConfig:
    mall_exit_margin_m: float = 50.0
    store_exit_margin_m: float = 10.0
    outside_fixes_to_exit: int = 2
    """Consecutive fixes between radius and radius + margin that count as leaving."""
    max_accuracy_m: float = 200.0
    """Fixes less accurate than this decide nothing (parking gates are exempt: they are fixed devices)."""
    where_ttl_s: int | None = None


@dataclass
class GeofenceState:
    """Where one subject is, as of `ts_ms`; snapshotted by Bytewax recovery."""

    mall_id: str | None = None
    store_id: str | None = None
    ts_ms: int | None = None
    mall_outside: int = 0
    store_outside: int = 0
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_SEEN_EVENT_IDS))


def _leaving(outside: int, distance: float, radius: float, margin: float, needed: int) -> tuple[bool, int]:
    """(leave now?, new count of consecutive fixes just outside the radius)."""
    if distance <= radius:
        return False, 0
    if distance > radius + margin:
        return True, 0
    outside += 1
    return (True, 0) if outside >= needed else (False, outside)


def update_geofence(
    state: GeofenceState | None, event: Event, *, fences: Geofences, config: GeofenceConfig
) -> tuple[GeofenceState | None, list[Signal | Write]]:
    """Fold one fix into where the subject is; emit crossings, then the `where` fields that changed."""
    if not isinstance(event, LocationEvent):
        return state, []
    if state is None:
        state = GeofenceState()
    if event.event_id in state.seen:
        return state, []
    state.seen.append(event.event_id)
    if state.ts_ms is not None and event.ts_ms < state.ts_ms:
        return state, []
    gate = event.source == "parking_gate"
    if not gate and event.accuracy_m > config.max_accuracy_m:
        return state, []
    before = (state.mall_id, state.store_id)
    step = _Step(state, event, fences, config)
    if gate and not step.pass_gate():
        return state, []
    if not gate:
        step.track()
    state.ts_ms = event.ts_ms
    return state, [*step.signals, *_where_writes(event, before, (state.mall_id, state.store_id), config)]


@dataclass
class _Step:
    """One accepted fix applied to the state, collecting the signals it causes."""

    state: GeofenceState
    event: LocationEvent
    fences: Geofences
    config: GeofenceConfig
    signals: list[Signal] = field(default_factory=list)

    def emit(self, kind: SignalKind, mall_id: str, store_id: str | None = None) -> None:
        e = self.event
        self.signals.append(Signal(kind, e.subject_id, mall_id, store_id, e.ts_ms, e.event_id))

    def leave_store(self) -> None:
        if self.state.mall_id is not None and self.state.store_id is not None:
            self.emit("store_exit", self.state.mall_id, self.state.store_id)
        self.state.store_id, self.state.store_outside = None, 0

    def leave_mall(self) -> None:
        self.leave_store()
        if self.state.mall_id is not None:
            self.emit("exit", self.state.mall_id)
        self.state.mall_id, self.state.mall_outside = None, 0

    def pass_gate(self) -> bool:
        """A parking gate puts the subject in its mall (the event's, if known, else the one around it)."""
        state, event = self.state, self.event
        known = event.mall_id if event.mall_id in self.fences.malls else None
        mall_id = known or self.fences.mall_at(event.lat, event.lng)
        if mall_id is None:
            return False
        self.leave_store()
        if state.mall_id != mall_id:
            self.leave_mall()
        self.emit("parking_entry", mall_id)
        if state.mall_id is None:
            self.emit("arrival", mall_id)
        state.mall_id, state.mall_outside = mall_id, 0
        return True

    def track(self) -> None:
        """Mall first, then the store inside the (possibly new) current mall."""
        state, fences, config = self.state, self.fences, self.config
        lat, lng, needed = self.event.lat, self.event.lng, config.outside_fixes_to_exit
        if state.mall_id is not None:
            distance, radius = _distance(fences.malls.get(state.mall_id), lat, lng)
            leave, state.mall_outside = _leaving(
                state.mall_outside, distance, radius, config.mall_exit_margin_m, needed
            )
            if leave:
                self.leave_mall()
        if state.mall_id is None:
            arrived = fences.mall_at(lat, lng)
            if arrived is None:
                return
            self.emit("arrival", arrived)
            state.mall_id = arrived
        if state.store_id is not None:
            distance, radius = _distance(fences.stores.get(state.store_id), lat, lng)
            leave, state.store_outside = _leaving(
                state.store_outside, distance, radius, config.store_exit_margin_m, needed
            )
            if leave:
                self.leave_store()
        if state.store_id is None:
            entered = fences.store_at(state.mall_id, lat, lng)
            if entered is not None:
                self.emit("store_enter", state.mall_id, entered)
                state.store_id = entered


def _distance(fence: Fence | None, lat: float, lng: float) -> tuple[float, float]:
    """(distance, radius); a fence no longer configured is infinitely far, so the subject leaves it."""
    return (fence.distance_m(lat, lng), fence.radius_m) if fence is not None else (math.inf, 0.0)


def _where_writes(
    event: LocationEvent,
    before: tuple[str | None, str | None],
    after: tuple[str | None, str | None],
    config: GeofenceConfig,
) -> list[Write]:
    """Absolute values of the fields that changed, so a replay writes the same again."""
    if before == after:
        return []
    key = where_key(event.subject_id)
    writes: list[Write] = []
    for name, old, new in ((WHERE_MALL, before[0], after[0]), (WHERE_STORE, before[1], after[1])):
        if new is None and old is not None:
            writes.append(Delete(key, member=name))
        elif new is not None and new != old:
            writes.append(Put(key, new, field=name, ttl_s=config.where_ttl_s))
    writes.append(Put(key, event.ts_ms, field=WHERE_TS, ttl_s=config.where_ttl_s))
    return writes
