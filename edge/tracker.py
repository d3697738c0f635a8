"""Follows each face from frame to frame by box overlap, so a person is embedded once, not every frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from guang.adapters.face_model import FaceBox


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _centre_gap(a: FaceBox, b: FaceBox) -> float:
    """Distance between centres in face widths: a walking person moves a fraction of a face per frame."""
    (ax, ay), (bx, by) = a.centre, b.centre
    width = max(a.bbox[2] - a.bbox[0], 1.0)
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / width)


@dataclass
class Track:
    """One person in view. `subject` and the zone fields are the agent's; the tracker keeps the box."""

    track_id: int
    box: FaceBox
    first_ms: int
    last_ms: int
    user_id: str | None = None
    visitor_id: str | None = None
    match_score: float | None = None
    identified: bool = False
    candidate: str | None = None
    """The member one look matched, awaiting a second look that agrees."""
    checks: int = 0
    checked_ms: int = 0
    zone_id: str | None = None
    zone_since_ms: int = 0
    seen_ms: int = 0
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackUpdate:
    active: list[Track]
    new: list[Track]
    ended: list[Track]


class IouTracker:
    """Greedy matching of this frame's boxes to live tracks by IoU, then by centre distance.

    A track not matched for `max_missed_ms` has ended (the person left or turned away for long)."""

    def __init__(
        self, *, min_iou: float = 0.2, max_gap_faces: float = 1.5, max_missed_ms: int = 1500
    ) -> None:
        self._min_iou = min_iou
        self._max_gap = max_gap_faces
        self._max_missed_ms = max_missed_ms
        self._tracks: dict[int, Track] = {}
        self._next_id = 1

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks.values())

    def update(self, boxes: Sequence[FaceBox], ts_ms: int) -> TrackUpdate:
        pairs = sorted(
            (
                (-iou(track.box.bbox, box.bbox), _centre_gap(track.box, box), track_id, index)
                for track_id, track in self._tracks.items()
                for index, box in enumerate(boxes)
            ),
        )
        taken_tracks: set[int] = set()
        taken_boxes: set[int] = set()
        for negative_iou, gap, track_id, index in pairs:
            if track_id in taken_tracks or index in taken_boxes:
                continue
            if -negative_iou < self._min_iou and gap > self._max_gap:
                continue
            track = self._tracks[track_id]
            track.box, track.last_ms = boxes[index], ts_ms
            taken_tracks.add(track_id)
            taken_boxes.add(index)
        new = []
        for index, box in enumerate(boxes):
            if index not in taken_boxes:
                track = Track(track_id=self._next_id, box=box, first_ms=ts_ms, last_ms=ts_ms)
                self._tracks[track.track_id] = track
                self._next_id += 1
                new.append(track)
        ended = [t for t in self._tracks.values() if ts_ms - t.last_ms > self._max_missed_ms]
        for track in ended:
            del self._tracks[track.track_id]
        active = [t for t in self._tracks.values() if t.last_ms == ts_ms]
        return TrackUpdate(active=active, new=new, ended=ended)

    def end_all(self) -> list[Track]:
        """Every live track, ended (the source ran out or the agent stops)."""
        ended = list(self._tracks.values())
        self._tracks.clear()
        return ended
