"""The dataflow, assembled. Run: `python -m bytewax.run "stream.flow:build_flow()"` (the demo does).

Each part is a pure step module; this file only wires them. Streams are named by their shape.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeGuard

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream

from guang.adapters.ports import BusMessage, ConsentView, DeadLetter
from guang.adapters.redis_bus import position_ms
from guang.bootstrap import Container
from guang.domain.events import DwellEvent, Event, FaceEvent, InteractionEvent, LocationEvent, PaymentEvent
from guang.domain.experiments import DEFAULT_EXPERIMENTS
from guang.domain.features import SubjectFeatures
from guang.domain.signals import Signal
from guang.domain.writes import Write
from guang.settings import Settings, get_settings
from stream import interactions, purchases, store_stats
from stream.arrivals import member_arrivals
from stream.bus_source import BusSource
from stream.context import FlowContext, load_context
from stream.geofence import GeofenceConfig, Geofences, update_geofence
from stream.intake import Envelope, decode, face_consent_gate, hold_back_late, watermark_key
from stream.linking import Link, Transfer, update_till, update_view
from stream.sinks import AbsoluteWrites, SubjectFeatureWrites, WriterSink
from stream.steps import InterestConfig, update_subject


def build_flow(settings: Settings | None = None, *, stop_at_end: bool = False) -> Dataflow:
    settings = settings or get_settings()
    container = Container(settings)
    context = load_context(settings)
    flow = Dataflow("guang_features")
    messages = op.input("bus", flow, BusSource(container.event_reader, stop_at_end=stop_at_end))
    # BusMessage
    consents = container.consent_view()
    events, dead = _intake(messages, settings, consents)
    # Event; DeadLetter
    op.output("dead_letters", dead, WriterSink(container.dead_letters))
    features = _subject_features(events, settings, context, consents)
    op.output("features", features, WriterSink(lambda: SubjectFeatureWrites(container.feature_writer())))
    # (subject_id, SubjectFeatures)
    where, signals = _places(events, context)
    # Write; Signal
    arrivals = op.flat_map("member_arrivals", events, member_arrivals)
    # Signal
    op.output("signals", op.merge("all_signals", signals, arrivals), WriterSink(container.signals))
    writes = op.merge(
        "all_writes", where, _purchases(events, context), _store_stats(events), _interactions(events)
    )
    # Write
    op.output("writes", writes, WriterSink(lambda: AbsoluteWrites(container.feature_writer())))
    return flow


def _intake(
    messages: Stream[BusMessage], settings: Settings, consents: ConsentView
) -> tuple[Stream[Event], Stream[DeadLetter]]:
    """Decode; refuse face-derived events without consent; hold back what is too late or from the future.
    Every refusal becomes a dead letter with its reason."""
    gate_consent = partial(face_consent_gate, has_face_consent=consents.has_face_consent)
    decoded = op.branch(
        "decode", op.map("parse", messages, partial(_decode_with, gate_consent)), _is_envelope
    )
    # Envelope | DeadLetter
    gate = partial(
        hold_back_late,
        allowed_lateness_ms=int(settings.allowed_lateness_s * 1000),
        max_skew_ms=int(settings.max_clock_skew_s * 1000),
    )
    keyed = op.key_on("by_watermark", decoded.trues, watermark_key)
    # (store | mall | subject, Envelope)
    checked = op.stateful_map("lateness", keyed, lambda newest, env: gate(newest, env, now_ms=_bus_ms(env)))
    on_time = op.branch("on_time", op.map("unkey", checked, lambda kv: kv[1]), _is_event)
    dead = op.merge(
        "dead",
        op.filter_map("undecodable", decoded.falses, _dead),
        op.filter_map("late", on_time.falses, _dead),
    )
    return on_time.trues, dead


def _subject_features(
    events: Stream[Event], settings: Settings, context: FlowContext, consents: ConsentView
) -> op.KeyedStream[SubjectFeatures]:
    """Interest per subject, with visits linked at the till counted for the member who paid."""
    config = InterestConfig(
        half_life_s=settings.interest_half_life_s, zone_categories=context.zone_categories
    )
    tills = context.till_zones
    at_till = op.key_on("by_store", op.filter("till", events, partial(_at_till, tills=tills)), _store)
    # (store_id, FaceEvent at the till | PaymentEvent by a member)
    link = partial(update_till, till_zones=tills, has_face_consent=consents.has_face_consent)
    links = op.stateful_flat_map("link", at_till, link)
    links_by_visitor = op.key_on("link_by_visitor", op.map("unkey_links", links, lambda kv: kv[1]), _visitor)
    # (visitor subject_id, Link)
    by_subject = op.key_on("by_subject", events, lambda event: event.subject_id)
    derived = op.stateful_flat_map(
        "interest",
        op.merge("with_links", by_subject, links_by_visitor),
        partial(update_subject, config=config),
    )
    # (subject_id, SubjectFeatures | Transfer)
    routed = op.branch("member_or_visitor", op.map("to_view", derived, _to_view), _for_member)
    members = op.stateful_map(
        "member_view", routed.trues, partial(update_view, half_life_s=config.half_life_s)
    )
    # (member subject_id, SubjectFeatures with linked visits)
    return op.merge("all_subjects", members, op.filter_map("visitors", routed.falses, _own_features))


def _places(events: Stream[Event], context: FlowContext) -> tuple[Stream[Write], Stream[Signal]]:
    """Where each subject is (mall, store) and the crossings that trigger arrival/parking/exit moments."""
    fences = Geofences.from_models(context.malls, context.stores)
    locations = op.key_on("by_subject_location", op.filter("locations", events, _is_location), _subject)
    crossed = op.stateful_flat_map(
        "geofence", locations, partial(update_geofence, fences=fences, config=GeofenceConfig())
    )
    outputs = op.branch("signal_or_write", op.map("unkey_places", crossed, lambda kv: kv[1]), _is_signal)
    return op.filter_map("where", outputs.falses, _write), outputs.trues


def _purchases(events: Stream[Event], context: FlowContext) -> Stream[Write]:
    """Purchase history, co-purchase, guide commission and coupon redemptions, once per order."""
    config = purchases.PurchaseConfig(commission_rate_by_store=context.commission_rate_by_store)
    payments = op.filter_map("payments", events, _payment)
    # PaymentEvent
    history = op.stateful_flat_map(
        "purchase_history",
        op.key_on("by_payer", payments, _subject),
        partial(purchases.update_purchase_history, config=config),
    )
    together = op.stateful_flat_map(
        "copurchase",
        op.flat_map("per_sku", payments, purchases.copurchase_fanout),
        partial(purchases.update_copurchase, config=config),
    )
    ledger = op.stateful_flat_map(
        "guide_ledger",
        op.flat_map("per_guide", payments, purchases.guide_fanout),
        partial(purchases.update_guide_ledger, config=config),
    )
    coupons = op.stateful_flat_map(
        "coupons",
        op.flat_map("per_coupon", payments, purchases.coupon_fanout),
        partial(purchases.update_coupon_redemptions, config=config),
    )
    merged = op.merge("purchase_writes", history, together, ledger, coupons)
    return op.map("unkey_purchases", merged, lambda kv: kv[1])


def _interactions(events: Stream[Event]) -> Stream[Write]:
    """Frequency caps and engagement per subject; CTR and conversions per surface and experiment arm."""
    config = interactions.InteractionConfig()
    taps = op.filter("interaction_events", events, _is_interaction)
    per_subject = op.stateful_flat_map(
        "subject_interactions",
        op.key_on("by_viewer", taps, _subject),
        partial(interactions.update_subject_interactions, config=config),
    )
    per_group = op.stateful_flat_map(
        "ctr",
        op.flat_map("per_ctr_group", taps, partial(interactions.ctr_fanout, experiments=DEFAULT_EXPERIMENTS)),
        partial(interactions.update_ctr, config=config),
    )
    return op.map(
        "unkey_interactions", op.merge("interaction_writes", per_subject, per_group), lambda kv: kv[1]
    )


def _store_stats(events: Stream[Event]) -> Stream[Write]:
    """Footfall, dwell per zone, conversion and redemptions per store; trending SKUs per mall."""
    config = store_stats.StatsConfig()
    per_store = op.stateful_flat_map(
        "store_stats",
        op.key_on("by_store_stats", op.filter("in_store", events, _has_store), _store),
        partial(store_stats.update_store_stats, config=config),
    )
    per_mall = op.stateful_flat_map(
        "mall_trending",
        op.key_on("by_mall", op.filter("in_mall", events, _has_mall), _mall),
        partial(store_stats.update_mall_trending, config=config),
    )
    return op.map("unkey_stats", op.merge("stats_writes", per_store, per_mall), lambda kv: kv[1])


def _decode_with(
    gate: Callable[[Envelope], Envelope | DeadLetter], message: BusMessage
) -> Envelope | DeadLetter:
    item = decode(message)
    return item if isinstance(item, DeadLetter) else gate(item)


def _is_envelope(item: Envelope | DeadLetter) -> TypeGuard[Envelope]:
    return isinstance(item, Envelope)


def _is_event(item: Event | DeadLetter) -> TypeGuard[Event]:
    return not isinstance(item, DeadLetter)


def _is_interaction(event: Event) -> bool:
    return isinstance(event, InteractionEvent)


def _is_location(event: Event) -> bool:
    return isinstance(event, LocationEvent)


def _is_signal(item: Signal | Write) -> TypeGuard[Signal]:
    return isinstance(item, Signal)


def _dead(item: object) -> DeadLetter | None:
    return item if isinstance(item, DeadLetter) else None


def _write(item: Signal | Write) -> Write | None:
    return None if isinstance(item, Signal) else item


def _payment(event: Event) -> PaymentEvent | None:
    return event if isinstance(event, PaymentEvent) else None


def _subject(event: Event) -> str:
    return event.subject_id


def _store(event: Event) -> str:
    return event.store_id or ""


def _mall(event: Event) -> str:
    return event.mall_id or ""


def _has_store(event: Event) -> bool:
    return event.store_id is not None and not isinstance(event, LocationEvent)


def _has_mall(event: Event) -> bool:
    return event.mall_id is not None and isinstance(event, PaymentEvent | DwellEvent)


def _visitor(link: Link) -> str:
    return link.visitor


def _at_till(event: Event, *, tills: frozenset[str]) -> bool:
    if isinstance(event, PaymentEvent):
        return event.user_id is not None and event.store_id is not None
    return isinstance(event, FaceEvent) and event.zone_id in tills


def _to_view(item: tuple[str, SubjectFeatures | Transfer]) -> tuple[str, SubjectFeatures | Transfer]:
    """Own features stay with their subject; a linked visitor's features go to the member."""
    subject_id, value = item
    return (value.member, value) if isinstance(value, Transfer) else (subject_id, value)


def _for_member(item: tuple[str, SubjectFeatures | Transfer]) -> bool:
    """Only members can have linked visits to merge; visitors skip that step."""
    return item[0].startswith("u:")


def _own_features(item: tuple[str, SubjectFeatures | Transfer]) -> tuple[str, SubjectFeatures] | None:
    subject_id, value = item
    return (subject_id, value) if isinstance(value, SubjectFeatures) else None


def _bus_ms(envelope: Envelope) -> int:
    """When the event reached the bus: a clock that replays identically after a restart."""
    return position_ms(envelope.position)
