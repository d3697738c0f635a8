"""The camera agent's per-frame logic: faces → tracks → who and where → face and dwell events.

Pure with respect to I/O: `process` takes a frame and its time and returns DESIGN §4 events as dicts;
the runner feeds frames and puts the events into the outbox. No image and no embedding is ever part of
an event: embeddings are compared with the local gallery and dropped on the spot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.identity import Gallery, VisitorIds
from edge.tracker import IouTracker, Track
from edge.zones import ZoneMap
from guang.adapters.face_model import FaceModel
from guang.domain.events import BaseEvent, DwellEvent, FaceEvent


@dataclass(frozen=True)
class Placement:
    """Where the camera hangs: its device id and the store and mall it watches."""

    device_id: str
    store_id: str
    mall_id: str


@dataclass(frozen=True)
class Timing:
    """Tunables of the event logic, in milliseconds unless named otherwise."""

    min_dwell_ms: int = 2_000
    """A stay at a shelf shorter than this is passing by, not dwelling."""
    max_stay_ms: int = 30_000
    """A long stay is reported in parts of this length, so a screen reacts while the person is still there."""
    seen_every_ms: int = 60_000
    """A `seen` repeats while a person stays in view, so presence (a 2-minute window) does not lapse."""
    recheck_ms: int = 1_000
    """An anonymous track is compared with the gallery again this often, a few times: the first frame
    of a face is often a poor angle."""
    confirm_ms: int = 300
    """A look that matched a member is followed by another this soon: a member is named only when two
    looks agree (the threshold rests on a small evaluation, docs/eval/face-threshold.md)."""
    rechecks: int = 4


def _as_dicts(events: Iterable[BaseEvent]) -> list[dict[str, Any]]:
    """Events as the outbox keeps and `POST /events` takes them (DESIGN §4 JSON objects)."""
    return [event.model_dump(mode="json", exclude_none=True) for event in events]


class CameraAgent:
    def __init__(
        self,
        *,
        model: FaceModel,
        gallery: Gallery,
        zones: ZoneMap,
        placement: Placement,
        threshold: float,
        timing: Timing | None = None,
        visitor_ids: VisitorIds | None = None,
        tracker: IouTracker | None = None,
        new_event_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._model = model
        self._gallery = gallery
        self._zones = zones
        self._placement = placement
        self._threshold = threshold
        self._timing = timing or Timing()
        self._visitor_ids = visitor_ids or VisitorIds(placement.device_id)
        self._tracker = tracker or IouTracker()
        self._new_event_id = new_event_id
        self.embeddings_computed = 0

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def tracks(self) -> list[Track]:
        return self._tracker.tracks

    def process(self, frame: np.ndarray, ts_ms: int) -> list[dict[str, Any]]:
        """Events caused by this frame, in the order they happened."""
        update = self._tracker.update(self._model.locate(frame), ts_ms)
        events: list[BaseEvent] = []
        for track in update.ended:
            events += self._leave(track, track.last_ms)
        for track in update.active:
            if not track.identified or self._due_recheck(track, ts_ms):
                events += self._identify(track, frame, ts_ms)
            events += self._place(track, ts_ms)
        return _as_dicts(events)

    def finish(self) -> list[dict[str, Any]]:
        """Everyone in view leaves (the source ended or the agent stops): their last dwell and exit."""
        events = [e for track in self._tracker.end_all() for e in self._leave(track, track.last_ms)]
        return _as_dicts(events)

    def forget(self, member_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Withdrawn members: tracks showing them become anonymous from this moment on (no exit is sent
        for the member; the server has already removed their face-derived features)."""
        gone = set(member_ids)
        events: list[BaseEvent] = []
        for track in self._tracker.tracks:
            if track.candidate in gone:
                track.candidate = None
            if track.user_id in gone:
                track.user_id, track.match_score = None, None
                track.visitor_id = self._visitor_ids.new(track.track_id)
                track.checks = self._timing.rechecks
                events.append(self._face(track, "enter", track.last_ms, zone_id=track.zone_id))
                track.zone_since_ms = track.last_ms
        return _as_dicts(events)

    def _due_recheck(self, track: Track, ts_ms: int) -> bool:
        wait = self._timing.confirm_ms if track.candidate else self._timing.recheck_ms
        return (
            track.user_id is None
            and track.checks < self._timing.rechecks
            and ts_ms - track.checked_ms >= wait
        )

    def _identify(self, track: Track, frame: np.ndarray, ts_ms: int) -> list[BaseEvent]:
        embedding = self._model.embed(frame, track.box)
        self.embeddings_computed += 1
        match = self._gallery.match(embedding, threshold=self._threshold)
        del embedding
        track.checks += 1
        track.checked_ms = ts_ms
        if not track.identified:
            track.identified = True
            track.visitor_id = self._visitor_ids.new(track.track_id)
            track.candidate = match.member_id if match is not None else None
            track.seen_ms = ts_ms
            return [self._face(track, "enter", ts_ms)]
        if match is None or match.member_id != track.candidate:
            track.candidate = match.member_id if match is not None else None
            return []
        events: list[BaseEvent] = [self._face(track, "exit", ts_ms)]
        track.visitor_id, track.user_id, track.match_score = None, match.member_id, match.score
        track.candidate = None
        track.seen_ms = ts_ms
        events.append(self._face(track, "enter", ts_ms, zone_id=track.zone_id))
        return events

    def _place(self, track: Track, ts_ms: int) -> list[BaseEvent]:
        area = self._zones.zone_at(track.box.centre)
        zone_id = area.zone_id if area is not None else None
        events: list[BaseEvent] = []
        if zone_id != track.zone_id:
            events += self._end_stay(track, ts_ms)
            track.zone_id, track.zone_since_ms = zone_id, ts_ms
            if zone_id is not None:
                track.seen_ms = ts_ms
                events.append(self._face(track, "seen", ts_ms, zone_id=zone_id))
        elif zone_id is not None and ts_ms - track.zone_since_ms >= self._timing.max_stay_ms:
            events += self._end_stay(track, ts_ms)
            track.zone_since_ms = ts_ms
        if ts_ms - track.seen_ms >= self._timing.seen_every_ms:
            track.seen_ms = ts_ms
            events.append(self._face(track, "seen", ts_ms, zone_id=zone_id))
        return events

    def _leave(self, track: Track, ts_ms: int) -> list[BaseEvent]:
        if not track.identified:
            return []
        return [*self._end_stay(track, ts_ms), self._face(track, "exit", ts_ms)]

    def _end_stay(self, track: Track, ts_ms: int) -> list[BaseEvent]:
        """The dwell of the stay at the track's current zone up to now, if it was long enough."""
        if track.zone_id is None or not track.identified:
            return []
        stayed = ts_ms - track.zone_since_ms
        if stayed < self._timing.min_dwell_ms:
            return []
        area = self._zones.get(track.zone_id)
        return [
            DwellEvent(
                type="dwell",
                event_id=self._new_event_id(),
                ts_ms=ts_ms,
                **self._common(track),
                zone_id=track.zone_id,
                sku_ids=list(area.sku_ids) if area is not None else [],
                dwell_ms=stayed,
            )
        ]

    def _face(self, track: Track, action: str, ts_ms: int, *, zone_id: str | None = None) -> FaceEvent:
        return FaceEvent.model_validate(
            {
                "type": "face",
                "event_id": self._new_event_id(),
                "ts_ms": ts_ms,
                **self._common(track),
                "action": action,
                "zone_id": zone_id,
                "match_score": track.match_score if track.user_id is not None else None,
            }
        )

    def _common(self, track: Track) -> dict[str, Any]:
        place = self._placement
        subject = {"user_id": track.user_id} if track.user_id else {"visitor_id": track.visitor_id}
        return {"device_id": place.device_id, "store_id": place.store_id, "mall_id": place.mall_id, **subject}
