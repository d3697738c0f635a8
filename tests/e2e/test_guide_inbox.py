"""A client's arrival reaches their advisor's phone: a real `guang demo` (API, dataflow, engines), a camera
posting a face `enter` event, and the staff member's guideInbox subscription over a websocket."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from typing import Any

import httpx
import pytest
import websockets

from guang.adapters.redis_features import RedisConsentView
from guang.bench.stack import DemoStack
from tests.graphql_http import gql

pytestmark = pytest.mark.e2e
INBOX = """subscription { guideInbox { staffId alert { memberId nickname how storeId storeName eventId
  recommendation { surface items { reason product { id name } } } } } }"""
CONSENT_VIEW_REFRESH_S: float = inspect.signature(RedisConsentView).parameters["refresh_s"].default
"""How stale the dataflow's view of face consents may be: a camera event sooner than this after the
consent can still be refused as unconsented."""


async def next_update(ws: websockets.ClientConnection, timeout: float) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert message["type"] == "next", message
    update: dict[str, Any] = message["payload"]["data"]["guideInbox"]
    return update


async def test_a_clients_face_arrival_reaches_their_advisors_inbox_within_a_second(stack: DemoStack) -> None:
    credentials = stack.credentials
    store = credentials["stores"][0]
    staff = credentials["staff"][0]
    camera_token = next(d["token"] for d in store["devices"] if d["kind"] == "camera")
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        login = "mutation($c: String!) { login(code: $c) { token viewer { subjectId } } }"
        shopper = (await gql(client, login, c=f"demo:guide-{uuid.uuid4().hex[:8]}"))["login"]
        member = shopper["viewer"]["subjectId"]
        consult = "mutation($s: String!) { consultStaff(staffId: $s, source: PROFILE) { newAdvisor } }"
        assert (await gql(client, consult, shopper["token"], s=staff["staff_id"]))["consultStaff"][
            "newAdvisor"
        ]
        await gql(client, "mutation { setConsent(kind: FACE, granted: true) { id } }", shopper["token"])
        staff_token = (await gql(client, login, c=staff["login_code"]))["login"]["token"]

        ws_url = stack.base_url.replace("http", "ws") + "/graphql"
        async with websockets.connect(
            ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {staff_token}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": INBOX}}))
            ready = await next_update(ws, timeout=10)
            assert ready == {"staffId": staff["staff_id"], "alert": None}
            await asyncio.sleep(CONSENT_VIEW_REFRESH_S + 0.5)

            event = {"event_id": f"e2e-{uuid.uuid4().hex}", "type": "face", "action": "enter",
                     "ts_ms": int(time.time() * 1000), "user_id": member, "match_score": 0.71,
                     "store_id": store["store_id"], "mall_id": store["mall_id"]}  # fmt: skip
            headers = {"Authorization": f"Bearer {camera_token}"}
            response = await client.post("/events", json=[event], headers=headers)
            assert response.status_code == 202 and response.json()["accepted"] == 1
            update = await next_update(ws, timeout=1.0)
            while update["alert"] is None:
                update = await next_update(ws, timeout=1.0)
        leaves = {**event, "event_id": f"e2e-{uuid.uuid4().hex}", "action": "exit"}
        await client.post("/events", json=[leaves], headers=headers)  # the store is empty for the next test

    alert = update["alert"]
    assert (alert["memberId"], alert["how"], alert["eventId"]) == (member, "FACE", event["event_id"])
    assert alert["storeId"] == store["store_id"] and alert["storeName"] == store["name"]
    assert alert["nickname"]
    recommendation = alert["recommendation"]
    assert recommendation["surface"] == "GUIDE" and len(recommendation["items"]) >= 6
    assert all(item["reason"] and item["product"]["name"] for item in recommendation["items"])
