"""The camera agent's event logic on scripted frames: who, where, for how long — with a fake face model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.agent import CameraAgent, Placement, Timing
from edge.identity import Gallery, VisitorIds
from edge.zones import ZoneMap, strips
from guang.adapters.face_model import Face, FaceBox
from guang.domain.events import parse_event

WIDTH, HEIGHT = 600, 400
ZONES = ZoneMap(strips([("z-denim", ["sku-1", "sku-2"], "牛仔"), ("z-shoes", ["sku-3"], "鞋"),
                        ("z-bags", [], "包")], width=WIDTH, height=HEIGHT))  # fmt: skip
CENTRE_X = {"z-denim": 100.0, "z-shoes": 300.0, "z-bags": 500.0}
PLACE = Placement(device_id="cam-1", store_id="store-1", mall_id="mall-1")
THRESHOLD = 0.5


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=64).astype(np.float32)
    return vector / np.linalg.norm(vector)


PEOPLE = {"alice": _unit(1), "bob": _unit(2)}


class ScriptedModel:
    """Frame i shows the people scripted for i at the x of a zone (or a given x); `embed` gives each
    person's vector, or noise for the frames listed in `blurred`."""

    name = "scripted"
    dim = 64

    def __init__(self) -> None:
        self.script: dict[int, list[tuple[str, float]]] = {}
        self.blurred: set[tuple[int, str]] = set()
        self.embedded = 0

    def locate(self, frame: np.ndarray) -> list[FaceBox]:
        index = int(frame[0])
        boxes = []
        for person, x in self.script.get(index, []):
            box = FaceBox(
                bbox=(x - 40, 160, x + 40, 240), det_score=0.9, landmarks=np.zeros((5, 2), np.float32)
            )
            object.__setattr__(box, "person", person)
            boxes.append(box)
        return boxes

    def embed(self, frame: np.ndarray, box: FaceBox) -> np.ndarray:
        self.embedded += 1
        person: str = box.person  # type: ignore[attr-defined]
        return _unit(99) if (int(frame[0]), person) in self.blurred else PEOPLE[person]

    def detect(self, frame: np.ndarray) -> list[Face]:
        raise NotImplementedError


@pytest.fixture
def gallery(tmp_path: Path) -> Gallery:
    return Gallery(tmp_path / "gallery.sqlite", dim=64)


def _agent(model: ScriptedModel, gallery: Gallery, timing: Timing | None = None) -> CameraAgent:
    counter = iter(range(1_000_000))
    return CameraAgent(
        model=model, gallery=gallery, zones=ZONES, placement=PLACE, threshold=THRESHOLD,
        timing=timing or Timing(), visitor_ids=VisitorIds("cam-1"), new_event_id=lambda: f"e{next(counter)}",
    )  # fmt: skip


def _walk(model: ScriptedModel, person: str, stops: Sequence[tuple[str | float, int]], start: int = 0) -> int:
    """Script `person` at each (zone or x, frames) in turn, a frame a second; returns the next free frame."""
    frame = start
    for where, frames in stops:
        x = CENTRE_X[where] if isinstance(where, str) else where
        for _ in range(frames):
            model.script.setdefault(frame, []).append((person, x))
            frame += 1
    return frame


def _run(
    agent: CameraAgent, frames: int, *, t0: int = 1_700_000_000_000, step_ms: int = 1000
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for index in range(frames):
        events += agent.process(np.array([index]), t0 + index * step_ms)
    events += agent.finish()
    for event in events:
        parse_event(event)
    return events


def _brief(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["type"], e.get("action"), e.get("zone_id"), e.get("dwell_ms")) for e in events]


def test_a_visitor_who_stands_at_a_shelf_gives_enter_seen_dwell_and_exit(gallery: Gallery) -> None:
    model = ScriptedModel()
    end = _walk(model, "bob", [("z-denim", 6), (170.0, 1), (230.0, 1), ("z-shoes", 1)])
    events = _run(_agent(model, gallery), end + 3)

    assert _brief(events) == [
        ("face", "enter", None, None),
        ("face", "seen", "z-denim", None),
        ("dwell", None, "z-denim", 7000),
        ("face", "seen", "z-shoes", None),
        ("face", "exit", None, None),
    ]
    assert {e["visitor_id"] for e in events} == {events[0]["visitor_id"]}
    assert events[0]["visitor_id"].startswith("v-")
    assert all("user_id" not in e and "match_score" not in e for e in events)
    assert events[2]["sku_ids"] == ["sku-1", "sku-2"]
    assert all(e["store_id"] == "store-1" and e["device_id"] == "cam-1" for e in events)


def test_a_member_is_embedded_twice_to_confirm_then_never_again(gallery: Gallery) -> None:
    model = ScriptedModel()
    gallery.enrol("m-alice", PEOPLE["alice"])
    end = _walk(model, "alice", [("z-bags", 20)])
    _run(_agent(model, gallery), end)

    assert model.embedded == 2


