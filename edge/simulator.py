"""A realistic trickle of in-store events for the demo stores, sent through `POST /events` like a camera."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

log = logging.getLogger(__name__)


def _event(kind: str, *, store: dict[str, Any], visitor: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"sim-{uuid.uuid4().hex}",
        "type": kind,
        "ts_ms": int(time.time() * 1000),
        "store_id": store["store_id"],
        "mall_id": store["mall_id"],
        "visitor_id": visitor,
        **fields,
    }


def visit(store: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """One anonymous visitor: enters, stands at one to three shelves, leaves."""
    visitor = f"sim-{rng.getrandbits(48):012x}"
    zones = rng.sample(store["zones"], k=min(len(store["zones"]), rng.randint(1, 3)))
    events = [_event("face", store=store, visitor=visitor, action="enter")]
    for zone in zones:
        events.append(_event("face", store=store, visitor=visitor, action="seen", zone_id=zone["zone_id"]))
        events.append(
            _event(
                "dwell",
                store=store,
                visitor=visitor,
                zone_id=zone["zone_id"],
                dwell_ms=rng.randint(5, 90) * 1000,
            )
        )
    events.append(_event("face", store=store, visitor=visitor, action="exit"))
    return events


def camera_token(store: dict[str, Any]) -> str:
    return next(d["token"] for d in store["devices"] if d["kind"] == "camera")


async def run_simulator(
    credentials: dict[str, Any], *, stop: Callable[[], bool], pace_s: float = 2.0, seed: int = 7
) -> None:
    """Until `stop()`, send one event every `pace_s` seconds per demo store, a visit at a time."""
    rng = random.Random(seed)
    base = credentials["base_url"]
    stores = [s for s in credentials["stores"] if s["zones"]]
    async with httpx.AsyncClient(base_url=base, timeout=5.0) as client:
        await asyncio.sleep(1.0)
        queues = {s["store_id"]: visit(s, rng) for s in stores}
        while not stop():
            for store in stores:
                queue = queues[store["store_id"]] or visit(store, rng)
                event, queues[store["store_id"]] = queue[0], queue[1:]
                event["ts_ms"] = int(time.time() * 1000)
                try:
                    await client.post(
                        "/events", json=[event], headers={"Authorization": f"Bearer {camera_token(store)}"}
                    )
                except httpx.HTTPError as error:
                    log.warning("simulator could not post: %s", error)
            await asyncio.sleep(pace_s * rng.uniform(0.5, 1.5))
