"""The H5 mini-program in real headless Chromium (Debian's package) against a real `guang demo` stack.

Every test gets a fresh phone (a 375×812 browser context at the first demo mall) and a brand-new shopper;
the page may log no console error and may fetch nothing outside 127.0.0.1. Each test leaves a screenshot
in test-artifacts/browser/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from guang.bench.stack import DemoStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/|^(data|blob|about):")


@pytest.fixture(scope="session")
def mp_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    data_dir = tmp_path_factory.mktemp("mp") / "data"
    stack = DemoStack.start(data_dir, scale=0.02, log=data_dir.parent / "demo.log", timeout_s=300)
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.interrupt()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        await chromium.close()


@dataclass
class Phone:
    """One shopper's phone: the page, where it stands, and what went wrong on it."""

    page: Page
    stack: DemoStack
    lat: float
    lng: float
    name: str
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    @property
    def app_url(self) -> str:
        return f"{self.stack.base_url}/mp/?lat={self.lat}&lng={self.lng}"

    def testid(self, testid: str) -> Any:
        return self.page.get_by_test_id(testid)

    async def go(self, route: str) -> None:
        await self.page.goto(f"{self.app_url}{route}")

    async def log_in_new_shopper(self, *, allow_location: bool = True) -> str:
        """Log in with a fresh demo code (a new member) and answer the location prompt."""
        code = f"demo:browser-{uuid.uuid4().hex[:10]}"
        await self.go("#/login")
        await self.testid("login-code").fill(code)
        await self.testid("login-submit").click()
        await expect(self.testid("location-prompt")).to_be_visible()
        await self.testid("location-allow" if allow_location else "location-deny").click()
        await expect(self.testid("page-home")).to_be_visible()
        return code

    async def screenshot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}.png"
        await self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
async def phone(
    browser: Browser, mp_stack: DemoStack, request: pytest.FixtureRequest
) -> AsyncIterator[Phone]:
    credentials = mp_stack.credentials
    first_mall = credentials["stores"][0]["mall_id"]
    position = next(m for m in credentials["mall_positions"] if m["mall_id"] == first_mall)
    context = await browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation={"latitude": position["lat"], "longitude": position["lng"]},
        permissions=["geolocation"],
    )
    context.set_default_timeout(10_000)
    phone = Phone(await context.new_page(), mp_stack, position["lat"], position["lng"], request.node.name)

    async def only_local(route: Route) -> None:
        if LOCAL.match(route.request.url):
            await route.continue_()
        else:
            phone.outside_requests.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    phone.page.on("console", lambda m: m.type == "error" and phone.console_errors.append(m.text))
    phone.page.on("pageerror", lambda e: phone.console_errors.append(f"uncaught: {e}"))
    try:
        yield phone
        await phone.screenshot("end")
    finally:
        await context.close()
    assert phone.console_errors == [], "the page logged errors"
    assert phone.outside_requests == [], "the page fetched something outside 127.0.0.1"
