from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from guang.domain.experiments import DEFAULT_EXPERIMENTS, Experiment, assign_arm, unit_interval

RANKER = Experiment("ranker-v1", ("control", "treatment"))
SUBJECTS = [f"v:visitor-{i}" for i in range(10_000)]


def test_assignment_is_deterministic_and_pinned() -> None:
    # Pinned values: a change here reshuffles every running experiment.
    assert [assign_arm(RANKER, s) for s in ("u:m1", "u:m2", "u:m3", "v:v3")] == [
        "control",
        "control",
        "treatment",
        "treatment",
    ]
    assert unit_interval("ranker-v1", "u:m1") == 0.43168924293288435
    assert all(assign_arm(RANKER, s) == assign_arm(RANKER, s) for s in SUBJECTS[:100])
    assert DEFAULT_EXPERIMENTS == (RANKER,)


def test_assignment_is_the_same_in_another_process() -> None:
    code = "from guang.domain.experiments import *; print(assign_arm(DEFAULT_EXPERIMENTS[0], 'u:m3'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "treatment"


def test_equal_weights_split_evenly() -> None:
    counts = Counter(assign_arm(RANKER, s) for s in SUBJECTS)
    assert set(counts) == {"control", "treatment"}
    assert all(abs(n / len(SUBJECTS) - 0.5) <= 0.03 for n in counts.values())
    three = Experiment("layout", ("a", "b", "c"))
    counts = Counter(assign_arm(three, s) for s in SUBJECTS)
    assert all(abs(n / len(SUBJECTS) - 1 / 3) <= 0.03 for n in counts.values())


def test_weights_are_respected_and_a_zero_weight_closes_an_arm() -> None:
    weighted = Experiment("ranker-v1", ("control", "treatment"), weights=(9.0, 1.0))
    counts = Counter(assign_arm(weighted, s) for s in SUBJECTS)
    assert abs(counts["control"] / len(SUBJECTS) - 0.9) <= 0.03
    assert abs(counts["treatment"] / len(SUBJECTS) - 0.1) <= 0.03
    closed = Experiment("ranker-v1", ("control", "off", "treatment"), weights=(0.5, 0.0, 0.5))
    assert all(assign_arm(closed, s) == assign_arm(RANKER, s) for s in SUBJECTS[:1000])
    only = Experiment("ranker-v1", ("control", "treatment"), weights=(1.0, 0.0))
    assert {assign_arm(only, s) for s in SUBJECTS[:1000]} == {"control"}


def test_different_experiments_assign_independently() -> None:
    other = Experiment("coupon-copy", ("control", "treatment"))
    same = sum(assign_arm(RANKER, s) == assign_arm(other, s) for s in SUBJECTS)
    assert abs(same / len(SUBJECTS) - 0.5) <= 0.03


@pytest.mark.parametrize(
    ("name", "arms", "weights"),
    [
        ("", ("a",), None),
        ("x:y", ("a",), None),
        ("x", (), None),
        ("x", ("a", "a"), None),
        ("x", ("a:b",), None),
        ("x", ("a", "b"), (1.0,)),
        ("x", ("a", "b"), (1.0, -1.0)),
        ("x", ("a", "b"), (0.0, 0.0)),
        ("x", ("a", "b"), (1.0, float("nan"))),
    ],
)
def test_invalid_experiments_are_rejected(
    name: str, arms: tuple[str, ...], weights: tuple[float, ...] | None
) -> None:
    with pytest.raises(ValueError):
        Experiment(name, arms, weights)
