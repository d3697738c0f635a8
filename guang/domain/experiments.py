"""A/B experiments: each subject lands in one arm of an experiment, the same one in every process.

The arm comes from sha256 of `"{name}:{subject_id}"` (never Python's `hash`, which is salted per process),
so the API that ranks, the dataflow that counts CTR per arm and any offline analysis agree on it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

_UNIT_BITS = 53
"""A float holds 53 bits exactly: that many hash bits map to [0, 1) without ever rounding up to 1.0."""


@dataclass(frozen=True)
class Experiment:
    """Arms are chosen with probability proportional to `weights` (equal when None); a zero weight
    closes an arm without moving the other subjects' arms before it."""

    name: str
    arms: tuple[str, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise ValueError("an experiment name must be non-empty and free of ':' (it is part of keys)")
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError(f"experiment {self.name}: arms must be non-empty and distinct")
        if any(not arm or ":" in arm for arm in self.arms):
            raise ValueError(f"experiment {self.name}: arm names must be non-empty and free of ':'")
        if self.weights is not None:
            if len(self.weights) != len(self.arms):
                raise ValueError(f"experiment {self.name}: one weight per arm is required")
            if any(not math.isfinite(w) or w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError(f"experiment {self.name}: weights must be finite, >= 0 and not all 0")


def unit_interval(experiment_name: str, subject_id: str) -> float:
    """The subject's stable position in [0, 1) for this experiment."""
    digest = hashlib.sha256(f"{experiment_name}:{subject_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> (64 - _UNIT_BITS)) / float(1 << _UNIT_BITS)


def assign_arm(experiment: Experiment, subject_id: str) -> str:
    """The arm of `subject_id` in `experiment`: deterministic, by cumulative weights over [0, 1)."""
    weights = experiment.weights or (1.0,) * len(experiment.arms)
    point = unit_interval(experiment.name, subject_id) * sum(weights)
    cumulative, last_open = 0.0, experiment.arms[0]
    for arm, weight in zip(experiment.arms, weights, strict=True):
        if weight <= 0:
            continue
        cumulative += weight
        last_open = arm
        if point < cumulative:
            return arm
    return last_open  # float rounding left `point` a hair above the last sum


DEFAULT_EXPERIMENTS: tuple[Experiment, ...] = (Experiment("ranker-v1", ("control", "treatment")),)
