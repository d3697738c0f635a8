"""Redis-side adapters against a real server: embedded Valkey and Debian's redis-server."""

from __future__ import annotations

import json
import time
import uuid

from redis.asyncio.client import PubSub

from guang.adapters.redis_bus import START, RedisStreamBus, RedisStreamReader
from guang.adapters.redis_features import RedisFeatureStore, RedisFeatureWriter
from guang.domain.features import LastDwell, SubjectFeatures


def bus_pair(url: str) -> tuple[RedisStreamBus, RedisStreamReader]:
    stream = f"test:events:{uuid.uuid4().hex}"
    return (
        RedisStreamBus(url, stream=stream, maxlen=10_000, dedupe_ttl_s=60),
        RedisStreamReader(url, stream=stream),
    )


async def test_publishing_is_idempotent_per_event_id_and_reads_resume_after_a_position(
    any_redis_url: str,
) -> None:
    bus, reader = bus_pair(any_redis_url)
    prefix = uuid.uuid4().hex
    first = await bus.publish(
        [(f"{prefix}-1", '{"n":1}'), (f"{prefix}-2", '{"n":2}'), (f"{prefix}-1", '{"n":9}')]
    )
    again = await bus.publish([(f"{prefix}-2", '{"n":2}')])
    assert [r.accepted for r in first + again] == [True, True, False, False]

    everything = reader.read_after(START, 100)
    assert [json.loads(m.data)["n"] for m in everything] == [1, 2]
    assert [json.loads(m.data)["n"] for m in reader.read_after(everything[0].position, 100)] == [2]
    assert reader.read_after(reader.last_position(), 100) == []
    await bus.close()
    reader.close()


async def test_features_written_by_the_dataflow_are_read_back_with_presence(any_redis_url: str) -> None:
    store = f"store-{uuid.uuid4().hex[:8]}"
    writer, reader = RedisFeatureWriter(any_redis_url), RedisFeatureStore(any_redis_url)
    features = SubjectFeatures(
        subject_id="v:alice",
        ts_ms=1_790_000_000_000,
        category_scores={"牛仔裤": 4.0},
        sku_scores={"sku-000001": 2.0},
        last_dwell=LastDwell(store, "z1", "牛仔裤", 40_000),
        store_id=store,
        last_event_id="e1",
    )
    pubsub = reader.pubsub()
    await pubsub.subscribe("guang:store-updates")
    writer.write([features])
    audience, _ = await reader.store_context(store, since_ms=0, people=3, best=5)
    assert audience == [features]

    writer.write(
        [SubjectFeatures(subject_id="v:alice", ts_ms=1_790_000_000_100, store_id=store, present=False)]
    )
    audience, _ = await reader.store_context(store, since_ms=0, people=3, best=5)
    assert audience == []

    announced = await _messages(pubsub, 2)
    assert [json.loads(m)["store_id"] for m in announced] == [store, store]
    await pubsub.aclose()
    await reader.close()
    writer.close()


async def _messages(pubsub: PubSub, count: int, timeout_s: float = 3.0) -> list[bytes]:
    received: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while len(received) < count and time.monotonic() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            received.append(message["data"])
    return received


async def test_store_best_sellers_come_back_best_first(any_redis_url: str) -> None:
    store = f"store-{uuid.uuid4().hex[:8]}"
    reader = RedisFeatureStore(any_redis_url)
    await reader.set_store_best({store: {"sku-a": 3.0, "sku-b": 9.0, "sku-c": 1.0}})
    _, best = await reader.store_context(store, since_ms=0, people=0, best=2)
    assert best == ["sku-b", "sku-a"]
    await reader.close()
