"""A shopper's day in the H5 mini-program, clicked through in headless Chromium against `guang demo`."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Phone

pytestmark = pytest.mark.browser


async def test_log_in_allow_location_and_browse_every_tab(phone: Phone) -> None:
    await phone.log_in_new_shopper()
    await expect(phone.testid("mall-arrival")).to_be_visible()
    await expect(phone.testid("deal").first).to_be_visible()
    await expect(phone.testid("store-tile").first).to_be_visible()
    await expect(phone.testid("article-card").first).to_be_visible()
    await expect(phone.testid("feed-item").first).to_be_visible()
    await phone.screenshot("home")

    await phone.testid("tab-posts").click()
    await expect(phone.testid("page-posts")).to_be_visible()
    await expect(phone.testid("post-card").first).to_be_visible()
    await phone.screenshot("posts")

    await phone.testid("tab-me").click()
    await expect(phone.testid("page-me")).to_be_visible()
    for section in ("my-likes", "my-follows", "my-advisors", "my-comments", "my-coupons"):
        await expect(phone.testid(section)).to_be_visible()

    await phone.testid("tab-home").click()
    await phone.testid("mall-arrival").click()
    await expect(phone.page).to_have_url(re.compile(r"#/mall/"))
    await expect(phone.page.get_by_text("今日活动").or_(phone.page.get_by_text("活动")).first).to_be_visible()


async def test_like_an_article_and_comment_on_it(phone: Phone) -> None:
    await phone.log_in_new_shopper()
    card = phone.testid("article-card").first
    title = (await card.inner_text()).split("\n")[0]
    await card.click()
    await expect(phone.testid("page-article")).to_be_visible()
    count = phone.testid("like-count")
    before = int(await count.inner_text())
    await phone.testid("like-button").click()
    await expect(count).to_have_text(str(before + 1))
    await phone.testid("comment-input").fill("这件真好看，周末去店里试试")
    await phone.testid("comment-submit").click()
    await expect(phone.page.get_by_text("这件真好看，周末去店里试试").first).to_be_visible()
    await phone.screenshot("article")

    await phone.go("#/me")
    await expect(phone.testid("my-likes")).to_contain_text(title[:6])
    await expect(phone.testid("my-comments")).to_contain_text("这件真好看")


async def test_follow_a_store_from_the_carousel_and_see_its_services(phone: Phone) -> None:
    await phone.log_in_new_shopper()
    await phone.testid("store-tile").first.click()
    await expect(phone.testid("page-store")).to_be_visible()
    name = await phone.testid("store-name").inner_text()
    follow = phone.testid("follow-button")
    await expect(follow).to_have_text("关注")
    await follow.click()
    await expect(follow).to_have_text("已关注")
    await phone.testid("service-delivery").click()
    await expect(phone.testid("panel-delivery")).to_be_visible()
    await phone.testid("service-instore").click()
    await expect(phone.testid("panel-instore")).to_be_visible()
    await phone.screenshot("store")

    await phone.go("#/me")
    await expect(phone.testid("my-follows")).to_contain_text(name)


async def test_claim_a_nearby_coupon(phone: Phone) -> None:
    await phone.log_in_new_shopper()
    await phone.go("#/coupons")
    claim = phone.testid("claim-button").first
    await claim.click()
    await expect(claim).to_have_text("已领取")
    await phone.screenshot("coupons")
    await phone.go("#/me")
    await expect(phone.testid("my-coupons")).not_to_contain_text("还没有")


async def test_consult_a_staff_member_shows_the_qr_and_adds_an_advisor(phone: Phone) -> None:
    await phone.log_in_new_shopper()
    await phone.testid("tab-posts").click()
    await phone.testid("post-staff").first.click()
    await expect(phone.testid("page-staff")).to_be_visible()
    staff_name = await phone.testid("staff-name").inner_text()
    await phone.testid("consult-button").click()
    await expect(phone.testid("consult-qr")).to_be_visible()
    await expect(phone.testid("consult-state")).not_to_be_empty()
    await phone.screenshot("consult")
    await phone.go("#/me")
    await expect(phone.testid("my-advisors")).to_contain_text(staff_name)


async def _feed_reasons(phone: Phone) -> list[str]:
    await expect(phone.testid("feed-item").first).to_be_visible()
    return [r.strip() for r in await phone.testid("feed-reason").all_inner_texts()]


async def test_face_consent_lets_a_shelf_visit_change_the_feed_and_withdrawal_stops_it(phone: Phone) -> None:
    await phone.log_in_new_shopper()
    before = await _feed_reasons(phone)
    assert not any("停留" in r for r in before), before
    rec_id = await phone.testid("feed").get_attribute("data-rec-id")
    assert rec_id and rec_id.startswith("rec_")

    await phone.go("#/face")
    await expect(phone.testid("face-state")).to_have_text("未开启")
    await expect(phone.testid("face-opt-in")).to_be_disabled()
    await phone.testid("face-agree").check()
    await phone.testid("face-opt-in").click()
    await expect(phone.testid("face-state")).to_have_text("已开启")
    await phone.testid("face-get-code").click()
    await expect(phone.testid("face-code")).to_have_text(re.compile(r"^[2-9A-Z]{4} [2-9A-Z]{4}$"))
    await phone.screenshot("face-on")

    await phone.go("#/home")
    await phone.testid("store-tile").first.click()
    await phone.testid("simulate-dwell").click()
    await expect(phone.testid("toast")).to_contain_text("停留")
    await phone.go("#/home")
    deadline = time.monotonic() + 15
    after = await _feed_reasons(phone)
    while not any("停留" in r for r in after) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        await phone.testid("feed-refresh").click()
        after = await _feed_reasons(phone)
    assert any("停留" in r for r in after), f"the feed did not follow the shelf visit: {after}"
    await phone.testid("feed").scroll_into_view_if_needed()
    await phone.screenshot("feed-after-dwell")

    sent = await phone.page.evaluate("window.__guangTrack.sent")
    assert any(e["action"] == "IMPRESSION" and e.get("recId") == rec_id for e in sent), sent

    await phone.go("#/face")
    await phone.testid("face-opt-out").click()
    await expect(phone.testid("face-state")).to_have_text("未开启")
    await phone.go("#/home")
    await phone.testid("store-tile").first.click()
    await phone.testid("simulate-dwell").click()
    await expect(phone.testid("toast")).to_contain_text("人脸识别")


async def test_buy_in_a_store_pay_and_see_what_goes_with_it(phone: Phone) -> None:
    await phone.log_in_new_shopper()
    await phone.testid("store-tile").first.click()
    await phone.testid("buy-button").first.click()
    await phone.testid("pay-confirm").click()
    await expect(phone.testid("page-pay")).to_be_visible()
    await expect(phone.page).to_have_url(re.compile(r"#/pay/"))
    await expect(phone.testid("pay-rec-item").first).to_be_visible()
    await phone.screenshot("pay-success")
