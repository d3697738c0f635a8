"""Locust load test: devices, screens, shoppers, payers and staff using a running demo stack.

Run it through `make load PROFILE=smoke|steady|peak` (`guang load`), which starts the stack if needed and
judges the budgets; or by hand against a running demo (traffic stays on 127.0.0.1):
    GUANG_LOAD_DATA_DIR=.guang/load/stack/data .venv/bin/locust -f load-tests/locustfile.py \
        --headless -u 20 -r 5 -t 60s --host http://127.0.0.1:8000
The stack's data dir (GUANG_LOAD_DATA_DIR, default .guang) holds demo-credentials.json (device tokens,
login codes; GUANG_CREDENTIALS overrides its path) and the demo WeChat Pay keys the payers sign with.

Weights: GUANG_LOAD_WEIGHT_<CLASS> (e.g. GUANG_LOAD_WEIGHT_PAYER=2). Pacing: GUANG_LOAD_WAIT_<CLASS>="min,max"
seconds between tasks. GUANG_LOAD_REDELIVER (default 0.3): share of payment notifications delivered twice.
GUANG_LOAD_SCREEN_TIMEOUT_S (default 2): how long a screen watcher waits for the update its event caused.
GUANG_LOAD_WARMUP_S (default 0): after this many seconds from the start, every statistic is reset, so the
report and the budgets cover the warmed-up stack only (the start-up burst of logins is left out).
GUANG_LOAD_SIDECAR: a JSON file the run's extra counts are written to when it stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from locust.env import Environment
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from guang.payments import keys as wechatpay_keys
from guang.payments.wechatpay import WeChatPaySimulator

DATA_DIR = Path(os.environ.get("GUANG_LOAD_DATA_DIR", ".guang"))
CREDENTIALS = Path(os.environ.get("GUANG_CREDENTIALS", str(DATA_DIR / "demo-credentials.json")))
REDELIVER = float(os.environ.get("GUANG_LOAD_REDELIVER", "0.3"))
SCREEN_TIMEOUT_S = float(os.environ.get("GUANG_LOAD_SCREEN_TIMEOUT_S", "2"))
WARMUP_S = float(os.environ.get("GUANG_LOAD_WARMUP_S", "0"))
COUNTS: Counter[str] = Counter()
"""Outcomes that are neither a latency nor a failure, written to GUANG_LOAD_SIDECAR at the end."""

RECOMMENDATIONS = (
    "query R($s: String!) { recommendations(surface: SCREEN, storeId: $s, limit: 8) "
    "{ recId items { score } } }"
)
LOGIN = "mutation($c: String!) { login(code: $c) { token viewer { role storeId } } }"
STORE_PRODUCTS = "query($s: String!) { store(id: $s) { products(first: 20) { nodes { id priceFen } } } }"
CHECKOUT = (
    "mutation($s: String!, $i: [CheckoutItem!]!) { checkout(storeId: $s, items: $i) "
    "{ orderId amountFen prepay { package } } }"
)
ORDER = "query($id: String!) { order(id: $id) { status transactionId } }"
SCREEN = "subscription S($d: String!) { screen(deviceId: $d) { causeEventId } }"


def _weight(cls: str, default: int) -> int:
    return int(os.environ.get(f"GUANG_LOAD_WEIGHT_{cls.upper()}", default))


def _wait(cls: str, low: float, high: float) -> Any:
    raw = os.environ.get(f"GUANG_LOAD_WAIT_{cls.upper()}")
    if raw:
        low, high = (float(x) for x in raw.split(","))
    return between(low, high)


def _credentials() -> dict[str, Any]:
    credentials: dict[str, Any] = json.loads(CREDENTIALS.read_text())
    return credentials


def _stores() -> list[dict[str, Any]]:
    stores: list[dict[str, Any]] = _credentials()["stores"]
    return stores


def _device(store: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(d for d in store["devices"] if d["kind"] == kind)


@events.test_start.add_listener
def _reset_after_warmup(environment: Environment, **_: Any) -> None:
    def reset() -> None:
        environment.stats.reset_all()
        COUNTS.clear()

    if WARMUP_S > 0:  # locust's monkey-patching makes this timer a greenlet
        threading.Timer(WARMUP_S, reset).start()


@events.test_stop.add_listener
def _write_sidecar(**_: Any) -> None:
    if path := os.environ.get("GUANG_LOAD_SIDECAR"):
        Path(path).write_text(json.dumps(dict(COUNTS), indent=2))


class _Api(HttpUser):
    """GraphQL and device calls with the checks every user needs; a failure names what went wrong."""

    abstract = True
    token: str | None = None

    def gql(self, name: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers, name=name,
            catch_response=True,
        ) as response:  # fmt: skip
            body: dict[str, Any] = response.json() if response.status_code == 200 else {}
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
            if response.status_code != 200 or any(c not in ("CONFLICT",) for c in codes):
                response.failure(f"{response.status_code} {codes or response.text[:200]}")
                return None
            response.success()
            return body

    def login(self, code: str) -> dict[str, Any] | None:
        reply = self.gql("login", LOGIN, {"c": code})
        self.token = reply["data"]["login"]["token"] if reply else None
        return reply["data"]["login"]["viewer"] if reply else None

    def post_events(self, name: str, batch: list[dict[str, Any]], token: str) -> None:
        with self.client.post(
            "/events", json=batch, headers={"Authorization": f"Bearer {token}"}, name=name,
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 202 or response.json().get("rejected"):
                response.failure(f"{response.status_code} {response.text[:200]}")


class StoreCamera(_Api):
    """An edge device sending small batches of dwell events for its own store."""

    weight = _weight("StoreCamera", 2)
    wait_time = _wait("StoreCamera", 0.5, 1.5)

    def on_start(self) -> None:
        self.store = random.choice(_stores())
        self.camera = _device(self.store, "camera")["token"]

    @task
    def post_dwell_batch(self) -> None:
        now = int(time.time() * 1000)
        batch = [
            {
                "event_id": f"load-{uuid.uuid4().hex}",
                "type": "dwell",
                "ts_ms": now,
                "visitor_id": f"load-{random.randrange(200)}",
                "zone_id": random.choice(self.store["zones"])["zone_id"],
                "dwell_ms": random.randint(3, 90) * 1000,
            }
            for _ in range(random.randint(1, 10))
        ]
        self.post_events("POST /events (camera dwell batch)", batch, self.camera)


class StoreListReader(_Api):
    """A client asking what a store's screen would show now."""

    weight = _weight("StoreListReader", 3)
    wait_time = _wait("StoreListReader", 0.2, 1.0)

    def on_start(self) -> None:
        self.store_ids = [s["store_id"] for s in _stores()]

    @task
    def recommendations(self) -> None:
        self.gql("recommendations", RECOMMENDATIONS, {"s": random.choice(self.store_ids)})


