"""Locust load test of the walking skeleton: cameras posting events, clients asking for store lists.

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
