"""A synthetic in-store camera: shipped faces walk into a drawn store, stand at shelf zones, and leave.

The scene has depth in its simplest form: people walk along an aisle near the camera (lower in the
frame, faces larger) and step back to a shelf to stand (higher, faces smaller), so a passer-by does not
cover the face of someone standing. Every frame carries its truth — who is where, in which zone — so
tests and the demo can check what the detector and the zone mapping make of it.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal, NamedTuple

import cv2
import numpy as np

from edge.face_images import Box, Person
from edge.zones import Point, ZoneMap

Side = Literal["left", "right"]

SHELF_Y, AISLE_Y = 0.30, 0.68  # face centre height while standing / walking, share of frame height
SHELF_FACE, AISLE_FACE = 0.19, 0.23  # face width while standing / walking, share of frame height
WALK_PX_S = 170.0  # walking speed at 480 px frame height
STEP_S = 1.0  # stepping between the aisle and a shelf
STOP_S = (2.5, 6.0)
ARRIVAL_GAP_S = (1.5, 4.0)
SHARP_FACE_PX = 60  # photos with smaller faces look smeared when scaled up to a camera's face size
HEAD = (0.66, 0.74, 0.08)  # head cut-out: half-width, half-height (of the face box), raised by


@dataclass(frozen=True)
class Stop:
    zone_id: str
    start_s: float
    end_s: float


@dataclass(frozen=True, eq=False)
class Visit:
    """One person's time in view: in from one side, standing at each stop in turn, out to a side."""

    person: Person
    enter_s: float
    leave_s: float
    stops: tuple[Stop, ...]
    enter_from: Side = "left"
    leave_to: Side = "right"
    size: float = 1.0  # this person's face size relative to the scene's


class Seen(NamedTuple):
    """The truth about one person in a frame; `whole` when the face is in the frame and uncovered."""

    name: str
    centre: Point
    zone_id: str | None
    box: Box
    whole: bool


@dataclass(frozen=True, eq=False)
class SyntheticFrame:
    index: int
    ts_s: float
    image: np.ndarray
    truth: list[Seen] = field(default_factory=list)


def sharp_people(people: Sequence[Person]) -> list[Person]:
    """The people whose photo has a face big enough to stand in front of a camera."""
    return [p for p in people if p.face_width >= SHARP_FACE_PX]


class Stage:
    """The scene's geometry: where each zone's standing spot is, where the aisle runs, how big faces are."""

    def __init__(self, zone_map: ZoneMap, *, width: int, height: int) -> None:
        self.zone_map, self.width, self.height = zone_map, width, height
        self.shelf_y, self.aisle_y = SHELF_Y * height, AISLE_Y * height
        self.speed = WALK_PX_S * height / 480

    def face_px(self, y: float, size: float = 1.0) -> float:
        """Face width at height `y`: interpolated between the shelf and the aisle."""
        share = (y - self.shelf_y) / (self.aisle_y - self.shelf_y)
        return size * self.height * (SHELF_FACE + (AISLE_FACE - SHELF_FACE) * share)

    @cached_property
    def spots(self) -> dict[str, Point]:
        """Where a person stands in each zone: the point of the zone nearest the shelf line (then the
        zone's middle) whose face box lies inside the zone, else the nearest with its centre inside;
        a zone with no room in the frame gets none."""
        found = {}
        half = self.face_px(self.shelf_y) / 2
        for area in self.zone_map.areas:
            xs, ys = [x for x, _ in area.polygon], [y for _, y in area.polygon]
            middle = (min(xs) + max(xs)) / 2
            across = np.arange(max(min(xs), half), min(max(xs), self.width - half) + 1, 4.0)
            down = np.arange(max(min(ys), half), min(max(ys), self.height - half) + 1, 4.0)
            points = [(float(x), float(y)) for y in down for x in across]
            points.sort(key=lambda p: (abs(p[1] - self.shelf_y), abs(p[0] - middle)))
            inside = (p for p in points if self.zone_map.zone_at(p) is area)
            fallback = None
            for x, y in inside:
                fallback = fallback or (x, y)
                corners = [(x + dx, y + dy) for dx in (-half, half) for dy in (-half, half)]
                if all(self.zone_map.zone_at(c) is area for c in corners):
                    found[area.zone_id] = (x, y)
                    break
            else:
                if fallback is not None:
                    found[area.zone_id] = fallback
        return found

    def offstage_x(self, side: Side) -> float:
        margin = self.face_px(self.aisle_y, 1.2) * 1.4
        return -margin if side == "left" else self.width + margin

    def waypoints(self, visit: Visit) -> list[tuple[float, Point]]:
        """(time, face centre) corners of the visit's path: along the aisle, a step up to each spot and
        back down; straight lines between them."""
        timed = [(visit.enter_s, (self.offstage_x(visit.enter_from), self.aisle_y))]
        for stop in visit.stops:
            spot = self.spots[stop.zone_id]
            below = (spot[0], self.aisle_y)
            timed.append((max(stop.start_s - STEP_S, timed[-1][0]), below))
            timed += [(stop.start_s, spot), (stop.end_s, spot), (stop.end_s + STEP_S, below)]
        timed.append((visit.leave_s, (self.offstage_x(visit.leave_to), self.aisle_y)))
        return timed

    def walk_s(self, a: Point, b: Point) -> float:
        return math.dist(a, b) / self.speed


