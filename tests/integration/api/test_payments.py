"""Checkout, my orders, and WeChat Pay notifications on the embedded stack, delivered over HTTP as WeChat
Pay delivers them (signed and encrypted with keys generated for this test session)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from guang.coupons.rules import RESERVATION_MS
from guang.domain.errors import Conflict, Forbidden
from guang.domain.models import Coupon, Product, Store
from guang.payments.keys import WeChatPayKeys
from guang.payments.service import CheckoutLine, Payments, commission_fen
from guang.payments.wechatpay import WeChatPaySimulator, new_private_key
from guang.services.devices import issue_token
from tests.integration.api.conftest import ApiStack, GraphQLFailed

CHECKOUT = """
mutation($s: String!, $i: [CheckoutItem!]!, $c: [String!], $code: String) {
  checkout(storeId: $s, items: $i, couponClaimIds: $c, shareCode: $code) {
    orderId amountFen
    order { id status storeId mallId subtotalFen discountFen amountFen guideId couponIds paidMs
            items { skuId name qty priceFen } }
    prepay { appId timeStamp nonceStr package signType paySign demo }
  }
}"""
ORDER = "query($id: String!) { order(id: $id) { id status amountFen paidMs transactionId guideId } }"
MY_ORDERS = """query($first: Int!, $after: String) {
  myOrders(first: $first, after: $after) { nodes { id status } pageInfo { hasNextPage endCursor } }
}"""


def _store_with_products(api: ApiStack, count: int = 2) -> tuple[Store, list[Product]]:
    """A store and SKUs in stock there."""
    for store in api.data.stores:
        stocked = [
            p for p in api.data.products if any(s.store_id == store.id and s.qty >= 3 for s in p.stock)
        ]
        if len(stocked) >= count:
            return store, stocked[:count]
    raise AssertionError("no store carries enough products")


async def _shopper(api: ApiStack) -> tuple[str, str]:
    """(session token, openid) of a brand-new member."""
    openid = f"t-pay-{uuid.uuid4().hex[:12]}"
    return await api.login(openid), openid


async def _checkout(api: ApiStack, token: str, **extra: Any) -> dict[str, Any]:
    store, products = _store_with_products(api)
    items = [{"skuId": products[0].id, "qty": 2}, {"skuId": products[1].id, "qty": 1}]
    variables = {"s": store.id, "i": items, **extra}
    result: dict[str, Any] = (await api.gql(CHECKOUT, variables, token=token))["checkout"]
    return result


def _keys(api: ApiStack) -> WeChatPayKeys:
    keys = api.services.payments.keys
    assert keys is not None, "the test stack runs in demo mode"
    return keys


def _simulator(api: ApiStack) -> WeChatPaySimulator:
    simulator = _keys(api).simulator()
    assert simulator is not None, "the test stack runs with demo keys"
    return simulator


def _paid(api: ApiStack, order: dict[str, Any], openid: str, **changes: Any) -> dict[str, Any]:
    """The transaction WeChat Pay reports for a successful payment of `order`."""
    tx = _simulator(api).transaction(
        out_trade_no=order["orderId"], total_fen=order["amountFen"], openid=openid
    )
    return {**tx, **changes}


async def _deliver(api: ApiStack, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    response = await api.client.post(
        "/webhooks/wechatpay", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    return response.status_code, (response.json() if response.content else None)


async def _payment_events(api: ApiStack, order_id: str) -> list[dict[str, Any]]:
    return [e for e in await api.bus_events("payment") if e.get("order_id") == order_id]


async def _order_doc(api: ApiStack, order_id: str) -> dict[str, Any]:
    doc = await api.services.container.documents.find_one("orders", {"_id": order_id})
    assert doc is not None
    return doc


async def _outcomes(api: ApiStack, order_id: str) -> list[str]:
    return [r.outcome for r in await api.services.payments.notifications(order_id=order_id)]


async def test_checkout_prices_from_the_catalog_and_an_authentic_notification_pays_once(
    api: ApiStack,
) -> None:
    token, openid = await _shopper(api)
    store, products = _store_with_products(api)
    placed = await _checkout(api, token)
    order = placed["order"]
    subtotal = products[0].price_fen * 2 + products[1].price_fen
    assert (order["status"], order["storeId"], order["mallId"]) == ("PENDING", store.id, store.mall_id)
    assert placed["amountFen"] == order["amountFen"] == order["subtotalFen"] == subtotal
    assert order["discountFen"] == 0 and order["paidMs"] is None and order["guideId"] is None
    assert [(i["skuId"], i["qty"], i["priceFen"]) for i in order["items"]] == [
        (products[0].id, 2, products[0].price_fen), (products[1].id, 1, products[1].price_fen),
    ]  # fmt: skip
    prepay = placed["prepay"]
    assert prepay["package"].startswith("prepay_id=") and prepay["signType"] == "RSA" and prepay["demo"]
    assert prepay["appId"] == _keys(api).app_id and prepay["paySign"]

    headers, body = _simulator(api).notification(_paid(api, placed, openid))
    status, answer = await _deliver(api, headers, body)
    assert (status, answer) == (204, None), "the documented success answer: 204, no body"

    paid = (await api.gql(ORDER, {"id": placed["orderId"]}, token=token))["order"]
    assert paid["status"] == "PAID" and paid["paidMs"] > 0 and paid["transactionId"].startswith("4200")
    [event] = await _payment_events(api, placed["orderId"])
    assert (event["user_id"], event["store_id"], event["mall_id"], event["channel"]) == (
        (await _order_doc(api, placed["orderId"]))["member_id"], store.id, store.mall_id, "wechatpay",
    )  # fmt: skip
    assert event["amount_fen"] == subtotal and event.get("guide_id") is None
    assert [(i["sku_id"], i["qty"]) for i in event["items"]] == [(products[0].id, 2), (products[1].id, 1)]
    assert await _outcomes(api, placed["orderId"]) == ["accepted"]


async def test_forged_tampered_replayed_and_mismatched_notifications_change_nothing(api: ApiStack) -> None:
    token, openid = await _shopper(api)
    placed = await _checkout(api, token)
    order_id, simulator = placed["orderId"], _simulator(api)
    forger = WeChatPaySimulator(
        mchid=simulator.mchid, app_id=simulator.app_id, apiv3_key=simulator.apiv3_key,
        platform_serial=simulator.platform_serial, platform_private_key=new_private_key(),
    )  # fmt: skip
    good_headers, good_body = simulator.notification(_paid(api, placed, openid))
    tampered = good_body.replace(b'"summary":"', b'"summary":"x', 1)
    deliveries = {
        "forged signature": forger.notification(_paid(api, placed, openid)),
        "tampered body": (good_headers, tampered),
        "old timestamp": simulator.notification(_paid(api, placed, openid), timestamp=int(time.time()) - 600),
        "unknown serial": simulator.notification(_paid(api, placed, openid), serial="F" * 40),
        "wrong amount": simulator.notification(
            _paid(api, placed, openid, amount={"total": 1, "payer_total": 1, "currency": "CNY"})
        ),
        "wrong mchid": simulator.notification(_paid(api, placed, openid, mchid="1900000999")),
        "wrong appid": simulator.notification(_paid(api, placed, openid, appid="wx0000000000000000")),
        "unknown order": simulator.notification(_paid(api, placed, openid, out_trade_no="o-nope")),
    }
    refused_before = await api.services.container.documents.count(
        "payment_notifications", {"outcome": "refused"}
    )
    since = int(time.time() * 1000)
    counted_before = sum((await api.services.payments.refusal_counts(since_ms=since)).values())
    for what, (headers, body) in deliveries.items():
        status, answer = await _deliver(api, headers, body)
        assert 400 <= status < 500, what
        assert answer["code"] == "FAIL" and answer["message"], what
    mine = (await api.gql(ORDER, {"id": order_id}, token=token))["order"]
    assert mine["status"] == "PENDING" and mine["paidMs"] is None and mine["transactionId"] is None
    assert await _payment_events(api, order_id) == []
    recorded = await api.services.container.documents.count("payment_notifications", {"outcome": "refused"})
    assert recorded - refused_before == 4, (
        "authentic (verified) refusals are recorded in full with their reason"
    )
    counted = sum((await api.services.payments.refusal_counts(since_ms=since)).values())
    assert counted - counted_before == 4, (
        "unverified ones (forged, tampered, stale, unknown serial) are counted"
    )
    # only a verified, decrypted notification is trusted to name its order
    assert await _outcomes(api, order_id) == ["refused"] * 3
    status, _ = await _deliver(api, good_headers, good_body)
    assert status == 204, "the genuine notification still goes through afterwards"
    assert len(await _payment_events(api, order_id)) == 1


async def test_the_same_notification_delivered_ten_times_at_once_pays_once(api: ApiStack) -> None:
    token, openid = await _shopper(api)
    placed = await _checkout(api, token)
    headers, body = _simulator(api).notification(_paid(api, placed, openid))
    answers = await asyncio.gather(*(_deliver(api, headers, body) for _ in range(10)))
    assert [status for status, _ in answers] == [204] * 10
    assert len(await _payment_events(api, placed["orderId"])) == 1
    outcomes = await _outcomes(api, placed["orderId"])
    assert sorted(outcomes) == ["accepted"] + ["duplicate"] * 9
    again_headers, again_body = _simulator(api).notification(_paid(api, placed, openid))
    assert (await _deliver(api, again_headers, again_body))[0] == 204, "a later retry is acknowledged"
    assert len(await _payment_events(api, placed["orderId"])) == 1


async def test_a_non_success_trade_state_is_acknowledged_without_paying(api: ApiStack) -> None:
    token, openid = await _shopper(api)
    placed = await _checkout(api, token)
    headers, body = _simulator(api).notification(_paid(api, placed, openid, trade_state="PAYERROR"))
    assert (await _deliver(api, headers, body))[0] == 204
    assert (await api.gql(ORDER, {"id": placed["orderId"]}, token=token))["order"]["status"] == "PENDING"
    assert await _outcomes(api, placed["orderId"]) == ["ignored"]


async def test_checkout_refuses_bad_items_with_codes(api: ApiStack) -> None:
    token, _ = await _shopper(api)
    store, products = _store_with_products(api)
    elsewhere = next(p for p in api.data.products if p.stock and all(s.store_id != store.id for s in p.stock))
    cases = {
        "NOT_FOUND": [
            {"s": store.id, "i": [{"skuId": "sku-999999", "qty": 1}]},
            {"s": "store-nope", "i": [{"skuId": products[0].id, "qty": 1}]},
        ],
        "INVALID_ARGUMENT": [
            {"s": store.id, "i": [{"skuId": elsewhere.id, "qty": 1}]},
            {"s": store.id, "i": [{"skuId": products[0].id, "qty": 0}]},
            {"s": store.id, "i": [{"skuId": products[0].id, "qty": -2}]},
            {"s": store.id, "i": []},
        ],
        "CONFLICT": [{"s": store.id, "i": [{"skuId": products[0].id, "qty": 99}]}],
    }
    for code, variable_sets in cases.items():
        for variables in variable_sets:
            with pytest.raises(GraphQLFailed) as refused:
                await api.gql(CHECKOUT, variables, token=token)
            assert refused.value.codes == [code], variables
    with pytest.raises(GraphQLFailed) as anonymous:
        await api.gql(CHECKOUT, {"s": store.id, "i": [{"skuId": products[0].id, "qty": 1}]})
    assert anonymous.value.codes == ["UNAUTHENTICATED"]
    staff = next(a for a in api.data.accounts if a.role == "staff")
    staff_token = await api.login(staff.id)
    with pytest.raises(GraphQLFailed) as not_a_shopper:
        await api.gql(
            CHECKOUT, {"s": store.id, "i": [{"skuId": products[0].id, "qty": 1}]}, token=staff_token
        )
    assert not_a_shopper.value.codes == ["FORBIDDEN"]


async def test_only_the_buyer_can_read_an_order(api: ApiStack) -> None:
    mine, _ = await _shopper(api)
    theirs, _ = await _shopper(api)
    first = await _checkout(api, mine)
    second = await _checkout(api, mine)
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql(ORDER, {"id": first["orderId"]}, token=theirs)
    assert refused.value.codes == ["FORBIDDEN"]
    with pytest.raises(GraphQLFailed) as missing:
        await api.gql(ORDER, {"id": "o-does-not-exist"}, token=mine)
    assert missing.value.codes == ["NOT_FOUND"]
    assert (await api.gql(MY_ORDERS, {"first": 10}, token=theirs))["myOrders"]["nodes"] == []
    page = (await api.gql(MY_ORDERS, {"first": 1}, token=mine))["myOrders"]
    assert [n["id"] for n in page["nodes"]] == [second["orderId"]] and page["pageInfo"]["hasNextPage"]
    rest = await api.gql(MY_ORDERS, {"first": 10, "after": page["pageInfo"]["endCursor"]}, token=mine)
    assert [n["id"] for n in rest["myOrders"]["nodes"]] == [first["orderId"]]


async def test_a_seeded_members_history_shows_as_paid_orders(api: ApiStack) -> None:
    member = next(m for m in api.data.members if any(o.member_id == m.id for o in api.data.orders))
    token = await api.login(member.openid)
    nodes = (await api.gql(MY_ORDERS, {"first": 50}, token=token))["myOrders"]["nodes"]
    expected = {o.id for o in api.data.orders if o.member_id == member.id}
    assert {n["id"] for n in nodes} <= expected and len(nodes) == min(50, len(expected))
    assert {n["status"] for n in nodes} == {"PAID"}


async def test_a_share_link_attributes_the_order_to_a_guide_of_the_same_brand_once(api: ApiStack) -> None:
    store, _ = _store_with_products(api)
    docs = api.services.container.documents
    same = next(s for s in api.data.staff if _brand_of(api, s.store_id) == _brand_of(api, store.id))
    other = next((s for s in api.data.staff if _brand_of(api, s.store_id) != _brand_of(api, store.id)), None)
    codes = {"same": f"sh-{uuid.uuid4().hex[:10]}", "other": f"sh-{uuid.uuid4().hex[:10]}"}
    for key, staff in (("same", same), ("other", other)):
        await docs.insert_one(
            "share_links",
            {"_id": codes[key], "target_type": "article", "target_id": "a-1",
             "staff_id": staff.id if staff else None, "member_id": None, "created_ms": 1},
        )  # fmt: skip
    token, openid = await _shopper(api)
    placed = await _checkout(api, token, code=codes["same"])
    assert placed["order"]["guideId"] == same.id
    for code in (codes["other"], "sh-unknown"):
        assert (await _checkout(api, token, code=code))["order"]["guideId"] is None
    headers, body = _simulator(api).notification(_paid(api, placed, openid))
    assert (await _deliver(api, headers, body))[0] == 204
    again_headers, again_body = _simulator(api).notification(_paid(api, placed, openid))
    assert (await _deliver(api, again_headers, again_body))[0] == 204  # WeChat Pay delivers it again
    rate = next(b.guide_commission_rate for b in api.data.brands if b.id == _brand_of(api, store.id))
    assert (await _order_doc(api, placed["orderId"]))["commission_fen"] == commission_fen(
        placed["amountFen"], rate
    )
    [event] = await _payment_events(api, placed["orderId"])
    assert event["guide_id"] == same.id


def _brand_of(api: ApiStack, store_id: str) -> str:
    return next(s.brand_id for s in api.data.stores if s.id == store_id)


async def store_coupon(api: ApiStack, store: Store) -> Coupon:
    """A fresh 满1减0.5 coupon of `store` (5 km, live for the next hour, one per shopper, stock 10)."""
    now = int(time.time() * 1000)
    coupon = Coupon(
        id=f"c-pay-{uuid.uuid4().hex[:8]}", title="满1减0.5", brand_id=store.brand_id, store_id=store.id,
        mall_id=None, discount_fen=50, min_spend_fen=100, radius_m=5000, starts_ms=now - 60_000,
        ends_ms=now + 3_600_000, per_user_quota=1, total_stock=10,
    )  # fmt: skip
    await api.services.container.documents.insert_one(
        "coupons", {"_id": coupon.id, **coupon.model_dump(mode="json")}
    )
    return coupon


async def test_a_coupon_discounts_the_order_and_is_redeemed_by_the_payment(api: ApiStack) -> None:
    store, _ = _store_with_products(api)
    coupon = await store_coupon(api, store)
    token, openid = await _shopper(api)
    lng, lat = store.location.coordinates
    claim = await api.gql(CLAIM, {"c": coupon.id, "lat": lat, "lng": lng}, token=token)
    claim_id = claim["claimCoupon"]["id"]
    placed = await _checkout(api, token, c=[claim_id])
    order = placed["order"]
    assert order["discountFen"] == 50 and placed["amountFen"] == order["subtotalFen"] - 50
    assert order["couponIds"] == [coupon.id]
    headers, body = _simulator(api).notification(_paid(api, placed, openid))
    assert (await _deliver(api, headers, body))[0] == 204
    claim_doc = await api.services.container.documents.find_one("coupon_claims", {"_id": claim_id})
    assert claim_doc is not None
    assert (claim_doc["status"], claim_doc["order_id"]) == ("redeemed", placed["orderId"])
    [event] = await _payment_events(api, placed["orderId"])
    assert event["coupon_ids"] == [coupon.id] and event["amount_fen"] == placed["amountFen"]


async def test_demo_mode_can_simulate_paying_my_own_order(api: ApiStack) -> None:
    token, _ = await _shopper(api)
    other, _ = await _shopper(api)
    placed = await _checkout(api, token)
    pay = "mutation($o: String!) { simulatePayment(orderId: $o) { id status paidMs } }"
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql(pay, {"o": placed["orderId"]}, token=other)
    assert refused.value.codes == ["FORBIDDEN"]
    paid = (await api.gql(pay, {"o": placed["orderId"]}, token=token))["simulatePayment"]
    assert paid["status"] == "PAID" and paid["paidMs"] > 0
    assert len(await _payment_events(api, placed["orderId"])) == 1


CLAIM = """mutation($c: String!, $lat: Float!, $lng: Float!) {
  claimCoupon(couponId: $c, lat: $lat, lng: $lng) { id } }"""
REDEEM = "mutation($c: String!) { redeemCoupon(claimId: $c) { id status } }"


async def _claimed_coupon(api: ApiStack, store: Store, token: str) -> str:
    """A fresh 满1减0.5 coupon of `store`, claimed by the shopper: its claim id."""
    coupon = await store_coupon(api, store)
    lng, lat = store.location.coordinates
    claim_id: str = (await api.gql(CLAIM, {"c": coupon.id, "lat": lat, "lng": lng}, token=token))[
        "claimCoupon"
    ]["id"]
    return claim_id


async def test_a_checkout_holds_its_coupon_claim_so_it_discounts_one_order_only(api: ApiStack) -> None:
    store, _ = _store_with_products(api)
    token, openid = await _shopper(api)
    claim_id = await _claimed_coupon(api, store, token)
    documents = api.services.container.documents
    first = await _checkout(api, token, c=[claim_id])
    assert first["order"]["discountFen"] == 50
    held = await documents.find_one("coupon_claims", {"_id": claim_id})
    assert held is not None and (held["status"], held["reserved_order_id"]) == ("claimed", first["orderId"])

    with pytest.raises(GraphQLFailed) as second:
        await _checkout(api, token, c=[claim_id])
    assert second.value.codes == ["CONFLICT"] and "awaits payment" in second.value.errors[0]["message"]
    till = issue_token(api.services.container.secret_key, f"dev-pos-{store.id}")
    response = await api.client.post(
        f"/pos/coupons/{claim_id}/redeem", headers={"Authorization": f"Bearer {till}"}
    )
    assert response.status_code == 409 and "awaits payment" in response.json()["error"]
    staff = next((p for p in api.data.staff if p.store_id == store.id), None)
    if staff is not None:
        staff_token = await api.login(f"staff-openid-{staff.id}")
        with pytest.raises(GraphQLFailed) as at_counter:
            await api.gql(REDEEM, {"c": claim_id}, token=staff_token)
        assert at_counter.value.codes == ["CONFLICT"]

    headers, body = _simulator(api).notification(_paid(api, first, openid))
    assert (await _deliver(api, headers, body))[0] == 204
    redeemed = await documents.find_one("coupon_claims", {"_id": claim_id})
    assert redeemed is not None and (redeemed["status"], redeemed["order_id"]) == (
        "redeemed",
        first["orderId"],
    )
    with pytest.raises(GraphQLFailed) as after_paying:
        await _checkout(api, token, c=[claim_id])
    assert (
        after_paying.value.codes == ["CONFLICT"]
        and "already redeemed" in after_paying.value.errors[0]["message"]
    )


async def test_an_order_left_unpaid_loses_its_coupon_hold_to_a_later_checkout(api: ApiStack) -> None:
    store, _ = _store_with_products(api)
    token, openid = await _shopper(api)
    claim_id = await _claimed_coupon(api, store, token)
    documents = api.services.container.documents
    abandoned = await _checkout(api, token, c=[claim_id])
    stale = int(time.time() * 1000) - RESERVATION_MS - 1000
    await documents.update_one("coupon_claims", {"_id": claim_id}, {"$set": {"reserved_ms": stale}})
    later = await _checkout(api, token, c=[claim_id])
    assert later["order"]["discountFen"] == 50
    # The abandoned order, paid after all, cannot redeem the claim the later order now holds.
    headers, body = _simulator(api).notification(_paid(api, abandoned, openid))
    assert (await _deliver(api, headers, body))[0] == 204
    still = await documents.find_one("coupon_claims", {"_id": claim_id})
    assert still is not None and (still["status"], still["reserved_order_id"]) == (
        "claimed",
        later["orderId"],
    )
    headers, body = _simulator(api).notification(_paid(api, later, openid))
    assert (await _deliver(api, headers, body))[0] == 204
    done = await documents.find_one("coupon_claims", {"_id": claim_id})
    assert done is not None and (done["status"], done["order_id"]) == ("redeemed", later["orderId"])


async def test_an_expired_hold_can_be_redeemed_at_the_till(api: ApiStack) -> None:
    store, _ = _store_with_products(api)
    token, _ = await _shopper(api)
    claim_id = await _claimed_coupon(api, store, token)
    await _checkout(api, token, c=[claim_id])
    stale = int(time.time() * 1000) - RESERVATION_MS - 1000
    await api.services.container.documents.update_one(
        "coupon_claims", {"_id": claim_id}, {"$set": {"reserved_ms": stale}}
    )
    till = issue_token(api.services.container.secret_key, f"dev-pos-{store.id}")
    response = await api.client.post(
        f"/pos/coupons/{claim_id}/redeem", headers={"Authorization": f"Bearer {till}"}
    )
    assert response.status_code == 200 and response.json()["status"] == "redeemed"


async def test_without_demo_mode_or_wechatpay_settings_payments_are_off(api: ApiStack) -> None:
    store, products = _store_with_products(api)
    token, openid = await _shopper(api)
    placed = await _checkout(api, token)
    live = api.services.payments
    settings = api.settings.model_copy(update={"demo": False, "wechatpay_mchid": ""})
    off = Payments(
        documents=api.services.container.documents, events=api.services.events, catalog=api.services.catalog,
        settings=settings,
    )  # fmt: skip
    assert off.keys is None
    member = (await _order_doc(api, placed["orderId"]))["member_id"]
    with pytest.raises(Conflict, match="WeChat Pay is not configured"):
        await off.checkout(member_id=member, store_id=store.id, lines=[CheckoutLine(products[0].id, 1)])
    with pytest.raises(Forbidden, match="demo mode"):
        await off.simulate_payment(order_id=placed["orderId"], member_id=member)
    # Demo keys without demo mode (e.g. left in data_dir) do not enable simulatePayment either.
    with pytest.raises(Forbidden, match="demo mode"):
        await Payments(
            documents=api.services.container.documents, events=api.services.events,
            catalog=api.services.catalog, settings=settings, keys=live.keys,
        ).simulate_payment(order_id=placed["orderId"], member_id=member)  # fmt: skip
    headers, body = _simulator(api).notification(_paid(api, placed, openid))
    api.services.payments = off
    try:
        assert await _deliver(api, headers, body) == (
            503,
            {"code": "FAIL", "message": "WeChat Pay is not configured"},
        )
        with pytest.raises(GraphQLFailed) as refused:
            await _checkout(api, token)
        assert refused.value.codes == ["CONFLICT"] and "not configured" in refused.value.errors[0]["message"]
        pay = "mutation($o: String!) { simulatePayment(orderId: $o) { id } }"
        with pytest.raises(GraphQLFailed) as simulated:
            await api.gql(pay, {"o": placed["orderId"]}, token=token)
        assert simulated.value.codes == ["FORBIDDEN"]
    finally:
        api.services.payments = live
    assert (await api.gql(ORDER, {"id": placed["orderId"]}, token=token))["order"]["status"] == "PENDING"


async def test_oversized_notifications_are_refused_without_being_read_whole(api: ApiStack) -> None:
    url, json_type = "/webhooks/wechatpay", {"Content-Type": "application/json"}
    big = await api.client.post(url, content=b"{" + b" " * (64 * 1024) + b"}", headers=json_type)
    assert big.status_code == 413 and big.json()["code"] == "FAIL"
    declared = await api.client.post(url, content=b"{}", headers={**json_type, "Content-Length": "999999"})
    assert declared.status_code == 413, "refused by its declared length, before reading"

    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 8192

    streamed = await api.client.post(url, content=chunks(), headers=json_type)
    assert streamed.status_code == 413, "no Content-Length: the read stops at the cap"


async def test_unverified_deliveries_are_counted_not_stored(api: ApiStack) -> None:
    token, openid = await _shopper(api)
    placed = await _checkout(api, token)
    documents = api.services.container.documents
    stored_before = await documents.count("payment_notifications")
    since = int(time.time() * 1000)
    before = (await api.services.payments.refusal_counts(since_ms=since)).get("bad_signature", 0)
    headers, body = _simulator(api).notification(_paid(api, placed, openid))
    forged = {**headers, "Wechatpay-Signature": headers["Wechatpay-Signature"][::-1]}
    for _ in range(30):
        assert (await _deliver(api, forged, body))[0] in (400, 401)
    after = (await api.services.payments.refusal_counts(since_ms=since)).get("bad_signature", 0)
    assert after - before == 30
    assert await documents.count("payment_notifications") == stored_before
    assert (
        await documents.count(
            "payment_refusals", {"kind": "bad_signature", "minute_ms": {"$gte": since - 60_000}}
        )
        <= 3
    )
