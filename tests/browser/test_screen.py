"""A store's smart screen (/screen/{device_id}) at 1920×1080 in Chromium against the real demo stack.

The screen follows a shelf visit sent by the store's camera; survives a network cut on the store list
it kept, also across a reload during the cut, and reconnects by itself; and goes back to the store's
list when the person in front of it has gone quiet.

Two kinds of cut: the server unreachable while the browser thinks it is online (Playwright's WebSocket
routing closes the socket and refuses new ones, as a dead uplink would, without the real failed
connections Chromium would log as console errors), and the browser itself offline (`set_offline`: it
does not close open sockets in Chromium, but fires `offline`, on which the page drops its socket and
stops trying until `online`). The conftest's rules hold: no console error, nothing fetched outside
127.0.0.1, a screenshot per step in test-artifacts/browser/.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    Route,
    WebSocketRoute,
    expect,
)

from guang.bench.stack import DemoStack
from tests.browser.conftest import LOCAL, SCREENSHOTS

pytestmark = pytest.mark.browser

PERSONAL_STALE_MS = 60_000
"""The page's PERSONAL_STALE_MS: a person list with no new event for this long is someone who left."""
RECONNECT_TIMEOUT_MS = 40_000
"""Backoff is capped at 15 s with jitter: generous room for a reconnect after a cut."""


def screen_store(stack: DemoStack) -> dict[str, Any]:
    """The demo store of the second mall: the other browser tests send their shelf visits to the first."""
    stores = stack.credentials["stores"]
    first_mall = stores[0]["mall_id"]
    return next((s for s in stores if s["mall_id"] != first_mall and s["zones"]), stores[-1])


def device(store: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(d for d in store["devices"] if d["kind"] == kind)


class Network:
    """The screen's link to the server: passes its websockets through, or cuts them like a pulled cable."""

    def __init__(self) -> None:
        self.up = True
        self.sockets: list[WebSocketRoute] = []

    async def route(self, ws: WebSocketRoute) -> None:
        if not self.up:
            await ws.close(code=1006)
            return
        self.sockets.append(ws)
        ws.connect_to_server()

    async def cut(self) -> None:
        self.up = False
        for ws in self.sockets:
            await ws.close(code=1006)
        self.sockets.clear()

    def restore(self) -> None:
        self.up = True


@dataclass
class Screen:
    page: Page
    stack: DemoStack
    store: dict[str, Any]
    name: str
    network: Network
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(device(self.store, "screen")["screen_url"])

    @property
    def cards(self) -> Locator:
        return self.page.get_by_test_id("screen-card")

    async def card_texts(self, part: str) -> list[str]:
        return [t.strip() for t in await self.cards.locator(f".{part}").all_inner_texts()]

    async def product_ids(self) -> list[str]:
        return [str(await c.get_attribute("data-product-id")) for c in await self.cards.all()]

    async def wait_for(self, timeout_ms: float = 15_000, **attributes: str) -> None:
        """Until the page's body carries these data-* attributes (e.g. audience="PERSONAL")."""
        selector = "".join(f'[data-{k.replace("_", "-")}="{v}"]' for k, v in attributes.items())
        await expect(self.page.locator(f"body{selector}")).to_have_count(1, timeout=timeout_ms)

    async def screenshot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}.png"
        await self.page.screenshot(path=str(path), full_page=False, animations="disabled")
        return path