def _timeline(stage: Stage, person: Person, enter_s: float, zones: list[str], rng: random.Random) -> Visit:
    enter_from: Side = "left" if rng.random() < 0.5 else "right"
    leave_to: Side = "left" if rng.random() < 0.5 else "right"
    here = (stage.offstage_x(enter_from), stage.aisle_y)
    t, stops = enter_s, []
    for zone_id in zones:
        spot = stage.spots[zone_id]
        t += stage.walk_s(here, (spot[0], stage.aisle_y)) + STEP_S
        end = t + rng.uniform(*STOP_S)
        stops.append(Stop(zone_id=zone_id, start_s=round(t, 3), end_s=round(end, 3)))
        t, here = end + STEP_S, (spot[0], stage.aisle_y)
    leave_s = t + stage.walk_s(here, (stage.offstage_x(leave_to), stage.aisle_y))
    return Visit(person=person, enter_s=round(enter_s, 3), leave_s=round(leave_s, 3), stops=tuple(stops),
                 enter_from=enter_from, leave_to=leave_to, size=rng.uniform(0.92, 1.08))  # fmt: skip


def _fits(visit: Visit, planned: Sequence[Visit], max_together: int) -> bool:
    """At most `max_together` in view at once, one person per zone at a time, nobody twice at once."""
    overlapping = [v for v in planned if v.enter_s < visit.leave_s and visit.enter_s < v.leave_s]
    if any(v.person.name == visit.person.name for v in overlapping):
        return False
    moments = [visit.enter_s, *(v.enter_s for v in overlapping if v.enter_s > visit.enter_s)]
    for moment in moments:
        if sum(v.enter_s <= moment < v.leave_s for v in overlapping) >= max_together:
            return False
    return not any(
        a.zone_id == b.zone_id
        and a.start_s - STEP_S < b.end_s + STEP_S
        and b.start_s - STEP_S < a.end_s + STEP_S
        for v in overlapping
        for a in v.stops
        for b in visit.stops
    )


def plan_visits(
    zone_map: ZoneMap,
    people: Sequence[Person],
    *,
    seconds: float,
    rng: random.Random,
    max_together: int = 3,
    width: int = 640,
    height: int = 480,
) -> list[Visit]:
    """Visits arriving every few seconds until `seconds`, each to one to three zones, with one to
    `max_together` people in view at a time and never two standing in the same zone."""
    stage = Stage(zone_map, width=width, height=height)
    zones = list(stage.spots)
    if not zones or not people:
        raise ValueError("a synthetic visit needs people and at least one zone with room to stand in")
    planned: list[Visit] = []
    t, turn = 0.0, 0
    while t < seconds:
        person = people[turn % len(people)]
        chosen = rng.sample(zones, k=rng.randint(1, min(3, len(zones))))
        visit = _timeline(stage, person, t, chosen, rng)
        if _fits(visit, planned, max_together):
            planned.append(visit)
            turn += 1
            t += rng.uniform(*ARRIVAL_GAP_S)
        else:
            t += 0.5
    return planned


def _at(waypoints: Sequence[tuple[float, Point]], ts: float) -> Point | None:
    if not waypoints or ts < waypoints[0][0] or ts > waypoints[-1][0]:
        return None
    for (t0, p0), (t1, p1) in itertools.pairwise(waypoints):
        if t0 <= ts <= t1:
            share = 0.0 if t1 == t0 else (ts - t0) / (t1 - t0)
            return p0[0] + (p1[0] - p0[0]) * share, p0[1] + (p1[1] - p0[1]) * share
    return waypoints[-1][1]


