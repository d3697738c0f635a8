"""Redis-side adapters against a real server: embedded Valkey and Debian's redis-server."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import cast

import redis
import redis.asyncio

from guang.adapters.ports import DeadLetter, StoreChange
from guang.adapters.redis_bus import START, RedisDeadLetters, RedisStreamBus, RedisStreamReader
from guang.adapters.redis_features import STORE_UPDATES_CHANNEL, RedisFeatureStore, RedisFeatureWriter
from guang.domain import keys
from guang.domain.events import member_subject
from guang.domain.features import LastDwell, SubjectFeatures
from guang.domain.writes import Announce, Delete, Put, Write, ZPut


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
    announced = asyncio.create_task(_changes_for(reader, store, count=2))
    await _until_subscribed(any_redis_url)
    writer.write([features])
    audience, _, _ = await reader.store_context(
        store, since_ms=0, people=3, best=5, surface="SCREEN", day="d"
    )
    assert audience == [features]

    writer.write(
        [SubjectFeatures(subject_id="v:alice", ts_ms=1_790_000_000_100, store_id=store, present=False)]
    )
    audience, _, _ = await reader.store_context(
        store, since_ms=0, people=3, best=5, surface="SCREEN", day="d"
    )
    assert audience == []

    changes = await asyncio.wait_for(announced, timeout=5)
    assert [(c.subject_id, c.event_id) for c in changes] == [("v:alice", "e1"), ("v:alice", None)]
    await reader.close()
    writer.close()


async def _changes_for(reader: RedisFeatureStore, store: str, count: int) -> list[StoreChange]:
    seen: list[StoreChange] = []
    async for change in reader.store_changes():
        if change.store_id == store:
            seen.append(change)
            if len(seen) == count:
                break
    return seen


async def _until_subscribed(url: str) -> None:
    raw = redis.asyncio.Redis.from_url(url)
    while not (await raw.pubsub_numsub(STORE_UPDATES_CHANNEL))[0][1]:
        await asyncio.sleep(0.01)
    await raw.aclose()


async def test_store_best_sellers_come_back_best_first(any_redis_url: str) -> None:
    store = f"store-{uuid.uuid4().hex[:8]}"
    reader = RedisFeatureStore(any_redis_url)
    await reader.set_store_best({store: {"sku-a": 3.0, "sku-b": 9.0, "sku-c": 1.0}})
    _, best, _ = await reader.store_context(store, since_ms=0, people=0, best=2, surface="SCREEN", day="d")
    assert best == ["sku-b", "sku-a"]
    await reader.close()


def test_absolute_writes_apply_in_order_and_twice_is_the_same_as_once(any_redis_url: str) -> None:
    base = f"t:{uuid.uuid4().hex[:8]}"
    writes: list[Write] = [
        Put(f"{base}:s", "hello", ttl_s=60),
        Put(f"{base}:h", 3, field="count"),
        Put(f"{base}:h", 5, field="gone"),
        ZPut(f"{base}:z", "sku-1", 2.5),
        ZPut(f"{base}:z", "sku-2", 1.0),
        Delete(f"{base}:h", member="gone"),
        Delete(f"{base}:z", member="sku-2"),
    ]
    writer = RedisFeatureWriter(any_redis_url)
    writer.apply(writes)
    writer.apply(writes)
    raw = redis.Redis.from_url(any_redis_url)
    assert raw.get(f"{base}:s") == b"hello" and 0 < raw.ttl(f"{base}:s") <= 60
    assert raw.hgetall(f"{base}:h") == {b"count": b"3"}
    assert raw.zrange(f"{base}:z", 0, -1, withscores=True) == [(b"sku-1", 2.5)]
    writer.apply([Delete(f"{base}:s")])
    assert raw.exists(f"{base}:s") == 0
    raw.close()
    writer.close()


async def test_face_consents_are_granted_withdrawn_and_read_in_one_batch(any_redis_url: str) -> None:
    store = RedisFeatureStore(any_redis_url)
    a, b, c, d = (f"m-{uuid.uuid4().hex[:8]}" for _ in range(4))
    for member in (a, b, c):
        await store.set_face_consent(member, True)
    await store.set_face_consent(a, False)
    assert await store.face_consented([a, b, c, d]) == {b, c}
    assert await store.face_consented([]) == set()
    for member in (b, c):
        await store.set_face_consent(member, False)
    await store.close()


def test_committing_a_position_trims_only_what_was_read_longer_ago_than_the_retention(
    any_redis_url: str,
) -> None:
    stream = f"test:events:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(any_redis_url)
    for second in range(1, 1001):  # one entry per second of stream time, ids `<ms>-0`
        client.xadd(stream, {"e": str(second)}, id=f"{second * 1000}-0")
    reader = RedisStreamReader(any_redis_url, stream=stream, retention_s=300)

    reader.commit_position(START)
    assert client.xlen(stream) == 1000
    reader.commit_position("450000-0")  # read up to second 450: keep from second 150 on, all unread too
    kept = [int(m.data) for m in reader.read_after(START, 2000)]
    assert set(range(150, 1001)) <= set(kept) and len(kept) < 1000
    reader.commit_position("1000000-0")  # all read: keep the last 300 s (whole nodes, so a few more)
    kept = [int(m.data) for m in reader.read_after(START, 2000)]
    assert set(range(700, 1001)) <= set(kept) and len(kept) < 600
    reader.close()
    client.delete(stream)
    client.close()


async def test_a_published_event_id_is_remembered_for_the_dedupe_window_only(any_redis_url: str) -> None:
    stream = f"test:events:{uuid.uuid4().hex}"
    bus = RedisStreamBus(any_redis_url, stream=stream, maxlen=10_000, dedupe_ttl_s=90)
    event_id = uuid.uuid4().hex
    await bus.publish([(event_id, "{}")])
    client = redis.Redis.from_url(any_redis_url)
    assert 0 < cast(int, client.ttl(f"bus:seen:{event_id}")) <= 90
    await bus.close()
    client.delete(stream)
    client.close()


def test_dead_letters_are_appended_once_within_the_window_and_the_stream_is_capped(
    any_redis_url: str,
) -> None:
    stream = f"test:dead:{uuid.uuid4().hex}"
    letters = RedisDeadLetters(any_redis_url, stream=stream, maxlen=150, once_ttl_s=120)
    batch = [DeadLetter(f"{i}-0", "late", "{}", f"e{i}") for i in range(1, 1001)]
    letters.write(batch)
    letters.write(batch[:5])  # a replay after recovery appends nothing
    client = redis.Redis.from_url(any_redis_url)
    assert 150 <= cast(int, client.xlen(stream)) < 1000
    assert 0 < cast(int, client.ttl(f"{stream}:once:1-0")) <= 120
    letters.close()
    client.delete(stream)
    client.close()


async def test_the_store_context_reads_consent_purchases_and_impressions_of_everyone_present(
    any_redis_url: str,
) -> None:
    store = f"store-{uuid.uuid4().hex[:8]}"
    member, visitor = f"m-{uuid.uuid4().hex[:8]}", f"v:{uuid.uuid4().hex[:8]}"
    writer, reader = RedisFeatureWriter(any_redis_url), RedisFeatureStore(any_redis_url)
    people = [
        SubjectFeatures(subject_id=subject, ts_ms=1_790_000_000_000 + n, category_scores={"外套": 1.0},
                        store_id=store, last_event_id=f"e{n}")
        for n, subject in enumerate([member_subject(member), visitor])
    ]  # fmt: skip
    writer.write(people)
    raw = redis.asyncio.Redis.from_url(any_redis_url)
    await raw.hset(keys.subject_bought(member_subject(member)), "sku-1", 1)
    await raw.hset(
        keys.subject_freq_key(visitor, "d1"), mapping={"SCREEN:product:sku-2": 3, "FEED:product:sku-3": 1}
    )

    async def context() -> tuple[list[str], frozenset[str], dict[str, int]]:
        found, _, history = await reader.store_context(
            store, since_ms=0, people=5, best=0, surface="SCREEN", day="d1"
        )
        return sorted(f.subject_id for f in found), history.bought, dict(history.shown_today)

    assert await context() == ([visitor], frozenset({"sku-1"}), {"sku-2": 3}), "no face consent: no features"
    await reader.set_face_consent(member, True)
    assert await context() == (sorted([member_subject(member), visitor]), frozenset({"sku-1"}), {"sku-2": 3})
    await raw.aclose()
    await reader.close()
    writer.close()


async def test_an_announcement_among_absolute_writes_reaches_the_stores_watchers_after_them(
    any_redis_url: str,
) -> None:
    store = f"store-{uuid.uuid4().hex[:8]}"
    writer, reader = RedisFeatureWriter(any_redis_url), RedisFeatureStore(any_redis_url)
    announced = asyncio.create_task(_changes_for(reader, store, count=1))
    await _until_subscribed(any_redis_url)
    writer.apply([Put(f"t:{store}:payers", 1, field="n"), Announce(store, "u:m1", "pay-1")])

    [change] = await asyncio.wait_for(announced, timeout=5)
    assert (change.subject_id, change.event_id) == ("u:m1", "pay-1")
    raw = redis.asyncio.Redis.from_url(any_redis_url)
    assert await raw.hget(f"t:{store}:payers", "n") == b"1"
    await raw.aclose()
    await reader.close()
    writer.close()
