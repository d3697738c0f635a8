"""Dataflow throughput (events/s per worker) and event → feature-announcement latency.

Starts its own embedded Valkey and SecantusDB in a temp dir, fills a fresh Redis stream with store
events serialized as the API does, and runs in one process: a bare Bytewax pass-through over that
stream (same source, a sink that only counts: the floor) and the real dataflow, both finite
(`stop_at_end`). Latency: the real dataflow runs continuously in a child process on another fresh
stream; each dwell event is timed from XADD to the store-updates announcement carrying its event_id.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import bytewax.operators as op
import redis
from bytewax.dataflow import Dataflow
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main
from redis.client import PubSub

from guang.adapters.engines import start_secantus, start_valkey
from guang.adapters.mongo_documents import MongoDocumentStore
from guang.adapters.ports import BusMessage
from guang.adapters.processes import ChildProcess
from guang.adapters.redis_features import STORE_UPDATES_CHANNEL
from guang.bench.report import machine_facts, percentiles_ms, write_report
from guang.bootstrap import Container, child_environment
from guang.domain import keys
from guang.domain.events import BaseEvent, DwellEvent, FaceEvent, event_to_json
from guang.runtime import progress_bar
from guang.settings import Settings
from stream.bus_source import BusSource
from stream.flow import build_flow

BUDGET_EVENTS_PER_S = 50_000
CATEGORIES = ("牛仔裤", "外套", "卫衣", "衬衫", "连衣裙", "运动鞋", "皮鞋", "包袋", "配饰", "内衣")
STORES = [f"store-{n:02d}" for n in range(4)]
ZONES = [(f"zone-{n:02d}", STORES[n % len(STORES)], CATEGORIES[n % len(CATEGORIES)]) for n in range(20)]
VISITORS = 3_000
CHUNK = 5_000
LATENCY_STORES = 50
LATENCY_PACE_S = 0.005
LATENCY_TIMEOUT_S = 2.0
READY_TIMEOUT_S = 120.0
FACE_ACTIONS: tuple[Literal["enter", "seen", "exit"], ...] = ("enter", "seen", "exit")


def _events(n: int, rng: random.Random, t0_ms: int) -> Iterator[BaseEvent]:
    """Mostly dwell events (1–3 SKUs) of a few thousand subjects in their home store, some face events."""
    for i in range(n):
        subject = rng.randrange(VISITORS)
        member = subject % 10 == 0
        ids: dict[str, Any] = {
            "event_id": f"bench-{i:08d}",
            "ts_ms": t0_ms + i * 5,
            "store_id": STORES[subject % len(STORES)],
            "user_id": f"m{subject:05d}" if member else None,
            "visitor_id": None if member else f"v{subject:05d}",
        }
        zone = rng.choice([z for z in ZONES if z[1] == ids["store_id"]])[0]
        if rng.random() < 0.88:
            skus = [f"sku-{rng.randrange(1, 5000):06d}" for _ in range(rng.randint(1, 3))]
            yield DwellEvent(
                type="dwell", zone_id=zone, sku_ids=skus, dwell_ms=rng.randint(2_000, 90_000), **ids
            )
        else:
            action = rng.choices(FACE_ACTIONS, weights=[3, 5, 2])[0]
            yield FaceEvent(type="face", action=action, zone_id=zone, **ids)


def _prefill(url: str, stream: str, n: int) -> float:
    """Fill the stream; the members among the subjects have given face consent, as they must have."""
    client = redis.Redis.from_url(url)
    client.sadd(keys.FACE_CONSENT, *(f"m{subject:05d}" for subject in range(0, VISITORS, 10)))
    events = _events(n, random.Random(42), int(time.time() * 1000) - n * 5)
    started = time.perf_counter()
    with progress_bar("预填 pre-fill stream", n) as advance:
        for start in range(0, n, CHUNK):
            pipe = client.pipeline(transaction=False)
            for event in (next(events) for _ in range(min(CHUNK, n - start))):
                pipe.xadd(stream, {"e": event_to_json(event)})
            pipe.execute()
            advance(min(CHUNK, n - start))
    client.close()
    return time.perf_counter() - started


class _CountPartition(StatelessSinkPartition[BusMessage]):
    def __init__(self, sink: CountSink) -> None:
        self._sink = sink

    def write_batch(self, items: list[BusMessage]) -> None:
        self._sink.count += len(items)


class CountSink(DynamicSink[BusMessage]):
    """Does nothing but count: the floor sink of the pass-through flow."""

    def __init__(self) -> None:
        self.count = 0

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CountPartition:
        return _CountPartition(self)


def _timed(flow: Dataflow) -> float:
    started = time.perf_counter()
    run_main(flow)
    return time.perf_counter() - started


def _passthrough(settings: Settings) -> tuple[float, int]:
    flow = Dataflow("bench_passthrough")
    messages = op.input("bus", flow, BusSource(Container(settings).event_reader, stop_at_end=True))
    sink = CountSink()
    op.output("count", messages, sink)
    return _timed(flow), sink.count


def _latency(settings: Settings, events: int, log_dir: Path) -> tuple[list[float], int]:
    env = {**os.environ, **child_environment(settings)}
    argv = [sys.executable, "-m", "bytewax.run", "stream.flow:build_flow()"]
    child = ChildProcess("dataflow", argv, log_path=log_dir / "dataflow.log", env=env)
    client = redis.Redis.from_url(settings.bus_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(STORE_UPDATES_CHANNEL)
    try:
        child.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while (
            _send_and_wait(client, pubsub, settings.events_stream, f"warm-{uuid.uuid4().hex}", 0, 0.5) is None
        ):
            if not child.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"latency dataflow not ready; see {child.log_path}:\n{child.tail_log()}")
        latencies: list[float] = []
        missed = 0
        for n in range(events):
            took = _send_and_wait(
                client, pubsub, settings.events_stream, f"lat-{n:06d}", n, LATENCY_TIMEOUT_S
            )
            if took is None:
                missed += 1
            else:
                latencies.append(took)
            time.sleep(LATENCY_PACE_S)
        return latencies, missed
    finally:
        child.stop()
        pubsub.close()
        client.close()


def _send_and_wait(
    client: redis.Redis, pubsub: PubSub, stream: str, event_id: str, n: int, timeout_s: float
) -> float | None:
    """XADD one dwell event (its own store and visitor) and wait for the announcement carrying its id."""
    zone = ZONES[n % len(ZONES)][0]
    event = DwellEvent(
        type="dwell", event_id=event_id, ts_ms=int(time.time() * 1000),
        store_id=f"lat-{n % LATENCY_STORES:02d}", visitor_id=f"lat-{event_id}", zone_id=zone,
        sku_ids=["sku-000001"], dwell_ms=20_000,
    )  # fmt: skip
    payload = event_to_json(event)
    started = time.perf_counter()
    client.xadd(stream, {"e": payload})
    deadline = started + timeout_s
    while (left := deadline - time.perf_counter()) > 0:
        message = pubsub.get_message(timeout=left)
        if message and message["type"] == "message" and json.loads(message["data"])["event_id"] == event_id:
            return time.perf_counter() - started
    return None


def _written(settings: Settings) -> tuple[int, int]:
    """Subjects with features in Redis, and dead letters: a check that the dataflow did the work."""
    client = redis.Redis.from_url(settings.kv_url)
    subjects = sum(1 for _ in client.scan_iter(match="f:subj:*", count=10_000))
    dead = int(client.xlen(settings.dead_letter_stream))
    client.close()
    return subjects, dead


def main(*, json_path: Path, events: int, latency_events: int) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        prefix="stream-bench-", dir=json_path.parent, ignore_cleanup_errors=True
    ) as tmp:
        root = Path(tmp)
        valkey, url = start_valkey(root / "valkey")
        try:
            secantus, uri = start_secantus(root / "secantus")
        except BaseException:
            valkey.stop()
            raise
        try:
            settings = Settings(
                data_dir=root, kv_mode="server", kv_url=url, bus_mode="server", bus_url=url,
                documents_mode="server", documents_uri=uri, documents_db="bench",
                events_stream=f"bench:stream:{uuid.uuid4().hex}",
            )  # fmt: skip
            docs = MongoDocumentStore(uri, settings.documents_db)
            zones = [{"_id": z, "id": z, "store_id": s, "name": f"{c}区", "category": c} for z, s, c in ZONES]
            asyncio.run(docs.insert_many("zones", zones))
            prefill_s = _prefill(url, settings.events_stream, events)
            passthrough_s, passed = _passthrough(settings)
            dataflow_s = _timed(build_flow(settings, stop_at_end=True))
            subjects, dead = _written(settings)
            latency_settings = settings.model_copy(update={"events_stream": f"bench:lat:{uuid.uuid4().hex}"})
            latencies, missed = _latency(latency_settings, latency_events, root)
        finally:
            secantus.stop()
            valkey.stop()
    passthrough_eps = events / passthrough_s
    dataflow_eps = events / dataflow_s
    ratio = dataflow_eps / passthrough_eps
    figures = percentiles_ms(latencies)
    report: dict[str, Any] = {
        "benchmark": "stream: Bytewax dataflow throughput and event -> feature announcement latency",
        "budget": {"events_per_s_per_worker": BUDGET_EVENTS_PER_S},
        "events": events,
        "workers": 1,
        "prefill_s": round(prefill_s, 2),
        "passthrough_events_seen": passed,
        "passthrough_events_per_s": round(passthrough_eps),
        "dataflow_events_per_s": round(dataflow_eps),
        "ratio": round(ratio, 3),
        "subjects_written": subjects,
        "dead_letters": dead,
        "latency": {"events": latency_events, "received": len(latencies), "missed": missed, **figures},
        "met": dataflow_eps >= BUDGET_EVENTS_PER_S,
        "note": "The Qdrant taste-vector sink is not part of the dataflow yet: "
        "the throughput covers the Redis feature sink only.",
        "machine": machine_facts(),
    }
    lat = f"{figures['p50_ms']} / {figures['p95_ms']} / {figures['p99_ms']} / {figures['max_ms']}"
    rows = [
        ("events in stream", f"{events}"),
        ("floor: pass-through events/s", f"{passthrough_eps:,.0f}"),
        ("dataflow events/s (1 worker)", f"{dataflow_eps:,.0f}"),
        ("dataflow / pass-through", f"{ratio:.3f}"),
        ("subjects written / dead letters", f"{subjects} / {dead}"),
        ("latency events sent / announced", f"{latency_events} / {len(latencies)}"),
        ("latency p50 / p95 / p99 / max (ms)", lat),
        (f"budget ≥ {BUDGET_EVENTS_PER_S:,} events/s/worker", "met" if report["met"] else "NOT met"),
        ("note", "Redis sink only (no Qdrant taste vectors yet)"),
    ]
    write_report(json_path, report, rows, "dataflow throughput and latency")
