"""Pure dataflow steps: (state, event) -> (state, output). Unit-tested without running a dataflow."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from guang.domain.events import DwellEvent, Event, FaceEvent
from guang.domain.features import LastDwell, SubjectFeatures, decay_factor, decayed, top

MAX_SEEN_EVENT_IDS = 512
MAX_CATEGORIES = 32
MAX_SKUS = 64
DWELL_CAP_MS = 120_000
DWELL_UNIT_MS = 10_000


@dataclass
class SubjectState:
    """What the dataflow remembers per member or visitor; snapshotted by Bytewax recovery."""

    features: SubjectFeatures
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_SEEN_EVENT_IDS))


@dataclass(frozen=True)
class InterestConfig:
    half_life_s: float
    zone_categories: Mapping[str, str]
    """zone_id -> category, so a dwell counts for the category of its shelf."""


def dwell_weight(dwell_ms: int) -> float:
    """Ten seconds in front of a shelf is one unit of interest; longer stays count up to two minutes."""
    return min(dwell_ms, DWELL_CAP_MS) / DWELL_UNIT_MS


def _advance(features: SubjectFeatures, ts_ms: int, half_life_s: float) -> tuple[SubjectFeatures, float]:
    """Move features forward to `ts_ms`; return them and the weight factor for an event at `ts_ms`."""
    if ts_ms >= features.ts_ms:
        factor = decay_factor(ts_ms - features.ts_ms, half_life_s)
        moved = replace(
            features,
            ts_ms=ts_ms,
            category_scores=decayed(features.category_scores, factor),
            sku_scores=decayed(features.sku_scores, factor),
        )
        return moved, 1.0
    return features, decay_factor(features.ts_ms - ts_ms, half_life_s)


def _apply_dwell(
    features: SubjectFeatures, event: DwellEvent, weight: float, category: str
) -> SubjectFeatures:
    categories = dict(features.category_scores)
    categories[category] = categories.get(category, 0.0) + weight
    skus = dict(features.sku_scores)
    for sku in event.sku_ids:
        skus[sku] = skus.get(sku, 0.0) + weight / len(event.sku_ids)
    last = features.last_dwell
    if event.ts_ms >= features.ts_ms or last is None:
        last = LastDwell(
            store_id=event.store_id or "", zone_id=event.zone_id, category=category, dwell_ms=event.dwell_ms
        )
    return replace(
        features,
        category_scores=top(categories, MAX_CATEGORIES),
        sku_scores=top(skus, MAX_SKUS),
        last_dwell=last,
    )


def update_interest(
    state: SubjectState | None, event: Event, *, config: InterestConfig
) -> tuple[SubjectState | None, SubjectFeatures | None]:
    """Fold one event into a subject's interest; emit the new features, or None when nothing changed."""
    if not isinstance(event, DwellEvent | FaceEvent):
        return state, None
    if state is None:
        state = SubjectState(features=SubjectFeatures(subject_id=event.subject_id, ts_ms=event.ts_ms))
    if event.event_id in state.seen:
        return state, None
    state.seen.append(event.event_id)
    features, weight = _advance(state.features, event.ts_ms, config.half_life_s)
    if isinstance(event, DwellEvent):
        category = config.zone_categories.get(event.zone_id)
        if category is not None:
            features = _apply_dwell(features, event, weight * dwell_weight(event.dwell_ms), category)
    is_newest = event.ts_ms >= state.features.ts_ms
    if is_newest:
        left = isinstance(event, FaceEvent) and event.action == "exit"
        features = replace(features, store_id=event.store_id, present=not left, last_event_id=event.event_id)
    state.features = features
    return state, features
