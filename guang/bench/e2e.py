"""Event in (a camera's dwell event on POST /events) → the store screen's websocket update, end to end.

Runs `guang demo` on embedded engines in its own data dir (kept, so re-runs start in seconds),
subscribes as the store's screen and sends dwell events one at a time, timing each until the screen
shows the list caused by that event. Floors measured in the same run: a bare Redis PING and a bare
HTTP GET /healthz round trip, so the figure can be compared across machines as a ratio.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
import websockets

from guang.bench.report import machine_facts, percentiles_ms, write_report
from guang.bench.stack import DemoStack

BUDGET_P99_MS = 150.0
SCREEN_QUERY = "subscription S($d: String!) { screen(deviceId: $d) { causeEventId } }"


def _floors(base_url: str, kv_url: str, rounds: int = 300) -> dict[str, Any]:
    kv = redis.Redis.from_url(kv_url)
    ping = []
    for _ in range(rounds):
        t = time.perf_counter()
        kv.ping()
        ping.append(time.perf_counter() - t)
    kv.close()
    http = []
    with httpx.Client(base_url=base_url) as client:
        for _ in range(rounds):
            t = time.perf_counter()
            client.get("/healthz")
            http.append(time.perf_counter() - t)
    return {"redis_ping": percentiles_ms(ping), "http_healthz": percentiles_ms(http)}


async def _measure(base_url: str, credentials: dict[str, Any], events: int) -> tuple[list[float], int]:
    store = credentials["stores"][0]
    devices = {d["kind"]: d for d in store["devices"]}
    screen, camera = devices["screen"], devices["camera"]
    ws_url = base_url.replace("http", "ws") + "/graphql"
    latencies: list[float] = []
    missed = 0
    async with (
        websockets.connect(ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws,
        httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {camera['token']}"}
        ) as client,
    ):
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {screen['token']}"}})
        )
        await ws.recv()
        subscribe = {"query": SCREEN_QUERY, "variables": {"d": screen["device_id"]}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        await ws.recv()
        for n in range(events):
            zone = store["zones"][n % len(store["zones"])]
            event_id = f"bench-{uuid.uuid4().hex}"
            event = {
                "event_id": event_id,
                "type": "dwell",
                "ts_ms": int(time.time() * 1000),
                "visitor_id": f"bench-{n % 7}",
                "zone_id": zone["zone_id"],
                "dwell_ms": 20_000,
            }
            started = time.perf_counter()
            await client.post("/events", json=[event])
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=2.0))
                    if message["payload"]["data"]["screen"]["causeEventId"] == event_id:
                        latencies.append(time.perf_counter() - started)
                        break
            except TimeoutError:
                missed += 1
    return latencies, missed


def main(*, json_path: Path, events: int, scale: float) -> None:
    data_dir = (json_path.parent / "e2e-stack" / "data").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = DemoStack.start(data_dir, scale=scale, log=data_dir.parent / "stack.log")
    try:
        stack.wait_ready()
        floors = _floors(stack.base_url, stack.run_info["kv_url"])
        latencies, missed = asyncio.run(_measure(stack.base_url, stack.credentials, events))
    finally:
        stack.interrupt()
    figures = percentiles_ms(latencies)
    floor_p50 = floors["http_healthz"]["p50_ms"]
    report = {
        "benchmark": "e2e: event in -> screen websocket update",
        "budget": {"p99_ms": BUDGET_P99_MS},
        "events": events,
        "received": len(latencies),
        "missed": missed,
        **figures,
        "floors": floors,
        "p99_over_http_floor_p50": round(figures["p99_ms"] / floor_p50, 1) if floor_p50 else None,
        "met": figures["p99_ms"] <= BUDGET_P99_MS and missed == 0,
        "scale": scale,
        "machine": machine_facts(),
    }
    rows = [
        ("events sent / screen updates matched", f"{events} / {len(latencies)}"),
        (
            "p50 / p95 / p99 / max (ms)",
            f"{figures['p50_ms']} / {figures['p95_ms']} / {figures['p99_ms']} / {figures['max_ms']}",
        ),
        ("floor: Redis PING p50 (ms)", str(floors["redis_ping"]["p50_ms"])),
        ("floor: HTTP /healthz p50 (ms)", str(floor_p50)),
        ("p99 / HTTP floor", str(report["p99_over_http_floor_p50"])),
        (f"budget p99 ≤ {BUDGET_P99_MS:.0f} ms", "met" if report["met"] else "NOT met"),
    ]
    write_report(json_path, report, rows, "event → screen latency")
