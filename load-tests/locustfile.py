"""Locust load test: cameras posting events, clients asking for store lists, shoppers using the app.

Run against a running demo (traffic stays on 127.0.0.1):
    .venv/bin/locust -f load-tests/locustfile.py --headless -u 20 -r 5 -t 60s --host http://127.0.0.1:8000
It reads device tokens from GUANG_CREDENTIALS (default .guang/demo-credentials.json).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

CREDENTIALS = Path(os.environ.get("GUANG_CREDENTIALS", ".guang/demo-credentials.json"))
RECOMMENDATIONS = (
    "query R($s: String!) { recommendations(surface: SCREEN, storeId: $s, limit: 8) "
    "{ recId items { score } } }"
)


def _stores() -> list[dict[str, Any]]:
    stores: list[dict[str, Any]] = json.loads(CREDENTIALS.read_text())["stores"]
    return stores


class StoreCamera(HttpUser):
    """An edge device sending small batches of dwell events for its own store."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.store = random.choice(_stores())
        self.token = next(d["token"] for d in self.store["devices"] if d["kind"] == "camera")

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
        self.client.post(
            "/events", json=batch, headers={"Authorization": f"Bearer {self.token}"}, name="POST /events"
        )


class StoreListReader(HttpUser):
    """A client asking what a store's screen would show now."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.store_ids = [s["store_id"] for s in _stores()]

    @task
    def recommendations(self) -> None:
        variables = {"s": random.choice(self.store_ids)}
        self.client.post(
            "/graphql", json={"query": RECOMMENDATIONS, "variables": variables}, name="recommendations"
        )


def _credentials() -> dict[str, Any]:
    credentials: dict[str, Any] = json.loads(CREDENTIALS.read_text())
    return credentials


class Shopper(HttpUser):
    """A mini-program user: logs in, browses nearby stores, the 种草 feed and coupons, likes and claims."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        credentials = _credentials()
        self.spot = random.choice(credentials["mall_positions"])
        code = random.choice(credentials["shoppers"])["login_code"]
        reply = self._gql("login", "mutation($c: String!) { login(code: $c) { token } }", {"c": code})
        self.token = reply["data"]["login"]["token"] if reply else None

    def _gql(self, name: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self.token}"} if getattr(self, "token", None) else {}
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

    @task(4)
    def nearby_stores(self) -> None:
        self._gql(
            "nearbyStores",
            "query($lat: Float!, $lng: Float!) "
            "{ nearbyStores(lat: $lat, lng: $lng, radiusM: 3000, first: 10) "
            "{ edges { node { id name distanceM } } } }",
            {"lat": self.spot["lat"], "lng": self.spot["lng"]},
        )

    @task(4)
    def feed(self) -> None:
        reply = self._gql("articles", "{ articles(first: 10) { nodes { id title likeCount likedByMe } } }")
        if reply and random.random() < 0.2 and reply["data"]["articles"]["nodes"]:
            article = random.choice(reply["data"]["articles"]["nodes"])["id"]
            self._gql(
                "likeArticle", "mutation($a: String!) { likeArticle(id: $a) { likeCount } }", {"a": article}
            )

    @task(2)
    def coupons(self) -> None:
        position = {"lat": self.spot["lat"], "lng": self.spot["lng"]}
        reply = self._gql(
            "nearbyCoupons",
            "query($lat: Float!, $lng: Float!) "
            "{ nearbyCoupons(lat: $lat, lng: $lng, first: 10) { nodes { id } } }",
            position,
        )
        if reply and random.random() < 0.2 and reply["data"]["nearbyCoupons"]["nodes"]:
            coupon = random.choice(reply["data"]["nearbyCoupons"]["nodes"])["id"]
            self._gql(
                "claimCoupon",
                "mutation($c: String!, $lat: Float!, $lng: Float!) "
                "{ claimCoupon(couponId: $c, lat: $lat, lng: $lng) { id } }",
                {"c": coupon, **position},
            )

    @task(1)
    def my_page(self) -> None:
        self._gql(
            "我的",
            "{ me { nickname } myCoupons(first: 10) { nodes { id } } "
            "myLikedArticles(first: 10) { nodes { id } } }",
        )