class Shopper(_Api):
    """A mini-program user: logs in, browses nearby stores, the 种草 feed and coupons, likes and claims."""

    weight = _weight("Shopper", 4)
    wait_time = _wait("Shopper", 0.5, 2.0)

    def on_start(self) -> None:
        credentials = _credentials()
        self.spot = random.choice(credentials["mall_positions"])
        self.login(random.choice(credentials["shoppers"])["login_code"])

    @task(4)
    def nearby_stores(self) -> None:
        self.gql(
            "nearbyStores",
            "query($lat: Float!, $lng: Float!) "
            "{ nearbyStores(lat: $lat, lng: $lng, radiusM: 3000, first: 10) "
            "{ edges { node { id name distanceM } } } }",
            {"lat": self.spot["lat"], "lng": self.spot["lng"]},
        )

    @task(4)
    def feed(self) -> None:
        reply = self.gql("articles", "{ articles(first: 10) { nodes { id title likeCount likedByMe } } }")
        if reply and random.random() < 0.2 and reply["data"]["articles"]["nodes"]:
            article = random.choice(reply["data"]["articles"]["nodes"])["id"]
            self.gql(
                "likeArticle", "mutation($a: String!) { likeArticle(id: $a) { likeCount } }", {"a": article}
            )

    @task(2)
    def coupons(self) -> None:
        position = {"lat": self.spot["lat"], "lng": self.spot["lng"]}
        reply = self.gql(
            "nearbyCoupons",
            "query($lat: Float!, $lng: Float!) "
            "{ nearbyCoupons(lat: $lat, lng: $lng, first: 10) { nodes { id } } }",
            position,
        )
        if reply and random.random() < 0.2 and reply["data"]["nearbyCoupons"]["nodes"]:
            coupon = random.choice(reply["data"]["nearbyCoupons"]["nodes"])["id"]
            self.gql(
                "claimCoupon",
                "mutation($c: String!, $lat: Float!, $lng: Float!) "
                "{ claimCoupon(couponId: $c, lat: $lat, lng: $lng) { id } }",
                {"c": coupon, **position},
            )

    @task(1)
    def my_page(self) -> None:
        self.gql(
            "我的",
            "{ me { nickname } myCoupons(first: 10) { nodes { id } } "
            "myLikedArticles(first: 10) { nodes { id } } }",
        )


