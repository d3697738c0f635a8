"""The dataflow, assembled. Run: `python -m bytewax.run "stream.flow:build_flow()"` (see `guang dataflow`)."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TypeGuard

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from guang.adapters.ports import DeadLetter
from guang.bootstrap import Container
from guang.domain.events import Event
from guang.domain.features import SubjectFeatures
from guang.services.catalog import Catalog
from guang.settings import Settings, get_settings
from stream.bus_source import BusSource
from stream.dead_letter_sink import DeadLetterSink
from stream.feature_sink import FeatureSink
from stream.intake import Envelope, decode, hold_back_late, watermark_key
from stream.steps import InterestConfig, update_interest


def _is_envelope(item: Envelope | DeadLetter) -> TypeGuard[Envelope]:
    return isinstance(item, Envelope)


def _is_event(item: Event | DeadLetter) -> TypeGuard[Event]:
    return not isinstance(item, DeadLetter)


def _dead(item: object) -> DeadLetter | None:
    return item if isinstance(item, DeadLetter) else None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _only_changes(item: tuple[str, SubjectFeatures | None]) -> tuple[str, SubjectFeatures] | None:
    subject_id, features = item
    return (subject_id, features) if features is not None else None


async def _zone_categories(container: Container) -> dict[str, str]:
    catalog = await Catalog.load(container.documents)
    await container.aclose()
    return {zone.id: zone.category for zone in catalog.zones.values()}


def build_flow(settings: Settings | None = None, *, stop_at_end: bool = False) -> Dataflow:
    settings = settings or get_settings()
    container = Container(settings)
    config = InterestConfig(
        half_life_s=settings.interest_half_life_s,
        zone_categories=asyncio.run(_zone_categories(Container(settings))),
    )
    flow = Dataflow("guang_features")
    messages = op.input("bus", flow, BusSource(container.event_reader, stop_at_end=stop_at_end))
    # BusMessage
    decoded = op.branch("decode", op.map("parse", messages, decode), _is_envelope)
    # Envelope | DeadLetter
    keyed = op.key_on("by_watermark", decoded.trues, watermark_key)
    # (store | mall | subject, Envelope)
    gate = partial(
        hold_back_late,
        allowed_lateness_ms=int(settings.allowed_lateness_s * 1000),
        max_skew_ms=int(settings.max_clock_skew_s * 1000),
    )
    checked = op.stateful_map("lateness", keyed, lambda newest, env: gate(newest, env, now_ms=_now_ms()))
    on_time = op.branch("on_time", op.map("unkey", checked, lambda kv: kv[1]), _is_event)
    # Event | DeadLetter
    events = on_time.trues
    dead = op.merge(
        "dead",
        op.filter_map("undecodable", decoded.falses, _dead),
        op.filter_map("late", on_time.falses, _dead),
    )
    # DeadLetter
    op.output("dead_letters", dead, DeadLetterSink(container.dead_letters))
    by_subject = op.key_on("by_subject", events, lambda event: event.subject_id)
    # (subject_id, Event)
    features = op.stateful_map("interest", by_subject, partial(update_interest, config=config))
    # (subject_id, SubjectFeatures | None)
    changed = op.filter_map("changed", features, _only_changes)
    # (subject_id, SubjectFeatures)
    op.output("features", changed, FeatureSink(container.feature_writer))
    return flow
