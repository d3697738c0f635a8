"""The shopper's own lists (猜你喜欢, pay-success), logged impressions/clicks and the demo shelf visit."""

from __future__ import annotations

import time
from typing import Any

import pytest

from guang.domain.events import member_subject
from guang.domain.features import LastDwell, SubjectFeatures
from tests.integration.api.conftest import ApiStack, GraphQLFailed
from tests.integration.api.test_payments import CHECKOUT, _store_with_products

FEED = """query($s: Surface!, $o: String, $n: Int!) {
  recommendations(surface: $s, orderId: $o, limit: $n) {
    recId surface items { reason product { id category } } } }"""
LOG = """mutation($e: [InteractionInput!]!) {
  logInteractions(events: $e) { accepted refused { index reason } } }"""
DWELL = """mutation($s: String!, $z: String) {
  simulateDwell(storeId: $s, seconds: 40, zoneId: $z) {
    eventId storeId zoneId zoneName category dwellMs } }"""
FACE = "mutation($g: Boolean!) { setConsent(kind: FACE, granted: $g) { id } }"


async def test_the_feed_needs_a_shopper_and_gives_a_new_one_the_best_sellers(api: ApiStack) -> None:
    with pytest.raises(GraphQLFailed) as anonymous:
        await api.gql(FEED, {"s": "FEED", "n": 6})
    assert anonymous.value.codes == ["UNAUTHENTICATED"]

    token = await api.new_shopper()
    recs = (await api.gql(FEED, {"s": "FEED", "n": 6}, token=token))["recommendations"]
    assert recs["surface"] == "FEED" and recs["recId"].startswith("rec_")
    assert len(recs["items"]) == 6
    best = sorted(api.data.products, key=lambda p: (-p.popularity, p.id))[:30]
    assert {i["product"]["id"] for i in recs["items"]} <= {p.id for p in best}


async def test_pay_success_suggests_other_categories_of_the_same_store_never_what_was_bought(
    api: ApiStack,
) -> None:
    token = await api.new_shopper()
    store, products = _store_with_products(api)
    placed = (
        await api.gql(CHECKOUT, {"s": store.id, "i": [{"skuId": products[0].id, "qty": 1}]}, token=token)
    )["checkout"]
    recs = (await api.gql(FEED, {"s": "PAY_SUCCESS", "o": placed["orderId"], "n": 6}, token=token))[
        "recommendations"
    ]
    assert recs["items"], "a store with other categories has something to go with the purchase"
    assert all(i["product"]["category"] != products[0].category for i in recs["items"])
    assert all(
        i["reason"] in (f"和{products[0].name}很搭", f"买了{products[0].name}的人也买了")
        for i in recs["items"]
    )

    other = await api.new_shopper()
    with pytest.raises(GraphQLFailed) as foreign:
        await api.gql(FEED, {"s": "PAY_SUCCESS", "o": placed["orderId"], "n": 6}, token=other)
    assert foreign.value.codes == ["FORBIDDEN"]
    with pytest.raises(GraphQLFailed) as missing:
        await api.gql(FEED, {"s": "PAY_SUCCESS", "n": 6}, token=token)
    assert missing.value.codes == ["INVALID_ARGUMENT"]


