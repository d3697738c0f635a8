"""The real Bytewax dataflow over a real bus and feature store (Valkey) with zones from SecantusDB."""

from __future__ import annotations

import asyncio
import uuid

import redis
from bytewax.testing import run_main

from guang.adapters.mongo_documents import MongoDocumentStore
from guang.adapters.redis_bus import RedisDeadLetters
from guang.adapters.redis_features import RedisFeatureStore
from guang.bootstrap import Container
from guang.domain import keys
from guang.domain.events import DwellEvent, FaceEvent, PaymentEvent, PaymentItem, event_to_json
from guang.settings import Settings
from stream.flow import build_flow

T0 = 1_790_000_000_000


def settings_for(valkey_url: str, mongo_uri: str) -> Settings:
    return Settings(
        kv_mode="server",
        kv_url=valkey_url,
        bus_mode="server",
        bus_url=valkey_url,
        documents_mode="server",
        documents_uri=mongo_uri,
        documents_db=f"flow{uuid.uuid4().hex[:8]}",
        events_stream=f"test:flow:{uuid.uuid4().hex}",
        interest_half_life_s=600,
        dead_letter_stream=f"test:dead:{uuid.uuid4().hex}",
    )


def dwell(event_id: str, subject: str, zone: str, ts: int) -> DwellEvent:
    return DwellEvent(
        type="dwell", event_id=event_id, ts_ms=ts, store_id="s1", visitor_id=subject, zone_id=zone,
        sku_ids=["sku-000001"], dwell_ms=30_000,
    )  # fmt: skip


async def features_of(settings: Settings, subject: str) -> dict[str, float]:
    store = RedisFeatureStore(settings.kv_url)
    found = await store.subjects([subject])
    await store.close()
    return found[0].category_scores if found else {}


def test_dwell_events_become_interest_features_and_replays_change_nothing(
    valkey_url: str, mongo_uri: str
) -> None:
    settings = settings_for(valkey_url, mongo_uri)
    docs = MongoDocumentStore(settings.documents_uri, settings.documents_db)
    zones = [{"_id": z, "id": z, "store_id": "s1", "name": f"{c}区", "category": c}
             for z, c in (("z-jeans", "牛仔裤"), ("z-coats", "外套"))]  # fmt: skip
    asyncio.run(docs.insert_many("zones", zones))
    events = [
        dwell("e1", "alice", "z-jeans", T0),
        dwell("e2", "alice", "z-coats", T0 + 1000),
        dwell("e3", "bob", "z-coats", T0),
        FaceEvent(
            type="face", event_id="f1", ts_ms=T0 + 2000, store_id="s1", visitor_id="bob", action="seen"
        ),
    ]
    raw = redis.Redis.from_url(valkey_url)
    for event in [*events, events[0]]:  # the bus delivered e1 twice (at-least-once)
        raw.xadd(settings.events_stream, {"e": event_to_json(event)})
    raw.xadd(settings.events_stream, {"e": b"not json"})
    raw.xadd(
        settings.events_stream, {"e": event_to_json(dwell("late", "carol", "z-coats", T0 - 11 * 60_000))}
    )

    run_main(build_flow(settings, stop_at_end=True))
    alice = asyncio.run(features_of(settings, "v:alice"))
    assert set(alice) == {"牛仔裤", "外套"}
    assert alice["外套"] > alice["牛仔裤"] > 0
    assert set(asyncio.run(features_of(settings, "v:bob"))) == {"外套"}

    assert asyncio.run(features_of(settings, "v:carol")) == {}
    letters = RedisDeadLetters(settings.bus_url, stream=settings.dead_letter_stream).read()
    assert [(letter.event_id, letter.reason.split(":")[0]) for letter in letters] == [
        (None, "undecodable bus entry"),
        ("late", "too late"),
    ]

    run_main(build_flow(settings, stop_at_end=True))  # a full replay, as after losing the recovery state
    assert asyncio.run(features_of(settings, "v:alice")) == alice
    assert len(RedisDeadLetters(settings.bus_url, stream=settings.dead_letter_stream).read()) == 2

    asyncio.run(Container(settings).documents.drop_database())


def test_a_visitors_dwell_counts_for_the_member_who_then_pays_at_the_till(
    valkey_url: str, mongo_uri: str
) -> None:
    settings = settings_for(valkey_url, mongo_uri)
    zones = [
        {"_id": "z-jeans", "id": "z-jeans", "store_id": "s1", "name": "牛仔裤区", "category": "牛仔裤"},
        {"_id": "z-till", "id": "z-till", "store_id": "s1", "name": "收银台", "category": "", "kind": "till"},
    ]
    docs = MongoDocumentStore(settings.documents_uri, settings.documents_db)
    asyncio.run(docs.insert_many("zones", zones))
    item = PaymentItem(sku_id="sku-000007", qty=1, price_fen=29900)
    events = [
        dwell("w1", "walker", "z-jeans", T0),
        FaceEvent(
            type="face",
            event_id="w2",
            ts_ms=T0 + 60_000,
            store_id="s1",
            visitor_id="walker",
            zone_id="z-till",
            action="seen",
        ),
        PaymentEvent(
            type="payment",
            event_id="w3",
            ts_ms=T0 + 70_000,
            store_id="s1",
            user_id="m-1",
            order_id="o-1",
            amount_fen=29900,
            items=[item],
            channel="pos",
        ),
    ]
    raw = redis.Redis.from_url(valkey_url)
    raw.sadd(keys.FACE_CONSENT, "m-1")
    for event in events:
        raw.xadd(settings.events_stream, {"e": event_to_json(event)})

    run_main(build_flow(settings, stop_at_end=True))
    member = asyncio.run(features_of(settings, "u:m-1"))
    visitor = asyncio.run(features_of(settings, "v:walker"))
    assert set(member) == {"牛仔裤"}
    assert member == visitor
    assert raw.hget("f:subj:u:m-1:bought", "sku-000007") == str(T0 + 70_000).encode()
