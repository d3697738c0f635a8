"""The dataflow, assembled. Run: `python -m bytewax.run "stream.flow:build_flow()"` (see `guang dataflow`)."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from guang.adapters.ports import BusMessage
from guang.bootstrap import Container
from guang.domain.events import Event, event_from_json
from guang.domain.features import SubjectFeatures
from guang.services.catalog import Catalog
from guang.settings import Settings, get_settings
from stream.bus_source import BusSource
from stream.feature_sink import FeatureSink
from stream.steps import InterestConfig, update_interest

log = logging.getLogger(__name__)


def decode(message: BusMessage) -> Event | None:
    try:
        return event_from_json(message.data)
    except ValueError:
        log.warning("undecodable bus entry %s skipped", message.position)
        return None


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
    events = op.filter_map("decode", messages, decode)
    # Event
    by_subject = op.key_on("by_subject", events, lambda event: event.subject_id)
    # (subject_id, Event)
    features = op.stateful_map("interest", by_subject, partial(update_interest, config=config))
    # (subject_id, SubjectFeatures | None)
    changed = op.filter_map("changed", features, _only_changes)
    # (subject_id, SubjectFeatures)
    op.output("features", changed, FeatureSink(container.feature_writer))
    return flow