class Payer(_Api):
    """A shopper checking out at a store; WeChat Pay then notifies the webhook, sometimes twice."""

    weight = _weight("Payer", 1)
    wait_time = _wait("Payer", 1.0, 3.0)

    def on_start(self) -> None:
        wechatpay = DATA_DIR / wechatpay_keys.DEMO_DIR
        if not (wechatpay / wechatpay_keys.DEMO_CONFIG).exists():  # demo() would make new, wrong keys
            raise RuntimeError(f"no demo WeChat Pay keys in {wechatpay}: set GUANG_LOAD_DATA_DIR")
        simulator = wechatpay_keys.demo(wechatpay).simulator()
        assert simulator is not None
        self.wechatpay: WeChatPaySimulator = simulator
        code = random.choice(_credentials()["shoppers"])["login_code"]
        self.openid = code.removeprefix("demo:")
        self.login(code)
        self.products: dict[str, list[dict[str, Any]]] = {}
        for store in _stores():
            reply = self.gql("store products", STORE_PRODUCTS, {"s": store["store_id"]})
            if reply and (nodes := reply["data"]["store"]["products"]["nodes"]):
                self.products[store["store_id"]] = nodes

    @task
    def checkout_and_pay(self) -> None:
        if not self.products:
            return
        store_id = random.choice(list(self.products))
        picked = random.sample(self.products[store_id], k=min(len(self.products[store_id]), 2))
        items = [{"skuId": p["id"], "qty": 1} for p in picked]
        reply = self.gql("checkout", CHECKOUT, {"s": store_id, "i": items})
        if not reply or "errors" in reply:
            return
        placed = reply["data"]["checkout"]
        tx = self.wechatpay.transaction(
            out_trade_no=placed["orderId"], total_fen=placed["amountFen"], openid=self.openid
        )
        headers, body = self.wechatpay.notification(tx)
        if not self._deliver("POST /webhooks/wechatpay", headers, body):
            return
        if random.random() < REDELIVER:
            self._deliver("POST /webhooks/wechatpay (redelivery)", headers, body)
            COUNTS["notifications_redelivered"] += 1
        self._check_paid_once(placed["orderId"], tx["transaction_id"])

    def _deliver(self, name: str, headers: dict[str, str], body: bytes) -> bool:
        sent = {**headers, "Content-Type": "application/json", "User-Agent": "Mozilla/4.0"}
        with self.client.post(
            "/webhooks/wechatpay", data=body, headers=sent, name=name, catch_response=True
        ) as response:
            if response.status_code not in (200, 204):
                response.failure(f"{response.status_code} {response.text[:200]}")
                return False
        return True

    def _check_paid_once(self, order_id: str, transaction_id: str) -> None:
        reply = self.gql("order (after payment)", ORDER, {"id": order_id})
        order = reply["data"]["order"] if reply else None
        if order and (order["status"], order["transactionId"]) != ("PAID", transaction_id):
            COUNTS["orders_not_paid_once"] += 1
            self.environment.events.request.fire(
                request_type="CHECK", name="order paid exactly once", response_time=0, response_length=0,
                exception=AssertionError(f"order {order_id}: {order}"), context={},
            )  # fmt: skip


