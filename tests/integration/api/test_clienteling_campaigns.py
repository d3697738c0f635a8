"""The tag accuracy audit, client groups and campaigns over GraphQL, on a scripted set of clients with
exact expected figures."""

from __future__ import annotations

from typing import Any

import pytest

from guang.domain.models import Coupon, Product
from guang.services.app_events import new_event_id, now_ms
from tests.integration.api.conftest import ApiStack
from tests.integration.api.test_clienteling import (
    ADD_TAG,
    DAY_MS,
    TAG,
    carried,
    codes,
    new_client,
    place_order,
    staff_login,
    store,
    team,
)

AUDIT = """query($s: String!) { tagAudit(storeId: $s) {
  storeId
  staff { staffId staffName tagged confirmed contradicted unverified precision
          tags { tagId tagged confirmed contradicted unverified precision } }
  tags { tagId tagName tagged confirmed contradicted unverified precision }
  notAuditable { tagId tagName given } } }"""
CREATE_GROUP = "mutation($n: String!, $r: JSON!) { createClientGroup(name: $n, rule: $r) { id name rule } }"
GROUP = (
    "query($id: String!) { clientGroup(id: $id) { size members { memberId nickname } group { id name } } }"
)
GROUPS = "{ clientGroups { id name } }"
SEND = """mutation($g: String!, $c: String, $a: String, $m: String) {
  sendCampaign(groupId: $g, couponId: $c, articleId: $a, message: $m) {
    id groupId targetType targetId title message delivered skippedNoConsent } }"""
RESULTS = """query($c: String!) { campaignResults(campaignId: $c) {
  delivered opened claimed redeemed campaign { id delivered skippedNoConsent } } }"""
INBOX = """{ myClientMessages(first: 10) { nodes {
  campaignId staffId
  staffName storeName targetType couponId articleId title message deliveredAtMs openedAtMs } } }"""
OPEN = "mutation($c: String!) { openCampaignMessage(campaignId: $c) { campaignId openedAtMs } }"
MARKETING = "mutation { setConsent(kind: MARKETING, granted: true) { id } }"
CLAIM = """mutation($c: String!, $lat: Float!, $lng: Float!) {
  claimCoupon(couponId: $c, lat: $lat, lng: $lng) { id } }"""
REDEEM = "mutation($c: String!) { redeemCoupon(claimId: $c) { status } }"


def two_categories(api: ApiStack, store_id: str) -> tuple[Product, Product]:
    products = carried(api, store_id)
    first = products[0]
    return first, next(p for p in products if p.category != first.category)


async def test_tag_audit_gives_precision_per_tag_and_per_staff_member(api: ApiStack) -> None:
    home = store(api, "store-003")
    a, b = team(api, home.id)[:2]
    p1, p2 = two_categories(api, home.id)
    admin = await api.login(f"brand-openid-{home.brand_id}")
    suffix = new_event_id()[:4]
    cat1 = (await api.gql(ADD_TAG, {"g": "CATEGORY", "n": f"爱{p1.category}{suffix}", "c": [p1.category]},
                          token=admin))["addClientTag"]["id"]  # fmt: skip
    cat2 = (await api.gql(ADD_TAG, {"g": "CATEGORY", "n": f"爱{p2.category}{suffix}", "c": [p2.category]},
                          token=admin))["addClientTag"]["id"]  # fmt: skip
    _, m1 = await new_client(api, a.id)
    _, m2 = await new_client(api, a.id, b.id)
    _, m3 = await new_client(api, a.id)
    _, m4 = await new_client(api, b.id)
    await place_order(api, m1, home.id, [(p1, 1)])
    await place_order(api, m2, home.id, [(p2, 2), (p1, 1)])
    await place_order(api, m4, home.id, [(p1, 1), (p2, 1)])
    a_token, b_token = await staff_login(api, a.id), await staff_login(api, b.id)
    for member in (m1, m2, m3):
        await api.gql(TAG, {"m": member, "t": [cat1]}, token=a_token)
    await api.gql(TAG, {"m": m1, "t": ["std-size-m"]}, token=a_token)
    await api.gql(TAG, {"m": m4, "t": [cat1]}, token=b_token)
    await api.gql(TAG, {"m": m2, "t": [cat2, cat1]}, token=b_token)  # cat1 is on m2 already, tagged by a

    report = (await api.gql(AUDIT, {"s": home.id}, token=admin))["tagAudit"]
    staff = {s["staffId"]: s for s in report["staff"]}
    assert set(staff) == {a.id, b.id}
    figures = ("tagged", "confirmed", "contradicted", "unverified", "precision")
    assert [staff[a.id][f] for f in figures] == [3, 1, 1, 1, 0.5]
    assert [staff[b.id][f] for f in figures] == [2, 2, 0, 0, 1.0]
    assert staff[a.id]["staffName"] == a.name
    assert {t["tagId"]: t["precision"] for t in staff[b.id]["tags"]} == {cat1: 1.0, cat2: 1.0}
    tags = {t["tagId"]: t for t in report["tags"]}
    assert [tags[cat1][f] for f in figures] == [4, 2, 1, 1, pytest.approx(2 / 3)]
    assert [tags[cat2][f] for f in figures] == [1, 1, 0, 0, 1.0]
    assert report["notAuditable"] == [{"tagId": "std-size-m", "tagName": "尺码/M", "given": 1}]
    assert (await api.gql(AUDIT, {"s": home.id}, token=a_token))["tagAudit"] == report
    elsewhere = next(s for s in api.data.stores if s.id != home.id)
    assert await codes(api, AUDIT, {"s": home.id}, await staff_login(api, team(api, elsewhere.id)[0].id)) == [
        "FORBIDDEN"
    ]
    assert await codes(api, AUDIT, {"s": home.id}, await api.new_shopper()) == ["FORBIDDEN"]
    assert await codes(api, AUDIT, {"s": home.id}, await api.login(f"mall-openid-{home.mall_id}")) == [
        "FORBIDDEN"
    ]