async def test_interactions_keep_every_valid_one_and_refuse_each_bad_one_with_a_reason(api: ApiStack) -> None:
    token = await api.new_shopper()
    member = await api.subject_of(token)
    product = {"targetType": "PRODUCT", "targetId": "sku-1", "surface": "FEED", "recId": "rec_a"}
    events = [
        {**product, "action": "IMPRESSION"},
        {**product, "action": "CLICK", "targetId": "bad id with spaces"},
        {**product, "action": "CLICK"},
    ]
    log = (await api.gql(LOG, {"e": events}, token=token))["logInteractions"]
    assert log["accepted"] == 2
    assert [r["index"] for r in log["refused"]] == [1] and "target_id" in log["refused"][0]["reason"]
    mine = [e for e in await api.bus_events("interaction") if e.get("user_id") == member]
    assert sorted((e["action"], e["rec_id"]) for e in mine) == [("click", "rec_a"), ("impression", "rec_a")]

    retried = {**product, "action": "CLICK", "eventId": "phone-0001-click"}
    for _ in range(2):
        assert (await api.gql(LOG, {"e": [retried]}, token=token))["logInteractions"]["accepted"] == 1
    mine = [e for e in await api.bus_events("interaction") if e.get("user_id") == member]
    assert len(mine) == 3, "a resent eventId is published once"
    bad_id = (await api.gql(LOG, {"e": [{**retried, "eventId": "x"}]}, token=token))["logInteractions"]
    assert bad_id["accepted"] == 0 and "eventId" in bad_id["refused"][0]["reason"]

    with pytest.raises(GraphQLFailed) as too_many:
        await api.gql(LOG, {"e": [events[0]] * 51}, token=token)
    assert too_many.value.codes == ["INVALID_ARGUMENT"]
    with pytest.raises(GraphQLFailed) as anonymous:
        await api.gql(LOG, {"e": [events[0]]})
    assert anonymous.value.codes == ["UNAUTHENTICATED"]


async def test_a_simulated_shelf_visit_needs_face_consent_and_reaches_the_bus_as_a_dwell(
    api: ApiStack,
) -> None:
    token = await api.new_shopper()
    store = api.data.stores[0]
    assert (await api.gql("{ viewer { demo } }", token=token))["viewer"]["demo"] is True
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql(DWELL, {"s": store.id}, token=token)
    assert refused.value.codes == ["FORBIDDEN"]

    await api.gql(FACE, {"g": True}, token=token)
    shelf = next(z for z in api.data.zones if z.store_id == store.id and z.kind == "shelf")
    dwell = (await api.gql(DWELL, {"s": store.id, "z": shelf.id}, token=token))["simulateDwell"]
    assert (dwell["zoneId"], dwell["zoneName"], dwell["dwellMs"]) == (shelf.id, shelf.name, 40_000)
    [sent] = [e for e in await api.bus_events("dwell") if e["event_id"] == dwell["eventId"]]
    assert (sent["store_id"], sent["zone_id"], sent["dwell_ms"]) == (store.id, shelf.id, 40_000)

    with pytest.raises(GraphQLFailed) as unknown:
        await api.gql(DWELL, {"s": "no-such-store"}, token=token)
    assert unknown.value.codes == ["NOT_FOUND"]
    await api.gql(FACE, {"g": False}, token=token)
    with pytest.raises(GraphQLFailed) as withdrawn:
        await api.gql(DWELL, {"s": store.id}, token=token)
    assert withdrawn.value.codes == ["FORBIDDEN"]


async def test_a_members_camera_derived_interest_counts_only_while_face_consent_is_active(
    api: ApiStack,
) -> None:
    token = await api.new_shopper()
    member = await api.subject_of(token)
    zone = next(z for z in api.data.zones if z.kind == "shelf")
    category = zone.category
    writer = api.services.container.feature_writer()
    try:
        writer.write(
            [
                SubjectFeatures(
                    subject_id=member_subject(member), ts_ms=int(time.time() * 1000),
                    category_scores={category: 5.0}, store_id=zone.store_id,
                    last_dwell=LastDwell(zone.store_id, zone.id, category, 40_000),
                )
            ]
        )  # fmt: skip
    finally:
        writer.close()

    def personal(recs: dict[str, Any]) -> bool:
        return any("停留" in i["reason"] for i in recs["items"])

    assert not personal((await api.gql(FEED, {"s": "FEED", "n": 6}, token=token))["recommendations"])
    await api.gql(FACE, {"g": True}, token=token)
    with_consent = (await api.gql(FEED, {"s": "FEED", "n": 6}, token=token))["recommendations"]
    assert personal(with_consent)
    assert {i["product"]["category"] for i in with_consent["items"]} & {category}
    await api.gql(FACE, {"g": False}, token=token)
    assert not personal((await api.gql(FEED, {"s": "FEED", "n": 6}, token=token))["recommendations"])
    assert await api.services.container.features.subjects([member_subject(member)]) == [], "deleted"
    await api.gql(FACE, {"g": True}, token=token)
    assert not personal((await api.gql(FEED, {"s": "FEED", "n": 6}, token=token))["recommendations"])