class PosTill(_Api):
    """A store's POS till reporting in-store card and cash payments as `payment` event batches."""

    weight = _weight("PosTill", 1)
    wait_time = _wait("PosTill", 1.0, 3.0)

    def on_start(self) -> None:
        credentials = _credentials()
        self.store = random.choice(credentials["stores"])
        self.pos = _device(self.store, "pos")["token"]
        self.members = [s["member_id"] for s in credentials["shoppers"]]
        reply = self.gql("store products", STORE_PRODUCTS, {"s": self.store["store_id"]})
        self.products = reply["data"]["store"]["products"]["nodes"] if reply else []

    @task
    def post_payments(self) -> None:
        if not self.products:
            return
        batch = []
        for _ in range(random.randint(1, 3)):
            lines = [
                {"sku_id": p["id"], "qty": random.randint(1, 2), "price_fen": p["priceFen"]}
                for p in random.sample(self.products, k=min(len(self.products), random.randint(1, 3)))
            ]
            subject = (
                {"user_id": random.choice(self.members)}
                if random.random() < 0.5
                else {"visitor_id": f"load-{random.randrange(200)}"}
            )
            batch.append(
                {
                    "event_id": f"load-pos-{uuid.uuid4().hex}",
                    "type": "payment",
                    "ts_ms": int(time.time() * 1000),
                    **subject,
                    "order_id": f"pos-{uuid.uuid4().hex[:16]}",
                    "amount_fen": sum(line["qty"] * line["price_fen"] for line in lines),
                    "items": lines,
                    "channel": "pos",
                }
            )
        self.post_events("POST /events (pos payment batch)", batch, self.pos)


class StaffMember(_Api):
    """A store's 导购: reads 店员说 and their own posts, writes, publishes and deletes a post."""

    weight = _weight("StaffMember", 1)
    wait_time = _wait("StaffMember", 1.0, 3.0)

    def on_start(self) -> None:
        viewer = self.login(random.choice(_credentials()["staff"])["login_code"])
        self.store_id = viewer["storeId"] if viewer else None

    @task(3)
    def read_posts(self) -> None:
        query = "query($s: String) { staffPosts(storeId: $s, first: 10) { nodes { id text } } }"
        self.gql("staffPosts", query, {"s": self.store_id})

    @task(2)
    def my_posts(self) -> None:
        query = "query($s: String) { managedStaffPosts(storeId: $s, first: 10) { nodes { id status } } }"
        self.gql("managedStaffPosts", query, {"s": self.store_id})

    @task(1)
    def write_post(self) -> None:
        text = f"压测：今日到店新品 {uuid.uuid4().hex[:8]}"
        reply = self.gql(
            "createStaffPost",
            "mutation($t: String!) { createStaffPost(input: {text: $t}) { id } }",
            {"t": text},
        )
        if not reply or "errors" in reply:
            return
        post_id = reply["data"]["createStaffPost"]["id"]
        self.gql(
            "publishStaffPost", "mutation($p: String!) { publishStaffPost(id: $p) { id } }", {"p": post_id}
        )
        self.gql("deleteStaffPost", "mutation($p: String!) { deleteStaffPost(id: $p) }", {"p": post_id})


