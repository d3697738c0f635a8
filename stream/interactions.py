"""Pure dataflow steps for interaction events: frequency caps, engagement counts, CTR per surface and arm.

Each mapper fits `op.stateful_flat_map`: `(state | None, message) -> (state, list[Write])`. Counters live
in the (recoverable) state and only absolute values are emitted; every state remembers a bounded window
of recent event ids, so a redelivered event has no second effect. Only event time is used, so a replay
produces the same writes. States hold dicts and ints only (insertion-ordered, picklable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from guang.domain.events import Event, InteractionEvent
from guang.domain.experiments import Experiment, assign_arm
from guang.domain.keys import (
    ctr_arm_group,
    ctr_key,
    ctr_surface_group,
    day_number,
    freq_field,
    local_day,
    subject_engage_key,
    subject_freq_key,
)
from guang.domain.writes import Put, Write

# Config and state

ENGAGE_FIELDS = {
    "click": "clicks",
    "like": "likes",
    "share": "shares",
    "follow": "follows",
    "claim": "claims",
    "consult": "consults",
}
"""Impressions are deliberately not counted here: they are the bulk of events and carry no engagement."""
CONVERSIONS = ("claim", "consult")
CTR_ACTIONS = ("impression", "click", *CONVERSIONS)


@dataclass(frozen=True)
class InteractionConfig:
    dedupe_window: int = 1024
    """How many recent event ids each state remembers to drop redeliveries."""
    freq_ttl_s: int = 2 * 86_400
    keep_days: int = 2
    """Days of frequency counters kept in a subject's state: today and yesterday (for late events)."""
    max_targets_per_day: int = 2000
    """Per subject and day; beyond it the least recently touched target is forgotten (bots, crawlers)."""

    def __post_init__(self) -> None:
        if min(self.dedupe_window, self.freq_ttl_s, self.keep_days, self.max_targets_per_day) < 1:
            raise ValueError("bounds and the ttl must be at least 1")


class FreqCounter(NamedTuple):
    impressions: int = 0
    last_impression_ms: int | None = None
    clicks: int = 0


@dataclass
class SubjectInteractions:
    """Per member or visitor. `days` maps a UTC+8 day number to counters per `freq_field`, least recently
    touched first; only the newest `keep_days` days are kept."""

    seen: dict[str, None] = field(default_factory=dict)
    newest_day: int | None = None
    days: dict[int, dict[str, FreqCounter]] = field(default_factory=dict)
    engage: dict[str, int] = field(default_factory=dict)


class CtrMessage(NamedTuple):
    """One event as seen by one CTR group (Bytewax mappers do not see the key)."""

    group: str
    action: str
    event_id: str
    ts_ms: int


@dataclass
class CtrCounts:
    seen: dict[str, None] = field(default_factory=dict)
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0


def _first_time(seen: dict[str, None], event_id: str, window: int) -> bool:
    """Remember the newest `window` event ids (an insertion-ordered dict: O(1) lookup and eviction)."""
    if event_id in seen:
        return False
    seen[event_id] = None
    while len(seen) > window:
        del seen[next(iter(seen))]
    return True


# Subject frequency caps and engagement


def update_subject_interactions(
    state: SubjectInteractions | None, event: Event, *, config: InteractionConfig
) -> tuple[SubjectInteractions | None, list[Write]]:
    """Keyed by subject_id. An impression or click older than the kept days still counts for engagement."""
    if not isinstance(event, InteractionEvent):
        return state, []
    state = state or SubjectInteractions()
    if not _first_time(state.seen, event.event_id, config.dedupe_window):
        return state, []
    writes: list[Write] = []
    subject = event.subject_id
    if event.action in ("impression", "click"):
        counters = _day_counters(state, day_number(event.ts_ms), config)
        if counters is not None:
            name = freq_field(event.surface, event.target_type, event.target_id)
            old = counters.pop(name, FreqCounter())  # re-inserted last: most recently touched
            if event.action == "impression":
                last = max(old.last_impression_ms or 0, event.ts_ms)  # a late impression keeps the newest
                counters[name] = FreqCounter(old.impressions + 1, last, old.clicks)
                key = subject_freq_key(subject, local_day(event.ts_ms))
                writes.append(Put(key, counters[name].impressions, field=name, ttl_s=config.freq_ttl_s))
            else:
                counters[name] = old._replace(clicks=old.clicks + 1)
            while len(counters) > config.max_targets_per_day:
                del counters[next(iter(counters))]
    engage_field = ENGAGE_FIELDS.get(event.action)
    if engage_field is not None:
        state.engage[engage_field] = state.engage.get(engage_field, 0) + 1
        writes.append(Put(subject_engage_key(subject), state.engage[engage_field], field=engage_field))
    return state, writes


def _day_counters(
    state: SubjectInteractions, day: int, config: InteractionConfig
) -> dict[str, FreqCounter] | None:
    """The counters of `day`, rolling the kept days forward; None when the day is no longer kept.

    Dropped days need no Delete: their keys expire by TTL.
    """
    if state.newest_day is None or day > state.newest_day:
        state.newest_day = day
        for old in sorted(d for d in state.days if d <= day - config.keep_days):
            del state.days[old]
    if day <= state.newest_day - config.keep_days:
        return None
    return state.days.setdefault(day, {})


# CTR per surface and per experiment arm


def ctr_fanout(event: Event, *, experiments: tuple[Experiment, ...]) -> list[tuple[str, CtrMessage]]:
    """One message for the event's surface and one per experiment arm of its subject, keyed by group.

    Every group of one surface is a single key (one worker); that is fine at mall scale.
    """
    if not isinstance(event, InteractionEvent) or event.action not in CTR_ACTIONS:
        return []
    groups = [ctr_surface_group(event.surface)]
    groups += [
        ctr_arm_group(experiment.name, assign_arm(experiment, event.subject_id), event.surface)
        for experiment in experiments
    ]
    return [(group, CtrMessage(group, event.action, event.event_id, event.ts_ms)) for group in groups]


def update_ctr(
    state: CtrCounts | None, message: CtrMessage, *, config: InteractionConfig
) -> tuple[CtrCounts | None, list[Write]]:
    """Keyed by group (after `ctr_fanout`): emits the counts that changed and, with them, the CTR."""
    if message.action not in CTR_ACTIONS:
        return state, []
    state = state or CtrCounts()
    if not _first_time(state.seen, message.event_id, config.dedupe_window):
        return state, []
    key = ctr_key(message.group)
    if message.action in CONVERSIONS:
        state.conversions += 1
        return state, [Put(key, state.conversions, field="conversions")]
    if message.action == "impression":
        state.impressions += 1
        changed = Put(key, state.impressions, field="impressions")
    else:
        state.clicks += 1
        changed = Put(key, state.clicks, field="clicks")
    return state, [changed, Put(key, ctr(state.clicks, state.impressions), field="ctr")]


def ctr(clicks: int, impressions: int) -> float:
    """Clicks per impression, rounded to 6 decimals; 0.0 without impressions. Not capped at 1: more
    clicks than impressions means lost impression events, which should stay visible."""
    return round(clicks / impressions, 6) if impressions else 0.0
