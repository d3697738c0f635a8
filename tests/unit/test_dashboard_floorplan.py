"""The floor plan derived from a store's zones: same zones, same plan; every zone inside, none overlapping."""

from __future__ import annotations

import random

import pytest

from guang.dashboard.floorplan import PlannedZone, floor_plan
from guang.dashboard.models import FloorPlan, Rect


def zones(shelves: int, tills: int = 1) -> list[PlannedZone]:
    found = [PlannedZone(f"z-s1-{n}", f"区{n}", "shelf") for n in range(1, shelves + 1)]
    return found + [PlannedZone(f"z-s1-till{n or ''}", "收银台", "till") for n in range(tills)]


def inside(rect: Rect, plan: FloorPlan) -> bool:
    return (
        rect.w > 0
        and rect.h > 0
        and rect.x >= 0
        and rect.y >= 0
        and (rect.x + rect.w <= plan.width and rect.y + rect.h <= plan.depth)
    )


@pytest.mark.parametrize("shelves", range(13))
@pytest.mark.parametrize("tills", [0, 1, 2])
def test_every_zone_gets_its_own_place_inside_the_plan(shelves: int, tills: int) -> None:
    plan = floor_plan(zones(shelves, tills))
    rects = [a.rect for a in plan.areas]
    assert sorted(a.zone_id for a in plan.areas) == sorted(z.zone_id for z in zones(shelves, tills))
    assert all(inside(r, plan) for r in rects)
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.overlaps(b), (a, b)


def test_the_same_zones_in_any_order_give_the_same_plan() -> None:
    given = zones(6)
    shuffled = given[:]
    random.Random(7).shuffle(shuffled)
    assert floor_plan(given) == floor_plan(shuffled) == floor_plan(list(reversed(given)))


def test_shelves_line_the_walls_and_the_till_stands_by_the_door() -> None:
    plan = floor_plan(zones(6))
    by_id = {a.zone_id: a for a in plan.areas}
    shelves = [by_id[f"z-s1-{n}"].rect for n in range(1, 7)]

    def wall(r: Rect) -> str:
        return "back" if r.y == 0 else "left" if r.x == 0 else "right" if r.x + r.w == plan.width else "-"

    # Going round from the front left: left wall, back wall, right wall.
    assert [wall(r) for r in shelves] == ["left", "left", "back", "back", "right", "right"]
    assert shelves[0].y > shelves[1].y and shelves[2].x < shelves[3].x and shelves[4].y < shelves[5].y
    till = by_id["z-s1-till"].rect
    door = plan.door
    assert door.y + door.h == plan.depth and door.x > 0 and door.x + door.w < plan.width
    assert till.y + till.h > plan.depth * 0.8
    assert abs(till.x - (door.x + door.w)) < plan.width / 5


def test_a_store_without_zones_is_an_empty_room_with_a_door() -> None:
    plan = floor_plan([])
    assert plan.areas == [] and plan.width > 0 and plan.depth > 0 and plan.door.w > 0