async def make_coupon(api: ApiStack, store_id: str) -> Coupon:
    s = store(api, store_id)
    now = now_ms()
    coupon = Coupon(
        id=f"cpn-t-{new_event_id()[:10]}", title="老客回馈 满200减30", brand_id=s.brand_id, store_id=s.id,
        mall_id=s.mall_id, discount_fen=3000, min_spend_fen=20000, radius_m=3000, starts_ms=now - DAY_MS,
        ends_ms=now + DAY_MS, per_user_quota=1, total_stock=100,
    )  # fmt: skip
    await api.services.container.documents.insert_one(
        "coupons", {"_id": coupon.id, **coupon.model_dump(mode="json")}
    )
    return coupon


async def scripted_book(api: ApiStack, staff_id: str, store_id: str) -> dict[str, tuple[str, str]]:
    """Four clients of `staff_id`: name → (token, member id)."""
    token = await staff_login(api, staff_id)
    p1, _ = two_categories(api, store_id)
    clients = {name: await new_client(api, staff_id) for name in ("fan", "shy", "untagged", "lapsed")}
    for name in ("fan", "untagged", "lapsed"):
        await api.gql(MARKETING, token=clients[name][0])
    for name, days in (("fan", 10), ("shy", 20), ("untagged", 5), ("lapsed", 200)):
        await place_order(api, clients[name][1], store_id, [(p1, 1)], days_ago=days)
    for name in ("fan", "shy", "lapsed"):
        await api.gql(TAG, {"m": clients[name][1], "t": ["std-style-minimal"]}, token=token)
    return clients


async def test_groups_by_tags_and_behaviour_have_exact_members(api: ApiStack) -> None:
    home = store(api, "store-004")
    person = team(api, home.id)[0]
    token = await staff_login(api, person.id)
    clients = await scripted_book(api, person.id, home.id)
    p1, _ = two_categories(api, home.id)
    recent = {"all": [{"tag": "std-style-minimal"}, {"bought_category": p1.category, "within_days": 90}]}
    group = (await api.gql(CREATE_GROUP, {"n": "极简近期购", "r": recent}, token=token))["createClientGroup"]
    assert group["rule"] == recent
    found = (await api.gql(GROUP, {"id": group["id"]}, token=token))["clientGroup"]
    assert found["size"] == 2
    assert [m["memberId"] for m in found["members"]] == [clients["shy"][1], clients["fan"][1]]
    lapsed_rule = {"all": [{"tag": "std-style-minimal"}, {"not_seen_days": 30}]}
    lapsed = (await api.gql(CREATE_GROUP, {"n": "沉睡", "r": lapsed_rule}, token=token))["createClientGroup"]
    members = (await api.gql(GROUP, {"id": lapsed["id"]}, token=token))["clientGroup"]["members"]
    assert [m["memberId"] for m in members] == [clients["lapsed"][1]]
    assert {g["id"] for g in (await api.gql(GROUPS, token=token))["clientGroups"]} >= {
        group["id"],
        lapsed["id"],
    }
    colleague = await staff_login(api, team(api, home.id)[1].id)
    assert await codes(api, GROUP, {"id": group["id"]}, colleague) == ["NOT_FOUND"]
    bad_rules: list[dict[str, Any]] = [{"tag": "no-such-tag"}, {"colour": "red"}, {"all": []}]
    for bad in bad_rules:
        assert await codes(api, CREATE_GROUP, {"n": "坏规则", "r": bad}, token) == ["INVALID_ARGUMENT"]


