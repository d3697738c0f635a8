"""Visitor↔member linking: the anonymous visitor a camera sees at the till when a member pays is that
member, so the visit's earlier dwell counts for the member (POS → SKU → consumer).

The payer is identified by the payment (member card / WeChat account), never by the face: the camera
only says which anonymous visitor stood at the till at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from guang.domain.events import Event, FaceEvent, PaymentEvent
from guang.domain.features import SubjectFeatures, decay_factor

BEFORE_PAYMENT_MS = 120_000
AFTER_PAYMENT_MS = 30_000
RETENTION_MS = 10 * 60_000
MAX_LINKED_VISITS = 8
"""A member keeps the most recent linked visits only, so merging stays cheap."""
MAX_SEEN = 256


@dataclass(frozen=True)
class Link:
    visitor: str
    member: str
    store_id: str
    ts_ms: int
    event_id: str


@dataclass(frozen=True)
class Transfer:
    """A linked visitor's current features, on their way to the member they belong to."""

    member: str
    visitor: str
    features: SubjectFeatures
    linked_ms: int
    """When the link was made: what decides which visits a member keeps, whatever the arrival order."""


@dataclass
class TillState:
    sightings: list[tuple[int, str]] = field(default_factory=list)
    payments: list[tuple[int, str, str]] = field(default_factory=list)
    linked: dict[tuple[str, str], int] = field(default_factory=dict)
    """(visitor, member) -> link time; a dict, not a set, so eviction order survives a restart."""
    paid_links: dict[str, int] = field(default_factory=dict)
    """payment event_id -> time, for payments already linked to a visitor."""
    seen_ids: dict[str, int] = field(default_factory=dict)
    newest_ms: int = 0


def _closest(candidates: Iterable[tuple[int, str]], ts_ms: int) -> str | None:
    window = [
        (abs(ts - ts_ms), who)
        for ts, who in candidates
        if -AFTER_PAYMENT_MS <= ts_ms - ts <= BEFORE_PAYMENT_MS
    ]
    return min(window)[1] if window else None


def update_till(
    state: TillState | None,
    event: Event,
    *,
    till_zones: frozenset[str],
    has_face_consent: Callable[[str], bool],
) -> tuple[TillState, list[Link]]:
    """Per store: remember who stood at the till and who paid; link each payment to at most one visitor,
    the one seen closest to it. Only members with an active face consent are linked: tying a
    camera-tracked visit to a person is face-derived."""
    state = state or TillState()
    links: list[Link] = []
    if isinstance(event, FaceEvent) and event.visitor_id and event.zone_id in till_zones:
        if event.event_id in state.seen_ids:
            return state, []
        state.seen_ids[event.event_id] = event.ts_ms
        state.sightings.append((event.ts_ms, event.subject_id))
        for pay_ts, member, payment_id in state.payments:
            if payment_id not in state.paid_links:
                links += _link(state, member, pay_ts, payment_id, event.store_id or "")
    elif isinstance(event, PaymentEvent) and event.user_id and has_face_consent(event.user_id):
        if event.event_id in state.seen_ids:
            return state, []
        state.seen_ids[event.event_id] = event.ts_ms
        state.payments.append((event.ts_ms, event.subject_id, event.event_id))
        links += _link(state, event.subject_id, event.ts_ms, event.event_id, event.store_id or "")
    else:
        return state, []
    state.newest_ms = max(state.newest_ms, event.ts_ms)
    horizon = state.newest_ms - RETENTION_MS
    state.sightings = [s for s in state.sightings if s[0] >= horizon]
    state.payments = [p for p in state.payments if p[0] >= horizon]
    state.seen_ids = {k: ts for k, ts in state.seen_ids.items() if ts >= horizon}
    state.paid_links = {k: ts for k, ts in state.paid_links.items() if ts >= horizon}
    if len(state.linked) > 4 * MAX_SEEN:
        state.linked = dict(sorted(state.linked.items(), key=lambda kv: (kv[1], kv[0]))[-MAX_SEEN:])
    return state, links


def _link(state: TillState, member: str, pay_ts: int, payment_id: str, store_id: str) -> list[Link]:
    visitor = _closest(state.sightings, pay_ts)
    if visitor is None or (visitor, member) in state.linked:
        return []
    state.linked[(visitor, member)] = pay_ts
    state.paid_links[payment_id] = pay_ts
    return [Link(visitor, member, store_id, pay_ts, payment_id)]


def combine(
    subject_id: str, own: SubjectFeatures | None, linked: Mapping[str, SubjectFeatures], *, half_life_s: float
) -> SubjectFeatures:
    """A member's features with those of the visits linked to them, decayed to the newest of all."""
    parts = [f for f in (own, *linked.values()) if f is not None]
    newest = max(parts, key=lambda f: f.ts_ms)
    categories: dict[str, float] = {}
    skus: dict[str, float] = {}
    for part in parts:
        factor = decay_factor(newest.ts_ms - part.ts_ms, half_life_s)
        for source, target in ((part.category_scores, categories), (part.sku_scores, skus)):
            for key, value in source.items():
                target[key] = target.get(key, 0.0) + value * factor
    last_dwell = next((f.last_dwell for f in sorted(parts, key=lambda f: -f.ts_ms) if f.last_dwell), None)
    return SubjectFeatures(
        subject_id=subject_id,
        ts_ms=newest.ts_ms,
        category_scores=categories,
        sku_scores=skus,
        last_dwell=last_dwell,
        store_id=newest.store_id,
        present=newest.present,
        last_event_id=newest.last_event_id,
    )


@dataclass
class MemberView:
    own: SubjectFeatures | None = None
    linked: dict[str, SubjectFeatures] = field(default_factory=dict)
    linked_ms: dict[str, int] = field(default_factory=dict)


def update_view(
    state: MemberView | None, item: SubjectFeatures | Transfer, *, half_life_s: float
) -> tuple[MemberView, SubjectFeatures]:
    """Keyed by subject: its own features, plus every linked visit once a link exists."""
    state = state or MemberView()
    if isinstance(item, Transfer):
        state.linked[item.visitor] = item.features
        state.linked_ms[item.visitor] = item.linked_ms
        if len(state.linked) > MAX_LINKED_VISITS:
            oldest = min(state.linked_ms, key=lambda visitor: (state.linked_ms[visitor], visitor))
            del state.linked[oldest], state.linked_ms[oldest]
        subject_id = item.member
    else:
        state.own = item
        subject_id = item.subject_id
    if not state.linked and state.own is not None:
        return state, state.own
    return state, combine(subject_id, state.own, state.linked, half_life_s=half_life_s)