class SyntheticCamera:
    """Frames of the drawn store with the planned visits in it, `fps` per second, built on demand."""

    def __init__(
        self,
        zone_map: ZoneMap,
        visits: Sequence[Visit],
        *,
        width: int = 640,
        height: int = 480,
        fps: float = 15,
        seconds: float | None = None,
        seed: int = 7,
    ) -> None:
        self.stage = Stage(zone_map, width=width, height=height)
        self.visits = list(visits)
        self.width, self.height, self.fps = width, height, fps
        self.seconds = seconds if seconds is not None else max((v.leave_s for v in visits), default=0.0)
        self.background = draw_store(zone_map, width=width, height=height, seed=seed)
        self._paths = [self.stage.waypoints(v) for v in self.visits]
        self._sprites = {v.person.name: _sprite(v.person) for v in self.visits}

    def __len__(self) -> int:
        return math.ceil(self.seconds * self.fps)

    def __iter__(self) -> Iterator[SyntheticFrame]:
        return (self.frame(index) for index in range(len(self)))

    def frame(self, index: int) -> SyntheticFrame:
        ts = index / self.fps
        placed = []
        for visit, path in zip(self.visits, self._paths, strict=True):
            centre = _at(path, ts)
            if centre is not None:
                placed.append((visit, centre))
        placed.sort(key=lambda item: item[1][1])  # farther (higher) first, nearer drawn over them
        image = self.background.copy()
        regions = []
        for visit, centre in placed:
            face_w = self.stage.face_px(centre[1], visit.size)
            regions.append(_draw_person(image, self._sprites[visit.person.name], centre, face_w))
        truth = []
        for i, (visit, centre) in enumerate(placed):
            box = regions[i][0]
            if box[2] <= 0 or box[0] >= self.width:
                continue
            standing = next((s for s in visit.stops if s.start_s <= ts <= s.end_s), None)
            inside = box[0] >= 0 and box[2] <= self.width and box[1] >= 0 and box[3] <= self.height
            covered = any(_overlaps(box, region) for _, *later in regions[i + 1 :] for region in later)
            truth.append(Seen(name=visit.person.name, centre=centre,
                              zone_id=standing.zone_id if standing else None, box=box,
                              whole=inside and not covered))  # fmt: skip
        return SyntheticFrame(index=index, ts_s=ts, image=image, truth=truth)


class _Sprite(NamedTuple):
    image: np.ndarray  # BGR crop
    alpha: np.ndarray  # float32 H×W in [0, 1]: the head cut out of its photo
    face: Box
    colour: tuple[int, int, int]  # clothes


def _sprite(person: Person) -> _Sprite:
    x1, y1, x2, y2 = person.face
    w, h = x2 - x1, y2 - y1
    cut = np.zeros(person.image.shape[:2], dtype=np.float32)
    centre = (round((x1 + x2) / 2), round((y1 + y2) / 2 - HEAD[2] * h))
    cv2.ellipse(cut, centre, (round(HEAD[0] * w), round(HEAD[1] * h)), 0, 0, 360, 1.0, -1)
    alpha = np.asarray(cv2.GaussianBlur(cut, (0, 0), sigmaX=max(1.0, w / 30)), dtype=np.float32)
    hue = sum(person.name.encode()) * 37 % 180
    return _Sprite(person.image, alpha, person.face, _hsv(hue, 150, 170))


def _hsv(hue: int, saturation: int, value: int) -> tuple[int, int, int]:
    """An OpenCV HSV colour (hue 0–179) as a BGR triple."""
    pixel = np.array([[[hue, saturation, value]]], dtype=np.uint8)
    b, g, r = (int(c) for c in cv2.cvtColor(pixel, cv2.COLOR_HSV2BGR)[0, 0])
    return b, g, r