async def test_a_campaign_reaches_consenting_clients_and_counts_opens_and_redemptions(api: ApiStack) -> None:
    home = store(api, "store-004")
    person, colleague = team(api, home.id)[1], team(api, home.id)[0]  # a book apart from the groups test's
    token = await staff_login(api, person.id)
    clients = await scripted_book(api, person.id, home.id)
    fan, shy = clients["fan"], clients["shy"]
    p1, _ = two_categories(api, home.id)
    rule = {"all": [{"tag": "std-style-minimal"}, {"bought_category": p1.category, "within_days": 90}]}
    group = (await api.gql(CREATE_GROUP, {"n": "回馈", "r": rule}, token=token))["createClientGroup"]["id"]
    coupon = await make_coupon(api, home.id)
    sent = (await api.gql(SEND, {"g": group, "c": coupon.id, "m": "给您留了一张券"}, token=token))[
        "sendCampaign"
    ]
    assert {k: v for k, v in sent.items() if k not in ("id", "message")} == {
        "groupId": group, "targetType": "coupon", "targetId": coupon.id, "title": coupon.title,
        "delivered": 1, "skippedNoConsent": 1,
    }  # fmt: skip
    assert sent["message"] == "给您留了一张券"
    [message] = (await api.gql(INBOX, token=fan[0]))["myClientMessages"]["nodes"]
    assert message["campaignId"] == sent["id"] and message["couponId"] == coupon.id
    assert (message["staffId"], message["staffName"], message["openedAtMs"]) == (person.id, person.name, None)
    assert message["message"] == "给您留了一张券"
    assert (await api.gql(INBOX, token=shy[0]))["myClientMessages"]["nodes"] == []
    assert await codes(api, OPEN, {"c": sent["id"]}, shy[0]) == ["NOT_FOUND"]
    results = (await api.gql(RESULTS, {"c": sent["id"]}, token=token))["campaignResults"]
    assert (results["delivered"], results["opened"], results["claimed"], results["redeemed"]) == (1, 0, 0, 0)

    opened = (await api.gql(OPEN, {"c": sent["id"]}, token=fan[0]))["openCampaignMessage"]
    again = (await api.gql(OPEN, {"c": sent["id"]}, token=fan[0]))["openCampaignMessage"]
    assert opened["openedAtMs"] is not None and again == opened
    lng, lat = home.location.coordinates
    claim = (await api.gql(CLAIM, {"c": coupon.id, "lat": lat, "lng": lng}, token=fan[0]))["claimCoupon"][
        "id"
    ]
    results = (await api.gql(RESULTS, {"c": sent["id"]}, token=token))["campaignResults"]
    assert (results["delivered"], results["opened"], results["claimed"], results["redeemed"]) == (1, 1, 1, 0)
    await api.gql(REDEEM, {"c": claim}, token=token)
    admin = await api.login(f"brand-openid-{home.brand_id}")
    results = (await api.gql(RESULTS, {"c": sent["id"]}, token=admin))["campaignResults"]
    assert (results["delivered"], results["opened"], results["claimed"], results["redeemed"]) == (1, 1, 1, 1)
    assert results["campaign"] == {"id": sent["id"], "delivered": 1, "skippedNoConsent": 1}
    assert await codes(api, RESULTS, {"c": sent["id"]}, await staff_login(api, colleague.id)) == ["NOT_FOUND"]


async def test_campaign_targets_must_be_the_brands_and_live(api: ApiStack) -> None:
    home = store(api, "store-004")
    person = team(api, home.id)[0]
    token = await staff_login(api, person.id)
    group = (await api.gql(CREATE_GROUP, {"n": "全部", "r": {"min_orders": 1}}, token=token))[
        "createClientGroup"
    ]["id"]
    article = next(a for a in api.data.articles if a.brand_id == home.brand_id)
    sent = (await api.gql(SEND, {"g": group, "a": article.id}, token=token))["sendCampaign"]
    assert (sent["targetType"], sent["title"]) == ("article", article.title)
    foreign = next(c for c in api.data.coupons if c.brand_id != home.brand_id)
    refused: dict[str, Any] = {"g": group, "c": foreign.id}
    assert await codes(api, SEND, refused, token) == ["NOT_FOUND"]
    assert await codes(api, SEND, {"g": group}, token) == ["INVALID_ARGUMENT"]
    both = {"g": group, "c": foreign.id, "a": article.id}
    assert await codes(api, SEND, both, token) == ["INVALID_ARGUMENT"]
    assert await codes(api, SEND, {"g": group, "a": article.id}, await api.new_shopper()) == ["FORBIDDEN"]
