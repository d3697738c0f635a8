"""Time windows that bound memory: trimming the events stream behind the dataflow, and the short windows
the steady load profile sets so they fill in its first half."""

from __future__ import annotations

import pytest

from guang.adapters.redis_bus import START, trim_before
from guang.bench.load import PROFILES, SHORT_WINDOWS
from guang.settings import Settings


def test_the_trim_point_is_the_retention_before_the_read_position() -> None:
    assert trim_before("1790000000000-7", 3600) == "1789996400000-0"
    assert trim_before("5000-0", 3600) is None  # nothing that old yet
    assert trim_before(START, 60) is None  # nothing read


def test_the_default_windows_are_bounded_and_cover_lateness() -> None:
    s = Settings()
    assert s.event_dedupe_ttl_s >= s.allowed_lateness_s + s.max_clock_skew_s
    assert s.event_dedupe_ttl_s <= 24 * 3600
    assert s.events_stream_retention_s <= 24 * 3600
    assert s.derived_once_ttl_s <= 7 * 24 * 3600


def test_the_load_windows_are_settings_and_fill_within_the_first_half_of_the_steady_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SHORT_WINDOWS.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    windows = [s.event_dedupe_ttl_s, s.events_stream_retention_s, s.documents_oplog_retention_s]
    assert windows == [int(v) for v in SHORT_WINDOWS.values()]
    steady = PROFILES["steady"]
    assert max(windows) <= (steady.run_time_s / 2) - steady.warmup_s