def _draw_person(image: np.ndarray, sprite: _Sprite, centre: Point, face_w: float) -> tuple[Box, Box, Box]:
    """Body, then head, drawn with the face centred at `centre`; returns (face, head, body) boxes."""
    x1, y1, x2, y2 = sprite.face
    scale = face_w / (x2 - x1)
    face_h = (y2 - y1) * scale
    cx, cy = centre
    body = (cx - 1.25 * face_w, cy + 0.55 * face_h, cx + 1.25 * face_w, cy + 4.0 * face_h)
    shoulders = np.array([[cx - 0.25 * face_w, body[1]], [cx + 0.25 * face_w, body[1]],
                          [body[2], body[1] + 0.6 * face_h], [body[2], body[3]],
                          [body[0], body[3]], [body[0], body[1] + 0.6 * face_h]], dtype=np.int32)  # fmt: skip
    cv2.fillPoly(image, [shoulders], sprite.colour, lineType=cv2.LINE_AA)
    size = (max(1, round(sprite.image.shape[1] * scale)), max(1, round(sprite.image.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    head, alpha = cv2.resize(sprite.image, size, interpolation=interpolation), cv2.resize(sprite.alpha, size)
    left = round(cx - ((x1 + x2) / 2) * scale)
    top = round(cy - ((y1 + y2) / 2) * scale)
    _blend(image, head, alpha, left, top)
    face = (cx - face_w / 2, cy - face_h / 2, cx + face_w / 2, cy + face_h / 2)
    head_box = (
        cx - HEAD[0] * face_w,
        cy - (HEAD[1] + HEAD[2]) * face_h,
        cx + HEAD[0] * face_w,
        cy + face_h / 2,
    )
    return face, head_box, body


def _blend(image: np.ndarray, patch: np.ndarray, alpha: np.ndarray, left: int, top: int) -> None:
    height, width = image.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + patch.shape[1], width), min(top + patch.shape[0], height)
    if x0 >= x1 or y0 >= y1:
        return
    src = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    a = alpha[src][..., None]
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = (a * patch[src] + (1 - a) * region).astype(np.uint8)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def draw_store(zone_map: ZoneMap, *, width: int, height: int, seed: int = 7) -> np.ndarray:
    """The empty store: a wall with stocked shelves tinted per zone, a tiled floor, zone ids on top."""
    rng = random.Random(seed)
    wall_h = round(0.55 * height)
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:wall_h] = (196, 208, 218)
    image[wall_h:] = (150, 156, 160)
    for i in range(-8, 9):
        cv2.line(image, (width // 2 + i * width // 16, wall_h), (width // 2 + i * width // 4, height),
                 (132, 138, 142), 1, cv2.LINE_AA)  # fmt: skip
    for y in np.geomspace(8, height - wall_h, 6):
        cv2.line(image, (0, wall_h + int(y)), (width, wall_h + int(y)), (132, 138, 142), 1, cv2.LINE_AA)
    for index, area in enumerate(zone_map.areas):
        hue = (index * 47 + 10) % 180
        tint = np.array(_hsv(hue, 90, 230), dtype=np.float32)
        shelf = image.copy()
        shelf[:wall_h] = (0.55 * shelf[:wall_h] + 0.45 * tint).astype(np.uint8)
        for board_y in range(round(0.14 * height), wall_h - 4, round(0.12 * height)):
            cv2.rectangle(shelf, (0, board_y), (width, board_y + 5), (70, 90, 110), -1)
            x = rng.randint(0, 12)
            while x < width:
                box_w, box_h = rng.randint(10, 26), rng.randint(14, round(0.1 * height))
                colour = tuple(rng.randint(40, 230) for _ in range(3))
                cv2.rectangle(shelf, (x, board_y - box_h), (x + box_w, board_y - 1), colour, -1)
                x += box_w + rng.randint(2, 8)
        mask = np.zeros((height, width), dtype=np.uint8)
        polygon = np.array([[round(x), round(y)] for x, y in area.polygon], dtype=np.int32)
        cv2.fillPoly(mask, [polygon], 255)
        image[mask > 0] = shelf[mask > 0]
        cv2.polylines(image, [polygon], True, tint.astype(int).tolist(), 2, cv2.LINE_AA)
        xs = [x for x, _ in area.polygon]
        label = area.zone_id if area.zone_id.isascii() else f"zone {index + 1}"
        cv2.putText(image, label, (round(min(xs)) + 6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1,
                    cv2.LINE_AA)  # fmt: skip
    return image


def write_video(path: Path, camera: SyntheticCamera) -> int:
    """Every frame of the camera into a video file (.mp4: mp4v, .avi: Motion JPEG); the frame count."""
    codecs = {".mp4": "mp4v", ".avi": "MJPG"}
    if path.suffix.lower() not in codecs:
        raise ValueError(f"write a .mp4 or an .avi, not {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = cv2.VideoWriter.fourcc(*codecs[path.suffix.lower()])
    writer = cv2.VideoWriter(str(path), fourcc, float(camera.fps), (camera.width, camera.height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    written = 0
    try:
        for frame in camera:
            writer.write(frame.image)
            written += 1
    finally:
        writer.release()
    return written
