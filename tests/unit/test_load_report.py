"""The load run's report: reading locust's CSVs, the memory trend and the budget verdicts."""

from __future__ import annotations

import pytest

from guang.bench.load import (
    ERROR_BUDGET,
    exit_status,
    judge,
    memory_trend,
    read_history,
    read_stats,
    slope_per_min,
)

HEADER = "Type,Name,Request Count,Failure Count,Requests/s,50%,95%,99%"


def _stats(*rows: str) -> dict[str, dict[str, str]]:
    return read_stats("\n".join([HEADER, *rows]) + "\n")


def test_budgets_pass_and_fail_on_the_p99_of_their_own_requests() -> None:
    stats = _stats(
        "POST,recommendations,1000,0,50.0,8,20,24",
        "WS,event→screen,100,0,1.0,30,90,160",
        ",Aggregated,5000,4,100.0,9,30,60",
    )
    verdicts = {v.budget: v for v in judge(stats)}
    assert verdicts["recommendations p99"].passed and verdicts["recommendations p99"].value == 24
    assert not verdicts["event → screen p99"].passed and verdicts["event → screen p99"].value == 160
    errors = verdicts[ERROR_BUDGET]
    assert errors.passed and errors.value == 0.08 and errors.detail == "4 of 5000 requests"
    assert "memory flat (slope after warm-up)" not in verdicts


def test_a_budget_with_no_samples_fails_and_so_does_an_error_rate_at_the_limit() -> None:
    stats = _stats("POST,recommendations,0,0,0,N/A,N/A,N/A", ",Aggregated,1000,1,10.0,9,30,60")
    verdicts = {v.budget: v for v in judge(stats)}
    assert not verdicts["recommendations p99"].passed and verdicts["recommendations p99"].value is None
    assert verdicts["event → screen p99"].detail == "no samples"
    assert not verdicts[ERROR_BUDGET].passed, "0.1 % is not < 0.1 %"
    assert not {v.budget: v for v in judge(_stats())}[ERROR_BUDGET].passed, "no requests at all"


def test_exit_status_fails_on_errors_always_and_on_latency_only_when_strict() -> None:
    slow = judge(_stats("POST,recommendations,10,0,1,8,20,99", ",Aggregated,10,0,1,9,30,99"))
    assert exit_status(slow, strict=False) == 0
    assert exit_status(slow, strict=True) == 1
    broken = judge(_stats(",Aggregated,10,5,1,9,30,99"))
    assert exit_status(broken, strict=False) == 1


def test_slope_is_the_least_squares_fit_in_mib_per_minute() -> None:
    assert slope_per_min([(0, 100), (60, 102), (120, 104)]) == pytest.approx(2.0)
    assert slope_per_min([(0, 100), (30, 110), (60, 100)]) == pytest.approx(0.0)
    assert slope_per_min([(0, 100)]) == 0.0
    assert slope_per_min([(5, 100), (5, 200)]) == 0.0


def test_memory_is_flat_when_it_stops_growing_after_warm_up() -> None:
    warm = [(t * 10.0, 300.0 + min(t, 6) * 10) for t in range(60)]  # grows for a minute, then level
    trend = memory_trend(warm)
    assert (trend["first_mib"], trend["last_mib"], trend["max_mib"]) == (300.0, 360.0, 360.0)
    assert trend["slope_mib_per_min"] > 0 and trend["late_slope_mib_per_min"] == 0.0 and trend["flat"]
    leaking = memory_trend([(t * 10.0, 300.0 + t * 2.0) for t in range(60)])  # 12 MiB/min
    assert not leaking["flat"] and leaking["late_slope_mib_per_min"] == pytest.approx(12.0)
    assert memory_trend([]) == {"samples": 0}
    memory = {v.budget: v for v in judge(_stats(",Aggregated,10,0,1,9,30,99"), leaking)}
    assert not memory["memory flat (slope after warm-up)"].passed


def test_history_rows_are_numbers_by_name_with_none_for_n_a() -> None:
    text = (
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%\n"
        "1700000000,5,,Aggregated,0.0,0.0,N/A,N/A,N/A\n"
        "1700000001,5,,Aggregated,12.5,0.0,9,30,61\n"
        "1700000001,5,POST,recommendations,3.0,0.0,8,20,24\n"
    )
    series = read_history(text)
    assert [p["99%"] for p in series["Aggregated"]] == [None, 61.0]
    assert series["recommendations"][0]["Requests/s"] == 3.0
