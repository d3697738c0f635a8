"""Crash safety: SIGKILL the real dataflow mid-stream, restart it from its recovery snapshots, and end
with exactly the features of an uninterrupted run, from input laced with duplicates and late events."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import redis
from bytewax.recovery import RecoveryConfig
from bytewax.testing import run_main

from guang.adapters.mongo_documents import MongoDocumentStore
from guang.adapters.redis_bus import position_key, position_ms
from guang.bootstrap import child_environment
from guang.domain import keys
from guang.domain.events import (
    DwellEvent,
    Event,
    FaceEvent,
    InteractionEvent,
    LocationEvent,
    PaymentEvent,
    PaymentItem,
    event_to_json,
)
from guang.domain.models import GeoPoint, Mall
from guang.runtime import dataflow_command
from guang.settings import Settings
from stream.flow import build_flow

T0 = 1_790_000_000_000
ZONES = {f"z{i}": f"品类{i}" for i in range(8)}
KILLS = 5


def scripted_event(rng: random.Random, n: int) -> Event:
    """One of: dwell, face (some at the till), a member's payment, a phone's location fix."""
    store, ts, kind = f"s{n % 4}", T0 + n * 50, rng.random()
    if rng.random() < 0.02:
        ts -= 3_600_000
    visitor, member = f"v{rng.randrange(300)}", f"m{rng.randrange(100)}"
    common = {"event_id": f"e{n}", "ts_ms": ts, "store_id": store, "mall_id": "mall-1"}
    if kind < 0.15:
        zone = "z-till" if rng.random() < 0.5 else None
        action = rng.choice(["enter", "seen", "exit"])
        return FaceEvent(type="face", visitor_id=visitor, action=action, zone_id=zone, **common)
    if kind < 0.25:
        sku = f"sku-{rng.randrange(50):06d}"
        items = [
            PaymentItem(sku_id=sku, qty=1, price_fen=9900),
            PaymentItem(sku_id="sku-000099", qty=2, price_fen=500),
        ]
        return PaymentEvent(type="payment", user_id=member, order_id=f"o{n}", amount_fen=10900, items=items,
                            channel="pos", guide_id=rng.choice([None, "g1", "g2"]),
                            coupon_ids=rng.choice([[], ["c1"]]), **common)  # fmt: skip
    if kind < 0.32:
        lat, lng = rng.choice([(31.2236, 121.4456), (31.2300, 121.4600), (31.2237, 121.4457)])
        return LocationEvent(type="location", event_id=f"e{n}", ts_ms=ts, user_id=member, lat=lat, lng=lng,
                             accuracy_m=15, source="gps")  # fmt: skip
    if kind < 0.38:
        action = rng.choice(["impression", "impression", "click", "claim"])
        return InteractionEvent(type="interaction", event_id=f"e{n}", ts_ms=ts, user_id=member, action=action,
                                target_type="product", target_id=f"sku-{rng.randrange(50):06d}",
                                surface=rng.choice(["FEED", "SCREEN"]), rec_id="rec_1")  # fmt: skip
    return DwellEvent(type="dwell", visitor_id=visitor, zone_id=rng.choice(list(ZONES)),
                      sku_ids=[f"sku-{rng.randrange(50):06d}"], dwell_ms=rng.randrange(1_000, 90_000),
                      **common)  # fmt: skip


def scripted_events(count: int) -> list[str]:
    """Events for 300 visitors and 100 members in 4 stores of a mall, ~10% re-delivered, some very late."""
    rng = random.Random(11)
    events: list[str] = []
    for n in range(count):
        events.append(event_to_json(scripted_event(rng, n)))
        if rng.random() < 0.1:
            events.append(rng.choice(events))
    return events


def settings_on_db(base_url: str, mongo_uri: str, db: int, documents_db: str) -> Settings:
    url = base_url.rsplit("/", 1)[0] + f"/{db}"
    return Settings(
        kv_mode="server", kv_url=url, bus_mode="server", bus_url=url, documents_mode="server",
        documents_uri=mongo_uri, documents_db=documents_db, events_stream="events", interest_half_life_s=900,
    )  # fmt: skip


def state_of(url: str) -> dict[bytes, object]:
    """Every derived key and its value, whatever its type."""
    kv = redis.Redis.from_url(url)
    read = {b"string": kv.get, b"hash": kv.hgetall, b"zset": lambda k: kv.zrange(k, 0, -1, withscores=True)}
    state = {key: read[kv.type(key)](key) for key in kv.scan_iter("f:*")}
    kv.close()
    return state


def test_five_sigkills_mid_stream_end_with_the_features_of_an_uninterrupted_run(
    valkey_url: str, mongo_uri: str, tmp_path: Path
) -> None:
    documents_db = f"rec{uuid.uuid4().hex[:8]}"
    docs = MongoDocumentStore(mongo_uri, documents_db)
    zones = [{"_id": z, "id": z, "store_id": "s0", "name": f"{c}区", "category": c} for z, c in ZONES.items()]
    zones.append(
        {"_id": "z-till", "id": "z-till", "store_id": "s0", "name": "收银台", "category": "", "kind": "till"}
    )
    mall = Mall(
        id="mall-1",
        name="嘉里中心",
        city_id="sh",
        district="静安",
        location=GeoPoint.at(lat=31.2236, lng=121.4456),
    )
    malls = [{"_id": mall.id, **mall.model_dump(mode="json")}]

    async def load_documents() -> None:
        await docs.insert_many("zones", zones)
        await docs.insert_many("malls", malls)
        await docs.close()

    asyncio.run(load_documents())
    calm, crashy = (settings_on_db(valkey_url, mongo_uri, db, documents_db) for db in (1, 2))
    events = scripted_events(30_000)
    for settings in (calm, crashy):
        kv = redis.Redis.from_url(settings.bus_url)
        kv.flushdb()
        kv.sadd(keys.FACE_CONSENT, *(f"m{n}" for n in range(100)))
        for start in range(0, len(events), 5000):
            pipe = kv.pipeline(transaction=False)
            for payload in events[start : start + 5000]:
                pipe.xadd(settings.events_stream, {"e": payload})
            pipe.execute()
        kv.close()

    run_main(build_flow(calm, stop_at_end=True))

    recovery = tmp_path / "recovery"
    argv = dataflow_command(recovery)
    kv = redis.Redis.from_url(crashy.kv_url)
    env = {**os.environ, **child_environment(crashy)}
    last_seen = b""
    killed_at: list[str] = []
    for _ in range(KILLS):
        flow = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                position = kv.get(position_key(crashy.events_stream)) or b""
                if position and position != last_seen:
                    last_seen = position
                    time.sleep(random.uniform(0.2, 1.2))
                    break
                time.sleep(0.02)
        finally:
            flow.send_signal(signal.SIGKILL)
            flow.wait()
            killed_at.append((kv.get(position_key(crashy.events_stream)) or b"0-0").decode())
    end = kv.xrevrange(crashy.events_stream, count=1)[0][0].decode()
    kv.close()
    mid_stream = [p for p in killed_at if position_ms(p) < position_ms(end)]
    assert len(mid_stream) >= 3, f"kills should land mid-stream: {killed_at} (end {end})"

    run_main(build_flow(crashy, stop_at_end=True), epoch_interval=timedelta(seconds=1),
             recovery_config=RecoveryConfig(str(recovery)))  # fmt: skip
    calm_state, crashy_state = state_of(calm.kv_url), state_of(crashy.kv_url)
    kinds = {key.decode().split(":")[1] + ":" + key.decode().rsplit(":", 1)[-1] for key in calm_state}
    assert len(calm_state) > 300
    for expected in ("subj:bought", "subj:orders", "subj:where", "sku:co", "guide:ledger", "coupon:stats",
                     "store:footfall", "mall:trending", "subj:engage", "ctr:SCREEN"):  # fmt: skip
        assert expected in kinds, f"no {expected} feature was derived"
    assert crashy_state == calm_state
