"""Live per-subject features: written by the dataflow, read by the recommender."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LastDwell:
    store_id: str
    zone_id: str
    category: str
    dwell_ms: int


@dataclass
class SubjectFeatures:
    """Decayed interest of one member or visitor, valid as of `ts_ms` (event time)."""

    subject_id: str
    ts_ms: int
    category_scores: dict[str, float] = field(default_factory=dict)
    sku_scores: dict[str, float] = field(default_factory=dict)
    last_dwell: LastDwell | None = None
    store_id: str | None = None
    present: bool = True
    last_event_id: str | None = None


@dataclass(frozen=True)
class ShopperHistory:
    """What the rules need about an audience: what they bought, what they were shown today on a surface."""

    bought: frozenset[str] = frozenset()
    shown_today: dict[str, int] = field(default_factory=dict)


def decay_factor(elapsed_ms: float, half_life_s: float) -> float:
    if elapsed_ms <= 0:
        return 1.0
    return math.pow(0.5, elapsed_ms / 1000.0 / half_life_s)


def decayed(scores: dict[str, float], factor: float, floor: float = 1e-3) -> dict[str, float]:
    """Scale all scores; drop those that have faded below `floor`."""
    return {key: value * factor for key, value in scores.items() if value * factor >= floor}


def top(scores: dict[str, float], n: int) -> dict[str, float]:
    return dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:n])
