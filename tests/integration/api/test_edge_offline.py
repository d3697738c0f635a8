"""A camera's store-and-forward against the real API: the shop's uplink drops for a while, the agent keeps
producing, and after reconnection every event is on the bus once, in order, and counts once in the real
dataflow's store figures."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

import httpx
import redis.asyncio
from bytewax.testing import run_main

from edge.forwarder import Forwarder
from edge.outbox import Outbox
from guang.dashboard.service import BUCKET_MS
from guang.domain import keys
from guang.domain.models import Device, Store, Zone
from guang.services.devices import issue_token
from guang.settings import Settings
from stream.flow import build_flow
from tests.integration.api.conftest import ApiStack


class Uplink(httpx.AsyncBaseTransport):
    """The shop's network in front of the real app: unreachable while `offline`; with `lose_answers` the
    server handles a request but its answer never reaches the agent."""

    def __init__(self, app: Any) -> None:
        self._app = httpx.ASGITransport(app=app, client=("10.7.0.4", 40000))
        self.offline = False
        self.lose_answers = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("network is unreachable", request=request)
        response = await self._app.handle_async_request(request)
        if self.lose_answers:
            self.lose_answers -= 1
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost on the way back", request=request)
        return response


class Camera:
    """Stands in for the agent's pipeline: one anonymous visitor at a time enters, dwells, leaves."""

    def __init__(self, store: Store, device: Device, shelves: list[Zone], outbox: Outbox) -> None:
        self.store, self.device, self.shelves, self.outbox = store, device, shelves, outbox
        self.produced: list[dict[str, Any]] = []
        self._tag = uuid.uuid4().hex[:8]
        self._count = 0

    def visit(self) -> None:
        n = len(self.produced) // 4
        visitor = f"anon-{self._tag}-{n}"
        zone = self.shelves[n % len(self.shelves)].id
        events = [
            self._event("face", visitor, action="enter"),
            self._event("face", visitor, action="seen", zone_id=zone),
            self._event("dwell", visitor, zone_id=zone, dwell_ms=(n + 1) * 1000),
            self._event("face", visitor, action="exit"),
        ]
        self.outbox.put(events)
        self.produced.extend(events)

    def _event(self, kind: str, visitor: str, **fields: Any) -> dict[str, Any]:
        self._count += 1
        return {
            "event_id": f"cam-{self._tag}-{self._count:05d}",
            "type": kind,
            "ts_ms": int(time.time() * 1000),
            "store_id": self.store.id,
            "mall_id": self.store.mall_id,
            "device_id": self.device.id,
            "visitor_id": visitor,
            **fields,
        }


def a_camera_store(api: ApiStack) -> tuple[Store, Device]:
    """The last store's camera: the first camera is the one the rate-limit tests count requests for."""
    store = api.data.stores[-1]
    return store, next(d for d in api.data.devices if d.kind == "camera" and d.store_id == store.id)


async def test_events_buffered_while_offline_arrive_once_in_order_and_count_once(
    api: ApiStack, tmp_path: Path
) -> None:
    store, device = a_camera_store(api)
    shelves = [z for z in api.data.zones if z.store_id == store.id and z.kind == "shelf"][:2]
    uplink = Uplink(api.app)
    waits: list[float] = []
    with Outbox(tmp_path / "outbox.db") as outbox:
        camera = Camera(store, device, shelves, outbox)

        async def backing_off(seconds: float) -> None:
            waits.append(seconds)
            camera.visit()  # the camera keeps working while the forwarder waits

        def drained() -> bool:
            return outbox.stats().pending == 0

        async with httpx.AsyncClient(transport=uplink, base_url="http://guang.test") as client:
            token = issue_token(api.services.container.secret_key, device.id)
            sender = Forwarder(outbox, client=client, token=token, batch_size=6, sleep=backing_off)

            camera.visit()
            camera.visit()
            await sender.run(drained)
            assert sender.online and waits == []

            uplink.offline = True
            await sender.run(lambda: len(waits) >= 5)
            assert not sender.online and "cannot reach the API" in sender.last_error
            assert waits[-1] > waits[0], "the forwarder backs off while the API is unreachable"
            assert outbox.stats().pending == 5 * 4, "everything produced while offline is kept"

            uplink.offline = False
            uplink.lose_answers = 1
            lost = await sender.deliver_once()
            assert lost.status == "offline" and outbox.stats().pending == 20
            resent = await sender.deliver_once()
            assert (resent.status, resent.accepted, resent.duplicate) == ("delivered", 0, lost.sent)
            await sender.run(drained)

        stats = outbox.stats()
        assert (stats.dropped_full, stats.dropped_expired, stats.rejected) == (0, 0, 0)

    produced = [e["event_id"] for e in camera.produced]
    mine = set(produced)
    on_bus = [e for e in await api.bus_events() if e["event_id"] in mine]
    assert [e["event_id"] for e in on_bus] == produced, "every event arrived exactly once, in order"

    await assert_counted_once(api, store, camera.produced, on_bus)


async def assert_counted_once(
    api: ApiStack, store: Store, produced: list[dict[str, Any]], on_bus: list[dict[str, Any]]
) -> None:
    """Run the real dataflow over exactly what the API published for these events (copied to a stream of
    their own, so no other test's events are folded in) and compare the store's figures with one count."""
    settings = await _flow_over(api, on_bus)
    visitors: dict[int, set[str]] = defaultdict(set)
    dwell: dict[tuple[int, str], list[int]] = defaultdict(list)
    for e in produced:
        bucket = e["ts_ms"] - e["ts_ms"] % BUCKET_MS
        visitors[bucket].add(e["visitor_id"])
        if e["type"] == "dwell":
            dwell[(bucket, e["zone_id"])].append(e["dwell_ms"])

    client = redis.asyncio.Redis.from_url(settings.kv_url, decode_responses=True)
    try:
        footfall = await _hash(client, keys.footfall_key(store.id))
        for bucket, seen in visitors.items():
            assert int(footfall[str(bucket)]) == len(seen)
        for (bucket, zone), times in dwell.items():
            assert int((await _hash(client, keys.dwell_key(store.id, bucket)))[zone]) == sum(times)
            assert int((await _hash(client, keys.dwell_count_key(store.id, bucket)))[zone]) == len(times)
        assert await client.xlen(settings.dead_letter_stream) == 0
    finally:
        await client.aclose()


async def _hash(client: redis.asyncio.Redis, key: str) -> dict[str, str]:
    return cast(dict[str, str], await client.hgetall(key))


async def _flow_over(api: ApiStack, events: list[dict[str, Any]]) -> Settings:
    tag = uuid.uuid4().hex[:8]
    settings = api.settings.model_copy(
        update={
            "events_stream": f"test:edge:{tag}",
            "dead_letter_stream": f"test:edge:dead:{tag}",
            "signals_stream": f"test:edge:signals:{tag}",
        }
    )
    client = redis.asyncio.Redis.from_url(settings.bus_url)
    try:
        for event in events:
            await client.xadd(settings.events_stream, {"e": json.dumps(event, ensure_ascii=False)})
    finally:
        await client.aclose()
    await asyncio.to_thread(lambda: run_main(build_flow(settings, stop_at_end=True)))
    return settings
