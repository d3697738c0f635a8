"""The store and mall dashboards in Chromium, fed live (a subscription, no reload) by the real dataflow from a
camera's events."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import ViewportSize, expect

from tests.browser.conftest import Phone

pytestmark = pytest.mark.browser
DESKTOP = ViewportSize(width=1280, height=1000)


def camera_token(store: dict[str, Any]) -> str:
    return str(next(d["token"] for d in store["devices"] if d["kind"] == "camera"))


async def send_visit(phone: Phone, store: dict[str, Any], *, dwell_ms: int) -> None:
    """A new anonymous visitor walks in and stands at the store's first shelf."""
    zone = store["zones"][0]["zone_id"]
    visitor = f"v-dash-{uuid.uuid4().hex[:8]}"
    now = int(time.time() * 1000)
    events = [
        {"event_id": f"dash-{uuid.uuid4().hex}", "type": "face", "action": "enter", "ts_ms": now,
         "visitor_id": visitor, "zone_id": zone},
        {"event_id": f"dash-{uuid.uuid4().hex}", "type": "dwell", "ts_ms": now + 1, "visitor_id": visitor,
         "zone_id": zone, "dwell_ms": dwell_ms},
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=phone.stack.base_url) as client:
        sent = await client.post(
            "/events", json=events, headers={"Authorization": f"Bearer {camera_token(store)}"}
        )
    assert sent.status_code == 202, sent.text


async def log_in(phone: Phone, url: str, code: str) -> None:
    await phone.page.set_viewport_size(DESKTOP)
    await phone.page.goto(url)
    await phone.testid("dashboard-code").fill(code)
    await phone.testid("dashboard-login").click()
    await expect(phone.testid("dashboard-mode")).to_have_text("实时")
    await phone.page.evaluate("window.__sameDocument = true")


async def still_the_same_document(phone: Phone) -> bool:
    return bool(await phone.page.evaluate("window.__sameDocument === true"))


async def test_a_shelf_visit_reaches_the_store_dashboard_live(phone: Phone) -> None:
    credentials = phone.stack.credentials
    store = credentials["stores"][0]
    zone = store["zones"][0]
    staff_code = next(s["login_code"] for s in credentials["staff"] if s["staff_id"] in store["staff_ids"])
    await log_in(phone, f"{phone.stack.base_url}/dashboard/{store['store_id']}", staff_code)
    visitors = phone.page.locator("#visitors")
    before = int(await visitors.inner_text())
    plan = phone.testid("floor-plan")
    await expect(plan.locator(f'[data-zone="{zone["zone_id"]}"]')).to_be_visible()

    await send_visit(phone, store, dwell_ms=45_000)

    await expect(visitors).not_to_have_text(str(before), timeout=20_000)
    assert int(await visitors.inner_text()) > before
    heat = phone.testid("heatmap")
    await expect(heat).to_contain_text(zone["name"])
    await expect(heat).to_contain_text(re.compile(r"[1-9]\d*(\.\d)? 秒"))
    shelf = plan.locator(f'[data-zone="{zone["zone_id"]}"] rect')
    assert "hsl(" in (await shelf.get_attribute("style") or "")
    await expect(phone.testid("guide").first).to_be_visible()
    assert await still_the_same_document(phone), "the page reloaded instead of updating live"
    assert int(await phone.testid("dashboard-mode").get_attribute("data-pushes") or 0) >= 2
    await phone.screenshot("store-dashboard")


async def test_the_mall_dashboard_shows_a_stores_new_visitor_live(phone: Phone) -> None:
    credentials = phone.stack.credentials
    store = credentials["stores"][0]
    operator = next(
        o["login_code"] for o in credentials["mall_operators"] if o["mall_id"] == store["mall_id"]
    )
    await log_in(phone, f"{phone.stack.base_url}/dashboard/mall/{store['mall_id']}", operator)
    row = phone.page.locator(f'[data-testid="mall-store"][data-store-id="{store["store_id"]}"]')
    figure = row.locator('[data-figure="visitors"]')
    before = int(await figure.inner_text())

    await send_visit(phone, store, dwell_ms=20_000)

    await expect(figure).not_to_have_text(str(before), timeout=20_000)
    assert int(await figure.inner_text()) > before
    assert int(await phone.page.locator("#visitors").inner_text()) > before
    assert await still_the_same_document(phone), "the page reloaded instead of updating live"
    await phone.screenshot("mall-dashboard")


async def test_a_shopper_is_refused_and_sent_back_to_the_login(phone: Phone) -> None:
    store = phone.stack.credentials["stores"][0]
    await phone.page.goto(f"{phone.stack.base_url}/dashboard/{store['store_id']}")
    await phone.testid("dashboard-code").fill(f"demo:browser-{uuid.uuid4().hex[:10]}")
    await phone.testid("dashboard-login").click()
    await expect(phone.page.locator("#error")).to_contain_text("only the store's staff")
    await expect(phone.testid("dashboard-code")).to_be_visible()
    await expect(phone.page.locator("#board")).to_be_hidden()
