"""The whole stack from outside: `guang demo` as a user starts it, a screen and a camera as clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets

from guang.bench.stack import DemoStack
from tests.e2e.conftest import start_stack

pytestmark = pytest.mark.e2e
SCREEN_QUERY = """subscription S($d: String!) { screen(deviceId: $d) { audience causeEventId
  recommendation { recId items { score reason product { id category } } } } }"""


def assert_all_gone(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        status = Path(f"/proc/{pid}/status").read_text() if Path(f"/proc/{pid}").exists() else ""
        assert "State:\tZ" in status, f"process {pid} is still running after Ctrl-C"


def store_devices(stack: DemoStack) -> tuple[dict[str, Any], str, str]:
    store = stack.credentials["stores"][0]
    tokens = {d["kind"]: d for d in store["devices"]}
    return store, tokens["screen"]["device_id"], tokens["screen"]["token"]


async def next_screen(ws: websockets.ClientConnection, timeout: float) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert message["type"] == "next", message
    screen: dict[str, Any] = message["payload"]["data"]["screen"]
    return screen


async def test_a_dwell_event_personalises_the_store_screen_within_a_second(stack: DemoStack) -> None:
    store, screen_id, screen_token = store_devices(stack)
    camera_token = next(d["token"] for d in store["devices"] if d["kind"] == "camera")
    ws_url = stack.base_url.replace("http", "ws") + "/graphql"
    async with websockets.connect(
        ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {screen_token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"query": SCREEN_QUERY, "variables": {"d": screen_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        first = await next_screen(ws, timeout=10)
        assert first["audience"] == "STORE_BEST" and len(first["recommendation"]["items"]) >= 6

        best_categories = {i["product"]["category"] for i in first["recommendation"]["items"][:3]}
        zone = next((z for z in store["zones"] if z["category"] not in best_categories), store["zones"][0])
        event = {"event_id": f"e2e-{uuid.uuid4().hex}", "type": "dwell", "ts_ms": int(time.time() * 1000),
                 "visitor_id": "e2e-visitor", "zone_id": zone["zone_id"], "dwell_ms": 40_000}  # fmt: skip
        headers = {"Authorization": f"Bearer {camera_token}"}
        async with httpx.AsyncClient(base_url=stack.base_url) as client:
            response = await client.post("/events", json=[event], headers=headers)
            assert response.status_code == 202 and response.json()["accepted"] == 1
            screen = await next_screen(ws, timeout=1.0)
            while screen["causeEventId"] != event["event_id"]:
                screen = await next_screen(ws, timeout=1.0)

            top = screen["recommendation"]["items"][:3]
            assert screen["audience"] == "PERSONAL"
            assert [i["product"]["category"] for i in top] == [zone["category"]] * 3
            assert top[0]["reason"] == f"因为你在{zone['name']}停留了40秒"
            assert screen["recommendation"]["recId"] != first["recommendation"]["recId"]

            features_key = "f:subj:v:e2e-visitor"
            kv = redis.Redis.from_url(stack.run_info["kv_url"])
            before = kv.get(features_key)
            again = await client.post("/events", json=[event], headers=headers)
            assert again.json()["results"][0]["status"] == "duplicate"
            await asyncio.sleep(0.5)
            assert kv.get(features_key) == before
            kv.close()


def test_bad_input_is_refused_with_reasons_and_the_stack_keeps_serving(stack: DemoStack) -> None:
    store, screen_id, _ = store_devices(stack)
    camera_token = next(d["token"] for d in store["devices"] if d["kind"] == "camera")
    auth = {"Authorization": f"Bearer {camera_token}"}
    assert (
        httpx.post(f"{stack.base_url}/events", json=[], headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    malformed = httpx.post(f"{stack.base_url}/events", content=b"[{", headers=auth)
    assert malformed.status_code == 400 and "malformed JSON" in malformed.json()["error"]
    other_store = {"event_id": f"x-{uuid.uuid4().hex}", "type": "dwell", "ts_ms": int(time.time() * 1000),
                   "store_id": "store-999", "visitor_id": "v", "zone_id": "z", "dwell_ms": 1}  # fmt: skip
    mixed = httpx.post(f"{stack.base_url}/events", json=[other_store, {"type": "face"}], headers=auth).json()
    assert [r["status"] for r in mixed["results"]] == ["rejected", "rejected"]
    assert "belongs to store" in mixed["results"][0]["reason"]
    assert httpx.get(f"{stack.base_url}/readyz").json()["ready"] is True
    assert "guang_events_received_total" in httpx.get(f"{stack.base_url}/metrics").text
    page = httpx.get(f"{stack.base_url}/screen/{screen_id}")
    assert page.status_code == 200 and "graphql-transport-ws" in page.text


def test_a_killed_dataflow_is_restarted_and_events_flow_again(stack: DemoStack) -> None:
    store, _, _ = store_devices(stack)
    camera_token = next(d["token"] for d in store["devices"] if d["kind"] == "camera")
    old_pid = stack.run_info["children"]["dataflow"]
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while stack.run_info["children"]["dataflow"] == old_pid and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stack.run_info["children"]["dataflow"] != old_pid, "the dataflow was not restarted"
    stack.wait_ready()
    zone_id = store["zones"][0]["zone_id"]
    event = {"event_id": f"after-kill-{uuid.uuid4().hex}", "type": "dwell", "ts_ms": int(time.time() * 1000),
             "visitor_id": "after-kill", "zone_id": zone_id, "dwell_ms": 20_000}  # fmt: skip
    response = httpx.post(
        f"{stack.base_url}/events", json=[event], headers={"Authorization": f"Bearer {camera_token}"}
    )
    assert response.json()["accepted"] == 1
    kv = redis.Redis.from_url(stack.run_info["kv_url"])
    deadline = time.monotonic() + 10
    while kv.get("f:subj:v:after-kill") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kv.get("f:subj:v:after-kill") is not None
    kv.close()


def test_ctrl_c_leaves_no_process_and_a_second_start_is_quick_without_re_embedding(stack: DemoStack) -> None:
    info = stack.run_info
    pids = [info["pid"], *info["children"].values()]
    assert set(info["children"]) == {"valkey", "secantusdb", "dataflow"}
    assert stack.interrupt() == 0
    assert_all_gone(pids)

    again = start_stack(stack.data_dir, "second-start.log")
    try:
        assert again.seconds_to_health < 30
        assert "seeding" not in again.log.read_text()
    finally:
        second = again.run_info
        assert again.interrupt() == 0
        assert_all_gone([second["pid"], *second["children"].values()])
