"""Frame pacing (late frames are skipped, not queued) and shelf zones of a camera's view."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edge.sources import SourceStats, paced
from edge.zones import ZoneArea, ZoneMap, strips

BLACK = np.zeros((2, 2, 3), dtype=np.uint8)


class Clock:
    """Wall time that moves only when the pacer sleeps or the test says the agent worked."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _offsets(media_fps: float, seconds: float) -> list[tuple[float, np.ndarray]]:
    return [(i / media_fps, BLACK) for i in range(round(seconds * media_fps))]


def test_frames_above_the_rate_are_skipped_and_time_stamps_follow_the_media() -> None:
    clock, stats = Clock(), SourceStats()
    frames = list(
        paced(_offsets(30, 2), max_fps=10, realtime=False, stats=stats, clock=clock, sleep=clock.sleep)
    )

    assert len(frames) == 20 and (stats.read, stats.skipped) == (60, 40)
    assert [f.ts_ms - frames[0].ts_ms for f in frames[:3]] == [0, 100, 200]


def test_in_real_time_a_slow_agent_gets_the_current_frame_not_a_backlog() -> None:
    clock, stats = Clock(), SourceStats()
    seen = []
    for frame in paced(
        _offsets(10, 3), max_fps=10, realtime=True, stats=stats, clock=clock, sleep=clock.sleep
    ):
        seen.append(frame.ts_ms)
        clock.now += 0.35  # the agent needs 350 ms per frame: it can keep up with one frame in four
    assert 7 <= len(seen) <= 9 and stats.skipped == 30 - len(seen)
    gaps = {b - a for a, b in itertools.pairwise(seen)}
    assert gaps <= {300, 400}, "each analysed frame is the one due now, never an old one"


def test_a_fast_agent_waits_for_each_frame_s_moment() -> None:
    clock, stats = Clock(), SourceStats()
    list(paced(_offsets(5, 2), max_fps=5, realtime=True, stats=stats, clock=clock, sleep=clock.sleep))

    assert stats.skipped == 0 and clock.now == pytest.approx(1_000 + 9 / 5)


def test_zones_cover_their_strips_and_polygons_take_points_inside_only() -> None:
    shelves = ZoneMap(strips([("a", ["s1"], "A"), ("b", [], "B")], width=200, height=100))
    assert [shelves.zone_at(p).zone_id for p in [(10, 50), (150, 99)]] == ["a", "b"]  # type: ignore[union-attr]
    assert shelves.get("a") is not None and shelves.get("a").sku_ids == ("s1",)  # type: ignore[union-attr]

    triangle = ZoneArea("t", ((0, 0), (100, 0), (0, 100)))
    assert triangle.contains((10, 10)) and not triangle.contains((80, 80))
    assert ZoneMap([triangle]).zone_at((90, 90)) is None
    with pytest.raises(ValueError, match="at least 3 corners"):
        ZoneMap([ZoneArea("line", ((0, 0), (1, 1)))])