@pytest.fixture
async def screen(
    browser: Browser, mp_stack: DemoStack, request: pytest.FixtureRequest
) -> AsyncIterator[Screen]:
    context = await browser.new_context(
        viewport={"width": 1920, "height": 1080}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    screen = Screen(page, mp_stack, screen_store(mp_stack), request.node.name, Network())

    async def only_local(route: Route) -> None:
        if LOCAL.match(route.request.url):
            await route.continue_()
        else:
            screen.outside_requests.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    await page.route_web_socket("**/graphql", screen.network.route)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            screen.console_errors.append(message.text)

    def on_page_error(error: Error) -> None:
        screen.console_errors.append(f"uncaught: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        yield screen
        await screen.screenshot("end")
    finally:
        await context.close()
    assert screen.console_errors == [], "the screen logged errors"
    assert screen.outside_requests == [], "the screen fetched something outside 127.0.0.1"


async def send_dwell(
    stack: DemoStack, store: dict[str, Any], zone: dict[str, Any], visitor: str, *, seconds: int = 40
) -> str:
    """A camera's dwell event for a shelf zone of the store, through POST /events; returns its id."""
    event = {
        "event_id": f"screen-{uuid.uuid4().hex}", "type": "dwell", "ts_ms": int(time.time() * 1000),
        "visitor_id": visitor, "zone_id": zone["zone_id"], "dwell_ms": seconds * 1000,
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {device(store, 'camera')['token']}"}
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        sent = await client.post("/events", json=[event], headers=headers)
    assert sent.status_code == 202 and sent.json()["accepted"] == 1, sent.text
    return str(event["event_id"])


async def expect_zone_on_top(
    screen: Screen, zone: dict[str, Any], event_id: str, *, seconds: int = 40
) -> None:
    await screen.wait_for(cause_event_id=event_id, source="live")
    await expect(screen.page.get_by_test_id("screen-audience")).to_have_text("为你推荐")
    categories, reasons = await screen.card_texts("category"), await screen.card_texts("reason")
    assert categories[0] == zone["category"], categories
    assert reasons[0] == f"因为你在{zone['name']}停留了{seconds}秒", reasons


async def test_the_screen_follows_a_shelf_visit_and_rides_out_a_network_cut(screen: Screen) -> None:
    store, page = screen.store, screen.page
    await page.goto(screen.url)
    await screen.wait_for(connection="live", audience="STORE_BEST")
    await expect(page.locator("#store")).to_have_text(store["name"])
    await expect(page.get_by_test_id("screen-audience")).to_have_text("本店热销")
    assert await screen.cards.count() >= 6
    assert all(await screen.card_texts("name"))
    assert all(price.startswith("¥") for price in await screen.card_texts("price"))
    assert all(reason and "停留" not in reason for reason in await screen.card_texts("reason"))
    best_sellers = await screen.product_ids()
    await screen.screenshot("store-best")

    best_categories = set((await screen.card_texts("category"))[:3])
    zone = next((z for z in store["zones"] if z["category"] not in best_categories), store["zones"][0])
    visitor = f"v-screen-{uuid.uuid4().hex[:8]}"
    await expect_zone_on_top(screen, zone, await send_dwell(screen.stack, store, zone, visitor))
    await screen.screenshot("after-dwell")

    await screen.network.cut()
    await screen.wait_for(connection="offline", source="cache", audience="STORE_BEST")
    await expect(page.get_by_test_id("screen-offline")).to_have_text("离线")
    assert await screen.product_ids() == best_sellers
    await screen.screenshot("offline")

    await page.reload()
    await screen.wait_for(source="cache")
    assert await screen.product_ids() == best_sellers
    await screen.wait_for(connection="offline")
    await expect(page.get_by_test_id("screen-offline")).to_be_visible()
    await screen.screenshot("reloaded-offline")

    screen.network.restore()
    await screen.wait_for(RECONNECT_TIMEOUT_MS, connection="live")
    await expect(page.get_by_test_id("screen-offline")).to_be_hidden()
    other = next(z for z in store["zones"] if z["category"] != zone["category"])
    # longer than the first visit, so the new shelf clearly leads the same shopper's interest
    event_id = await send_dwell(screen.stack, store, other, visitor, seconds=90)
    await expect_zone_on_top(screen, other, event_id, seconds=90)
    await screen.screenshot("reconnected")

    await page.context.set_offline(True)
    await screen.wait_for(connection="offline", source="cache")
    assert await screen.product_ids() == best_sellers
    await page.context.set_offline(False)
    await screen.wait_for(RECONNECT_TIMEOUT_MS, connection="live", source="live")
    await expect(page.get_by_test_id("screen-offline")).to_be_hidden()


async def test_a_person_who_has_gone_quiet_gives_way_to_the_store_best_sellers(screen: Screen) -> None:
    store, page = screen.store, screen.page
    zone = store["zones"][-1]
    event_id = await send_dwell(screen.stack, store, zone, f"v-quiet-{uuid.uuid4().hex[:8]}")
    await page.clock.install()
    await page.goto(screen.url)
    await screen.wait_for(connection="live", cause_event_id=event_id)
    assert any(f"因为你在{zone['name']}停留" in r for r in await screen.card_texts("reason"))
    await page.wait_for_function("window.__screenState.hasStoreBest")
    await screen.screenshot("someone-known")

    await page.clock.fast_forward(PERSONAL_STALE_MS + 1_000)
    await screen.wait_for(source="stale", audience="STORE_BEST")
    await expect(page.get_by_test_id("screen-audience")).to_have_text("本店热销")
    assert await screen.cards.count() >= 6
    assert not any("你" in r for r in await screen.card_texts("reason"))
    await screen.wait_for(connection="live")
