"""A store's floor plan, derived from its zones: zones carry no geometry, so the dashboard lays them out.

The plan is a rectangle seen from above with the entrance in the middle of the front wall (the bottom
edge). Shelves stand along the left, back and right walls, in zone-id order starting at the front left
and going round to the front right; tills stand against the front wall to the right of the door. The
layout depends only on the zones' ids and kinds, so the same store always gets the same plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from guang.dashboard.models import FloorPlan, PlanArea, Rect

WIDTH = 100.0
DEPTH = 60.0
SHELF_DEPTH = 8.0
GAP = 1.0
DOOR_WIDTH = 16.0
FRONT_AISLE = 14.0
"""Space kept free of wall shelves in front of the front wall: the entrance and the tills."""
TILL_DEPTH = 8.0
TILL_WIDTH = 14.0


@dataclass(frozen=True)
class PlannedZone:
    """What the layout needs of a zone."""

    zone_id: str
    name: str
    kind: str


def _split(start: float, length: float, count: int) -> list[tuple[float, float]]:
    """`count` equal segments of [start, start + length] with a GAP between neighbours: (offset, size)."""
    if count == 0:
        return []
    size = (length - GAP * (count - 1)) / count
    return [(round(start + i * (size + GAP), 3), round(size, 3)) for i in range(count)]


def _wall_counts(shelves: int) -> tuple[int, int, int]:
    """Shelves on the left, back and right walls; the back wall is the longest and takes the remainder."""
    side = shelves // 3
    return side, shelves - 2 * side, side


def floor_plan(zones: Sequence[PlannedZone]) -> FloorPlan:
    """Rectangles for every zone of one store, inside the plan and never overlapping."""
    shelves = sorted((z for z in zones if z.kind != "till"), key=lambda z: z.zone_id)
    tills = sorted((z for z in zones if z.kind == "till"), key=lambda z: z.zone_id)
    left, back, right = _wall_counts(len(shelves))
    side_top = SHELF_DEPTH + GAP
    side_length = DEPTH - FRONT_AISLE - side_top
    rects: list[Rect] = []
    for y, size in reversed(_split(side_top, side_length, left)):
        rects.append(Rect(0.0, y, SHELF_DEPTH, size))
    for x, size in _split(0.0, WIDTH, back):
        rects.append(Rect(x, 0.0, size, SHELF_DEPTH))
    for y, size in _split(side_top, side_length, right):
        rects.append(Rect(WIDTH - SHELF_DEPTH, y, SHELF_DEPTH, size))
    door = Rect((WIDTH - DOOR_WIDTH) / 2, DEPTH - GAP, DOOR_WIDTH, GAP)
    areas = [
        PlanArea(zone.zone_id, zone.name, zone.kind, rect) for zone, rect in zip(shelves, rects, strict=True)
    ]
    till_start = door.x + door.w + GAP * 2
    till_room = WIDTH - SHELF_DEPTH - GAP - till_start
    width = min(TILL_WIDTH, (till_room - GAP * (len(tills) - 1)) / len(tills)) if tills else 0.0
    for i, zone in enumerate(tills):
        x = round(till_start + i * (width + GAP), 3)
        rect = Rect(x, DEPTH - GAP * 2 - TILL_DEPTH, round(width, 3), TILL_DEPTH)
        areas.append(PlanArea(zone.zone_id, zone.name, zone.kind, rect))
    return FloorPlan(width=WIDTH, depth=DEPTH, door=door, areas=areas)
