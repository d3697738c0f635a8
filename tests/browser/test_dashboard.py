"""The store's live dashboard in Chromium, fed by the real dataflow from a camera's events."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import Phone

pytestmark = pytest.mark.browser


async def test_a_shelf_visit_reaches_the_store_dashboard_heat_and_footfall(phone: Phone) -> None:
    credentials = phone.stack.credentials
    store = credentials["stores"][0]
    zone = store["zones"][0]
    camera = next(d["token"] for d in store["devices"] if d["kind"] == "camera")
    staff_code = next(s["login_code"] for s in credentials["staff"] if s["staff_id"] in store["staff_ids"])
    visitor = f"v-dash-{uuid.uuid4().hex[:8]}"
    event = {
        "event_id": f"dash-{uuid.uuid4().hex}", "type": "dwell", "ts_ms": int(time.time() * 1000),
        "visitor_id": visitor, "zone_id": zone["zone_id"], "dwell_ms": 45_000,
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=phone.stack.base_url) as client:
        sent = await client.post("/events", json=[event], headers={"Authorization": f"Bearer {camera}"})
    assert sent.status_code == 202, sent.text

    await phone.page.goto(f"{phone.stack.base_url}/dashboard/{store['store_id']}")
    await phone.testid("dashboard-code").fill(staff_code)
    await phone.testid("dashboard-login").click()
    heat = phone.testid("heatmap")
    await expect(heat).to_be_visible()
    deadline = time.monotonic() + 20
    while zone["name"] not in await heat.inner_text() or not re.search(
        r"[1-9]\d* 秒", await heat.inner_text()
    ):
        assert time.monotonic() < deadline, f"no dwell on the dashboard: {await heat.inner_text()}"
        await phone.page.reload()
        await expect(heat).to_be_visible()
    assert int(await phone.page.locator("#visitors").inner_text()) >= 1
    await phone.screenshot("dashboard")
