"""The guide inbox page (/guide/) on a staff member's phone in Chromium: log in with a staff code, see the
client book, and watch a client's arrival (a camera's face event through the real dataflow) appear live."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid

import httpx
import pytest
from playwright.async_api import expect

from guang.adapters.redis_features import RedisConsentView
from tests.browser.conftest import Phone
from tests.graphql_http import gql

pytestmark = pytest.mark.browser
CONSENT_VIEW_REFRESH_S: float = inspect.signature(RedisConsentView).parameters["refresh_s"].default
"""How stale the dataflow's view of face consents may be (a camera event sooner may still be refused)."""


async def new_client(client: httpx.AsyncClient, staff_id: str) -> tuple[str, str]:
    """A new shopper who pressed 向TA咨询 on this staff member and turned face recognition on."""
    login = "mutation($c: String!) { login(code: $c) { token } }"
    token = (await gql(client, login, c=f"demo:guide-page-{uuid.uuid4().hex[:8]}"))["login"]["token"]
    consult = "mutation($s: String!) { consultStaff(staffId: $s, source: PROFILE) { state } }"
    await gql(client, consult, token, s=staff_id)
    await gql(client, "mutation { setConsent(kind: FACE, granted: true) { id } }", token)
    me = (await gql(client, "query { me { id nickname } }", token))["me"]
    return me["id"], me["nickname"]


async def test_a_clients_arrival_appears_live_in_the_guide_inbox(phone: Phone) -> None:
    credentials = phone.stack.credentials
    store = credentials["stores"][0]
    staff = credentials["staff"][-1]
    camera = next(d["token"] for d in store["devices"] if d["kind"] == "camera")
    async with httpx.AsyncClient(base_url=phone.stack.base_url) as client:
        member, nickname = await new_client(client, staff["staff_id"])

        await phone.page.goto(f"{phone.stack.base_url}/guide/")
        await phone.testid("guide-code").fill(staff["login_code"])
        await phone.testid("guide-login").click()
        await expect(phone.testid("guide-status")).to_have_text("实时")
        await phone.page.evaluate("window.__sameDocument = true")
        await phone.testid("tab-clients").click()
        client_row = phone.page.locator(f'[data-testid="guide-client"][data-member="{member}"]')
        await expect(client_row).to_contain_text(nickname)
        await expect(client_row).to_contain_text("向TA咨询")
        await phone.screenshot("guide-clients")
        await phone.testid("tab-inbox").click()
        await asyncio.sleep(CONSENT_VIEW_REFRESH_S + 0.5)

        event = {"event_id": f"guide-page-{uuid.uuid4().hex}", "type": "face", "action": "enter",
                 "ts_ms": int(time.time() * 1000), "user_id": member, "match_score": 0.7}  # fmt: skip
        sent = await client.post("/events", json=[event], headers={"Authorization": f"Bearer {camera}"})
        assert sent.status_code == 202 and sent.json()["accepted"] == 1, sent.text

    card = phone.page.locator(f'[data-testid="guide-alert"][data-member="{member}"]')
    await expect(card).to_be_visible()
    await expect(card).to_contain_text(nickname)
    await expect(card).to_contain_text("进店（人脸识别）")
    await expect(card).to_contain_text(store["name"])
    assert await card.get_by_test_id("guide-recs").locator("li").count() >= 6
    assert await phone.page.evaluate("window.__sameDocument === true"), (
        "the page reloaded instead of updating"
    )
    await phone.screenshot("guide-inbox")