def test_an_enrolled_member_is_named_with_the_match_score(gallery: Gallery) -> None:
    model = ScriptedModel()
    gallery.enrol("m-alice", PEOPLE["alice"])
    end = _walk(model, "alice", [("z-shoes", 3)])
    _walk(model, "bob", [("z-bags", 3)])
    events = _run(_agent(model, gallery), end + 2)

    alice = [e for e in events if e.get("user_id") == "m-alice"]
    assert [(e["action"], e.get("zone_id")) for e in alice if e["type"] == "face"] == [
        ("enter", "z-shoes"),
        ("exit", None),
    ], "named once a second look agreed, at the shelf where she stands"
    assert all(e["match_score"] == pytest.approx(1.0, abs=1e-3) for e in alice if e["type"] == "face")
    assert [(e["zone_id"], e["dwell_ms"]) for e in alice if e["type"] == "dwell"] == [("z-shoes", 2000)]
    anonymous = [e for e in events if "visitor_id" in e]
    assert len({e["visitor_id"] for e in anonymous}) == 2  # bob, and alice until she was confirmed
    assert all("match_score" not in e for e in anonymous)
    assert not [e for e in anonymous if e["type"] == "dwell" and e["zone_id"] == "z-shoes"]


def test_one_matching_look_is_not_enough_and_a_poor_first_look_is_corrected(gallery: Gallery) -> None:
    model = ScriptedModel()
    gallery.enrol("m-alice", PEOPLE["alice"])
    end = _walk(model, "alice", [("z-denim", 5)])
    model.blurred.add((0, "alice"))
    events = _run(_agent(model, gallery), end)

    visitor = events[0]["visitor_id"]
    assert [
        (e["action"], e.get("visitor_id") or e.get("user_id")) for e in events if e["type"] == "face"
    ] == [
        ("enter", visitor),
        ("seen", visitor),
        ("exit", visitor),
        ("enter", "m-alice"),
        ("exit", "m-alice"),
    ]
    assert [(e["zone_id"], e["dwell_ms"]) for e in events if e["type"] == "dwell"] == [("z-denim", 4000)]


def test_looks_that_disagree_name_nobody(gallery: Gallery) -> None:
    model = ScriptedModel()
    gallery.enrol("m-alice", PEOPLE["alice"])
    end = _walk(model, "alice", [("z-denim", 6)])
    model.blurred.update({(1, "alice"), (3, "alice")})
    events = _run(_agent(model, gallery), end)

    assert not [e for e in events if "user_id" in e], "match, miss, match, miss: never two agreeing looks"
    assert model.embedded == 4


def test_a_long_stay_is_reported_in_parts_that_add_up(gallery: Gallery) -> None:
    model = ScriptedModel()
    end = _walk(model, "bob", [("z-denim", 75)])
    events = _run(_agent(model, gallery, Timing(max_stay_ms=30_000)), end)

    dwells = [e["dwell_ms"] for e in events if e["type"] == "dwell"]
    assert dwells == [30_000, 30_000, 14_000]
    seen = [e for e in events if e["type"] == "face" and e["action"] == "seen"]
    assert len(seen) == 2  # on arrival at the shelf, and again after a minute so presence does not lapse


def test_passing_by_a_shelf_is_not_a_dwell(gallery: Gallery) -> None:
    model = ScriptedModel()
    end = _walk(model, "bob", [("z-denim", 1), (200.0, 1), ("z-shoes", 1), (400.0, 1), ("z-bags", 1)])
    events = _run(_agent(model, gallery, Timing(min_dwell_ms=3000)), end)

    assert not [e for e in events if e["type"] == "dwell"]


def test_after_withdrawal_the_same_person_is_only_an_anonymous_visitor(gallery: Gallery) -> None:
    model = ScriptedModel()
    gallery.enrol("m-alice", PEOPLE["alice"])
    agent = _agent(model, gallery)
    _walk(model, "alice", [("z-denim", 10)])
    t0 = 1_700_000_000_000
    before = [e for i in range(3) for e in agent.process(np.array([i]), t0 + i * 1000)]
    assert before[-1]["user_id"] == "m-alice"

    assert gallery.remove(["m-alice"]) == ["m-alice"]
    relabelled = agent.forget(["m-alice"])
    after = [e for i in range(3, 10) for e in agent.process(np.array([i]), t0 + i * 1000)] + agent.finish()

    assert [e["action"] for e in relabelled] == ["enter"]
    assert all("user_id" not in e and "match_score" not in e for e in relabelled + after)
    assert len({e["visitor_id"] for e in relabelled + after}) == 1
    assert "m-alice" not in gallery.members()


def test_the_gallery_survives_a_restart_and_forgets_for_good(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    first = Gallery(path, dim=64)
    first.enrol("m-alice", PEOPLE["alice"])
    first.enrol("m-bob", PEOPLE["bob"])
    first.remove(["m-bob"])
    version = first.version
    first.close()

    again = Gallery(path, dim=64)
    assert again.members() == ["m-alice"]
    assert again.version == version == 3
    assert again.match(PEOPLE["bob"], threshold=THRESHOLD) is None
    match = again.match(PEOPLE["alice"], threshold=THRESHOLD)
    assert match is not None and match.member_id == "m-alice"
    again.close()
    assert PEOPLE["bob"].tobytes() not in path.read_bytes()


def test_visitor_ids_differ_per_visit_and_the_salt_changes_with_the_day() -> None:
    now = [1_700_000_000.0]
    ids = VisitorIds("cam-1", clock=lambda: now[0])
    today = [ids.new(1), ids.new(2)]
    salt = ids._salt
    now[0] += 86_400
    ids.new(1)

    assert len(set(today)) == 2 and all(len(v) == 18 for v in today)
    assert ids._salt != salt
