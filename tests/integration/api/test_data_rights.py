"""A shopper's data rights (DESIGN §6): export everything, then delete it everywhere, over GraphQL."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import redis.asyncio

from guang.accounts.data_rights import DataRights
from guang.domain import keys
from guang.domain.events import member_subject
from guang.domain.features import SubjectFeatures
from guang.domain.models import Product, Store
from guang.domain.writes import Put
from tests.integration.api.conftest import ApiStack, GraphQLFailed
from tests.integration.api.test_payments import _store_with_products, store_coupon

EXPORT = "{ exportMyData { json generatedAtMs truncated } }"
DELETE = "mutation($c: String!) { deleteMyData(confirm: $c) { counts { name count } atMs } }"
FOLLOW = "mutation($s: String!) { followStore(storeId: $s) { id } }"
LIKE = "mutation($id: String!) { likeArticle(id: $id) { id likeCount } }"
ARTICLE = "query($id: String!) { article(id: $id) { id likeCount commentCount } }"
COMMENT = "mutation($a: String!, $t: String!) { addComment(articleId: $a, text: $t) { id } }"
SHARE = "mutation($id: String!) { shareArticle(id: $id) { code } }"
CONSULT = "mutation($s: String!) { consultStaff(staffId: $s, source: PROFILE) { state } }"
CLAIM = "mutation($c: String!, $lat: Float!, $lng: Float!) { claimCoupon(couponId: $c, lat: $lat, lng: $lng) { id } }"  # noqa: E501
CHECKOUT = """mutation($s: String!, $i: [CheckoutItem!]!, $c: [String!]) {
  checkout(storeId: $s, items: $i, couponClaimIds: $c) { orderId } }"""
PAY = "mutation($o: String!) { simulatePayment(orderId: $o) { id status } }"
CONSENT = "mutation { setConsent(kind: FACE, granted: true) { id } }"
CARD = "mutation($b: String!, $n: String!) { bindMemberCard(brandId: $b, cardNo: $n) { id } }"
MEMBER_COLLECTIONS = (
    "store_follows", "likes", "comments", "advisors", "consult_states", "coupon_claims", "coupon_quotas",
    "share_links", "member_cards", "consent_log", "orders", "exit_offers", "data_rights_log",
)  # fmt: skip


async def _active(api: ApiStack, token: str, store: Store, product: Product) -> dict[str, Any]:
    """A shopper who did a bit of everything; what they did."""
    article = api.data.articles[0].id
    staff = next(s for s in api.data.staff if s.store_id == store.id) if api.data.staff else None
    lng, lat = store.location.coordinates
    await api.gql(FOLLOW, {"s": store.id}, token=token)
    await api.gql(LIKE, {"id": article}, token=token)
    comment = (await api.gql(COMMENT, {"a": article, "t": "好看又实惠"}, token=token))["addComment"]["id"]
    share = (await api.gql(SHARE, {"id": article}, token=token))["shareArticle"]["code"]
    if staff is not None:
        await api.gql(CONSULT, {"s": staff.id}, token=token)
    unused, used = await store_coupon(api, store), await store_coupon(api, store)
    kept_claim = (await api.gql(CLAIM, {"c": unused.id, "lat": lat, "lng": lng}, token=token))["claimCoupon"]
    paid_claim = (await api.gql(CLAIM, {"c": used.id, "lat": lat, "lng": lng}, token=token))["claimCoupon"]
    items = [{"skuId": product.id, "qty": 1}]
    order = (await api.gql(CHECKOUT, {"s": store.id, "i": items, "c": [paid_claim["id"]]}, token=token))[
        "checkout"
    ]["orderId"]
    assert (await api.gql(PAY, {"o": order}, token=token))["simulatePayment"]["status"] == "PAID"
    await api.gql(CONSENT, token=token)
    await api.gql(CARD, {"b": store.brand_id, "n": f"DR{uuid.uuid4().hex[:8].upper()}"}, token=token)
    return {
        "article": article, "comment": comment, "share": share, "order": order, "unused": unused.id,
        "unused_claim": kept_claim["id"], "paid_claim": paid_claim["id"], "store": store.id,
    }  # fmt: skip


def _features(api: ApiStack, member: str, store: Store, product: Product) -> None:
    subject = member_subject(member)
    now = int(time.time() * 1000)
    writer = api.services.container.feature_writer()
    try:
        writer.write(
            [SubjectFeatures(subject_id=subject, ts_ms=now, category_scores={"美妆": 3.0}, store_id=store.id)]
        )
        writer.apply(
            [
                Put(keys.subject_bought(subject), now, field=product.id),
                Put(keys.subject_freq_key(subject, keys.local_day(now)), 2, field="FEED:product:x"),
                Put(keys.where_key(subject), store.mall_id, field=keys.WHERE_MALL),
                Put(keys.subject_engage_key(subject), 1, field="likes"),
            ]
        )
    finally:
        writer.close()


async def _redis_keys(api: ApiStack, member: str) -> list[str]:
    client = redis.asyncio.Redis.from_url(api.settings.kv_url)
    try:
        subject = keys.subject(member_subject(member))
        found = [k.decode() async for k in client.scan_iter(match=f"{subject}*")]
        present = [
            k.decode()
            async for k in client.scan_iter(match="f:store:*:present")
            if await client.zscore(k, member_subject(member)) is not None
        ]
        consented = await client.sismember(keys.FACE_CONSENT, member)
    finally:
        await client.aclose()
    return found + present + (["consent:face"] if consented else [])


async def test_a_shopper_exports_then_deletes_their_data_and_only_theirs(api: ApiStack) -> None:
    docs = api.services.container.documents
    store, [product] = _store_with_products(api, count=1)
    token, other = await api.new_shopper(), await api.new_shopper()
    member, other_member = await api.subject_of(token), await api.subject_of(other)
    did = await _active(api, token, store, product)
    others = await _active(api, other, store, product)
    _features(api, member, store, product)
    _features(api, other_member, store, product)
    likes_before = (await api.gql(ARTICLE, {"id": did["article"]}))["article"]
    assert any(e.get("user_id") == member for e in await api.bus_events())

    exported = (await api.gql(EXPORT, token=token))["exportMyData"]
    data = json.loads(exported["json"])
    assert data["profile"]["id"] == member and exported["truncated"] == []
    assert [f["store_id"] for f in data["store_follows"]] == [store.id]
    assert [like["article_id"] for like in data["likes"]] == [did["article"]]
    assert [c["_id"] for c in data["comments"]] == [did["comment"]]
    assert [s["_id"] for s in data["share_links"]] == [did["share"]]
    assert {c["_id"] for c in data["coupon_claims"]} == {did["unused_claim"], did["paid_claim"]}
    [order] = data["orders"]
    assert order["_id"] == did["order"] and order["items"][0]["sku_id"] == product.id
    assert [c["kind"] for c in data["consent_log"]] == ["face"] and len(data["member_cards"]) == 1
    assert data["advisors"] and data["consult_states"]
    subject_key = keys.subject(member_subject(member))
    feature_keys = data["features"]["keys"]
    assert feature_keys[subject_key]["category_scores"] == {"美妆": 3.0}
    assert product.id in feature_keys[keys.subject_bought(member_subject(member))]
    assert data["features"]["present_in_stores"].keys() == {store.id}
    assert data["features"]["face_consent_active"] is True
    assert {e["user_id"] for e in data["events_on_bus"]} == {member} and len(data["events_on_bus"]) >= 4
    assert "session_key" not in exported["json"]
    assert other_member not in exported["json"]

    with pytest.raises(GraphQLFailed) as wrong:
        await api.gql(DELETE, {"c": "delete"}, token=token)
    assert wrong.value.codes == ["INVALID_ARGUMENT"]
    assert await docs.find_one("members", {"id": member}) is not None

    counts = {c["name"]: c["count"] for c in (await api.gql(DELETE, {"c": "DELETE"}, token=token))[
        "deleteMyData"
    ]["counts"]}  # fmt: skip
    assert counts["members"] == 1 and counts["orders_kept"] == 1 and counts["coupon_claims_kept"] == 1
    assert counts["bus_events"] >= 4 and counts["features_keys"] == 5 and counts["features_presence"] == 1

    assert await docs.find_one("members", {"id": member}) is None
    for collection in MEMBER_COLLECTIONS:
        assert await docs.count(collection, {"member_id": member}) == 0, collection
        assert await docs.count(collection, {"member_id": other_member}) > 0 or collection in (
            "exit_offers", "data_rights_log",
        ), collection  # fmt: skip
    assert await _redis_keys(api, member) == []
    assert len(await _redis_keys(api, other_member)) == 7
    assert not any(e.get("user_id") == member for e in await api.bus_events())
    assert any(e.get("user_id") == other_member for e in await api.bus_events())

    kept = await docs.find_one("orders", {"_id": did["order"]})
    assert kept is not None and kept["member_id"].startswith("deleted-") and kept["openid"] == ""
    assert kept["items"][0]["sku_id"] == product.id and kept["status"] == "paid"
    claim = await docs.find_one("coupon_claims", {"_id": did["paid_claim"]})
    assert claim is not None and claim["member_id"] == kept["member_id"] and claim["status"] == "redeemed"
    assert await docs.find_one("coupon_claims", {"_id": did["unused_claim"]}) is None
    unused = await docs.find_one("coupons", {"_id": did["unused"]})
    assert unused is not None and unused["claimed"] == 0  # the unredeemed claim's stock came back
    [log] = await docs.find("data_rights_log", {"member_id": kept["member_id"], "action": "delete"})
    assert log["counts"]["likes"] == 1 and member not in json.dumps(log, default=str)
    after = (await api.gql(ARTICLE, {"id": did["article"]}))["article"]
    assert after["likeCount"] == likes_before["likeCount"] - 1
    assert after["commentCount"] == likes_before["commentCount"] - 1
    assert await docs.find_one("comments", {"_id": others["comment"]}) is not None

    for call, variables in ((EXPORT, None), ("{ me { id } }", None), (DELETE, {"c": "DELETE"})):
        with pytest.raises(GraphQLFailed) as refused:
            await api.gql(call, variables, token=token)
        assert refused.value.codes == ["UNAUTHENTICATED"], call
    assert (await api.gql("{ me { id } }", token=other))["me"]["id"] == other_member


async def test_deleting_twice_or_after_a_crash_midway_is_harmless(api: ApiStack) -> None:
    openid = f"t-dr-{uuid.uuid4().hex[:12]}"
    token = await api.login(openid)
    member = await api.subject_of(token)
    store, _ = _store_with_products(api, count=1)
    await api.gql(FOLLOW, {"s": store.id}, token=token)
    await api.gql(CONSENT, token=token)
    app, docs = api.services, api.services.container.documents
    rights = DataRights(
        documents=docs, features=app.container.features, bus=app.container.bus,
        revocations=app.accounts.revocations, articles=app.content.views,
    )  # fmt: skip
    await docs.update_one(  # a first run that stopped right after choosing its tombstone
        "members", {"id": member}, {"$set": {"deletion": {"tombstone": "deleted-crashed", "started_ms": 1}}}
    )
    first = await rights.delete(member_id=member, confirm="DELETE")
    assert first.counts["store_follows"] == 1 and first.counts["members"] == 1
    again = await rights.delete(member_id=member, confirm="DELETE")
    assert set(again.counts.values()) == {0}
    [log] = await docs.find("data_rights_log", {"member_id": "deleted-crashed"})
    assert log["counts"]["consent_log"] == 1 and log["counts"]["store_follows"] == 1
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql("{ viewer { subjectId } }", token=token)
    assert refused.value.codes == ["UNAUTHENTICATED"]

    fresh = await api.login(openid)  # logging in again starts a new, empty membership
    me = (await api.gql("{ me { id consents { kind granted } } }", token=fresh))["me"]
    assert me["id"] == member and not any(c["granted"] for c in me["consents"])
    with pytest.raises(GraphQLFailed):
        await api.gql("{ viewer { subjectId } }", token=token)