class ScreenWatcher(_Api):
    """A store's smart screen on the websocket; it also plays a visitor lingering at a shelf, and times
    the dwell POST to the screen update that the event caused (custom metric `event→screen`)."""

    weight = _weight("ScreenWatcher", 1)
    wait_time = _wait("ScreenWatcher", 1.0, 3.0)

    def on_start(self) -> None:
        self.store = random.choice(_stores())
        self.screen = _device(self.store, "screen")
        self.camera = _device(self.store, "camera")["token"]
        self.visitor = f"load-screen-{uuid.uuid4().hex[:8]}"
        self.ws: ClientConnection | None = None
        self.connections = contextlib.ExitStack()

    def on_stop(self) -> None:
        self.connections.close()

    def _connect(self) -> ClientConnection:
        started = time.perf_counter()
        url = str(self.host).replace("http", "ws", 1) + "/graphql"
        ws = self.connections.enter_context(
            connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10)
        )
        auth = {"authorization": f"Bearer {self.screen['token']}"}
        ws.send(json.dumps({"type": "connection_init", "payload": auth}))
        ack = json.loads(ws.recv(timeout=10))
        if ack.get("type") != "connection_ack":
            raise ConnectionError(f"no connection_ack: {ack}")
        subscribe = {"query": SCREEN, "variables": {"d": self.screen["device_id"]}}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        self._next(ws, timeout=10)  # the current list, sent at once
        self._fire("screen subscribe", started, None)
        return ws

    def _next(self, ws: ClientConnection, timeout: float) -> str | None:
        """The causeEventId of the next screen update (pings answered)."""
        while True:
            message = json.loads(ws.recv(timeout=timeout))
            if message["type"] == "ping":
                ws.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                cause: str | None = message["payload"]["data"]["screen"]["causeEventId"]
                return cause
            else:
                raise ConnectionError(f"screen subscription ended: {json.dumps(message)[:200]}")

    def _fire(self, name: str, started: float, error: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="WS", name=name, response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=error, context={},
        )  # fmt: skip

    @task
    def dwell_then_screen(self) -> None:
        try:
            if self.ws is None:
                self.ws = self._connect()
            while True:  # forget updates other events caused since the last round
                self._next(self.ws, timeout=0)
        except TimeoutError:
            pass
        except (OSError, WebSocketException, ValueError) as error:
            self._fire("screen subscribe", time.perf_counter(), error)
            self.ws = None
            return
        event_id = f"load-screen-{uuid.uuid4().hex}"
        event = {
            "event_id": event_id, "type": "dwell", "ts_ms": int(time.time() * 1000),
            "visitor_id": self.visitor, "zone_id": random.choice(self.store["zones"])["zone_id"],
            "dwell_ms": random.randint(10, 60) * 1000,
        }  # fmt: skip
        started = time.perf_counter()
        self.post_events("POST /events (screen probe dwell)", [event], self.camera)
        self._await_cause(event_id, started)

    def _await_cause(self, event_id: str, started: float) -> None:
        """Record event→screen when the update our event caused arrives; an update that another event
        caused at the same moment may stand for ours (the screen shows the newest), counted apart."""
        assert self.ws is not None
        deadline = started + SCREEN_TIMEOUT_S
        others = 0
        try:
            while (left := deadline - time.perf_counter()) > 0:
                if self._next(self.ws, timeout=left) == event_id:
                    self._fire("event→screen", started, None)
                    return
                others += 1
        except TimeoutError:
            pass
        except (OSError, WebSocketException, ValueError) as error:
            self._fire("event→screen", started, error)
            self.ws = None
            return
        if others:
            COUNTS["screen_updates_superseded"] += 1
            return
        self._fire("event→screen", started, TimeoutError(f"no screen update within {SCREEN_TIMEOUT_S} s"))
