"""Pure dataflow steps: (state, event) -> (state, output). Unit-tested without running a dataflow."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from guang.domain.events import DwellEvent, Event, FaceEvent
from guang.domain.features import LastDwell, SubjectFeatures, decay_factor, decayed, top
from stream.linking import Link, Transfer

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
    linked_to: str | None = None
    """The member this (visitor) subject turned out to be, once linked at the till."""
    linked_ms: int = 0


@dataclass(frozen=True)
class InterestConfig:
    half_life_s: float
    zone_categories: Mapping[str, str]
    """zone_id -> category, so a dwell counts for the category of its shelf."""


def dwell_weight(dwell_ms: int) -> float:
    """Ten seconds in front of a shelf is one unit of interest; longer stays count up to two minutes."""
    return min(dwell_ms, DWELL_CAP_MS) / DWELL_UNIT_MS


def _add(scores: dict[str, float], key: str, weight: float) -> None:
    scores[key] = scores.get(key, 0.0) + weight


def update_interest(
    state: SubjectState | None, event: Event, *, config: InterestConfig
) -> tuple[SubjectState | None, SubjectFeatures | None]:
    """Fold one event into a subject's interest; emit the new features, or None when nothing changed.

    Scores decay with event time. A late event (older than what is known) adds its weight already
    decayed to the subject's clock and does not move that clock back.
    """
    if not isinstance(event, DwellEvent | FaceEvent):
        return state, None
    if state is None:
        state = SubjectState(features=SubjectFeatures(subject_id=event.subject_id, ts_ms=event.ts_ms))
    if event.event_id in state.seen:
        return state, None
    state.seen.append(event.event_id)
    old = state.features
    newest = event.ts_ms >= old.ts_ms
    if newest:
        factor = decay_factor(event.ts_ms - old.ts_ms, config.half_life_s)
        categories, skus, weight = decayed(old.category_scores, factor), decayed(old.sku_scores, factor), 1.0
    else:
        categories, skus = dict(old.category_scores), dict(old.sku_scores)
        weight = decay_factor(old.ts_ms - event.ts_ms, config.half_life_s)
    last_dwell = old.last_dwell
    category = config.zone_categories.get(event.zone_id) if isinstance(event, DwellEvent) else None
    if isinstance(event, DwellEvent) and category is not None:
        weight *= dwell_weight(event.dwell_ms)
        _add(categories, category, weight)
        for sku in event.sku_ids:
            _add(skus, sku, weight / len(event.sku_ids))
        categories, skus = top(categories, MAX_CATEGORIES), top(skus, MAX_SKUS)
        if newest or last_dwell is None:
            last_dwell = LastDwell(event.store_id or "", event.zone_id, category, event.dwell_ms)
    left = isinstance(event, FaceEvent) and event.action == "exit"
    state.features = SubjectFeatures(
        subject_id=old.subject_id,
        ts_ms=max(event.ts_ms, old.ts_ms),
        category_scores=categories,
        sku_scores=skus,
        last_dwell=last_dwell,
        store_id=event.store_id if newest else old.store_id,
        present=not left if newest else old.present,
        last_event_id=event.event_id if newest else old.last_event_id,
    )
    return state, state.features


def update_subject(
    state: SubjectState | None, item: Event | Link, *, config: InterestConfig
) -> tuple[SubjectState | None, list[SubjectFeatures | Transfer]]:
    """Interest per subject; a linked visitor's features also travel on to their member."""
    if isinstance(item, Link):
        marker = f"link:{item.event_id}:{item.member}"
        if state is None:
            state = SubjectState(features=SubjectFeatures(subject_id=item.visitor, ts_ms=item.ts_ms))
        if marker in state.seen:
            return state, []
        state.seen.append(marker)
        state.linked_to, state.linked_ms = item.member, item.ts_ms
        return state, [Transfer(item.member, item.visitor, state.features, item.ts_ms)]
    state, features = update_interest(state, item, config=config)
    if features is None or state is None:
        return state, []
    if state.linked_to is not None:
        return state, [features, Transfer(state.linked_to, features.subject_id, features, state.linked_ms)]
    return state, [features]
