"""Crash safety: SIGKILL the real dataflow mid-stream, restart it from its recovery snapshots, and end
with exactly the features of an uninterrupted run, from input laced with duplicates and late events."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
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
from guang.domain.events import DwellEvent, FaceEvent, event_to_json
from guang.settings import Settings
from stream.flow import build_flow

T0 = 1_790_000_000_000
ZONES = {f"z{i}": f"品类{i}" for i in range(8)}
KILLS = 5


def scripted_events(count: int) -> list[str]:
    """Dwell and face events for 300 visitors in 4 stores, ~10% re-delivered, some very late."""
    rng = random.Random(11)
    events: list[str] = []
    for n in range(count):
        store, visitor, ts = f"s{n % 4}", f"v{rng.randrange(300)}", T0 + n * 50
        if rng.random() < 0.02:
            ts -= 3_600_000
        if rng.random() < 0.2:
            event = FaceEvent(type="face", event_id=f"f{n}", ts_ms=ts, store_id=store, visitor_id=visitor,
                              action=rng.choice(["enter", "seen", "exit"]))  # fmt: skip
        else:
            event = DwellEvent(type="dwell", event_id=f"d{n}", ts_ms=ts, store_id=store, visitor_id=visitor,
                               zone_id=rng.choice(list(ZONES)), sku_ids=[f"sku-{rng.randrange(50):06d}"],
                               dwell_ms=rng.randrange(1_000, 90_000))  # fmt: skip
        events.append(event_to_json(event))
        if events and rng.random() < 0.1:
            events.append(rng.choice(events))
    return events


def settings_on_db(base_url: str, mongo_uri: str, db: int, documents_db: str) -> Settings:
    url = base_url.rsplit("/", 1)[0] + f"/{db}"
    return Settings(
        kv_mode="server", kv_url=url, bus_mode="server", bus_url=url, documents_mode="server",
        documents_uri=mongo_uri, documents_db=documents_db, events_stream="events", interest_half_life_s=900,
    )  # fmt: skip


def state_of(url: str) -> dict[bytes, object]:
    kv = redis.Redis.from_url(url)
    state: dict[bytes, object] = {}
    for key in kv.scan_iter("f:*"):
        state[key] = kv.get(key) if key.startswith(b"f:subj:") else kv.zrange(key, 0, -1, withscores=True)
    kv.close()
    return state


def test_five_sigkills_mid_stream_end_with_the_features_of_an_uninterrupted_run(
    valkey_url: str, mongo_uri: str, tmp_path: Path
) -> None:
    documents_db = f"rec{uuid.uuid4().hex[:8]}"
    docs = MongoDocumentStore(mongo_uri, documents_db)
    zones = [{"_id": z, "id": z, "store_id": "s0", "name": f"{c}区", "category": c} for z, c in ZONES.items()]
    asyncio.run(docs.insert_many("zones", zones))
    calm, crashy = (settings_on_db(valkey_url, mongo_uri, db, documents_db) for db in (1, 2))
    events = scripted_events(60_000)
    for settings in (calm, crashy):
        kv = redis.Redis.from_url(settings.bus_url)
        kv.flushdb()
        for start in range(0, len(events), 5000):
            pipe = kv.pipeline(transaction=False)
            for payload in events[start : start + 5000]:
                pipe.xadd(settings.events_stream, {"e": payload})
            pipe.execute()
        kv.close()

    run_main(build_flow(calm, stop_at_end=True))

    recovery = tmp_path / "recovery"
    recovery.mkdir()
    subprocess.run([sys.executable, "-m", "bytewax.recovery", str(recovery), "1"], check=True)
    kv = redis.Redis.from_url(crashy.kv_url)
    env = {**os.environ, **child_environment(crashy)}
    argv = [
        sys.executable,
        "-m",
        "bytewax.run",
        "stream.flow:build_flow()",
        "-r",
        str(recovery),
        "-s",
        "1",
        "-b",
        "0",
    ]
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
    assert len(calm_state) > 300
    assert crashy_state == calm_state
