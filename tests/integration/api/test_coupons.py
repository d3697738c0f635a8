"""Coupons over GraphQL and the POS REST route: nearby, claim (exact under concurrency), 我的, 核销, exit.

Every test makes its own coupon documents around seeded stores, so counts are exact on the shared stack."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import redis.asyncio

from guang.coupons.deals import DealBoard
from guang.coupons.service import live_coupons
from guang.domain.errors import Conflict, Invalid
from guang.domain.geo import distance_to
from guang.domain.models import Coupon, Store
from guang.services.app_events import now_ms
from guang.services.devices import issue_token
from recsys.candidates import Deal
from tests.integration.api.conftest import ApiStack, GraphQLFailed

DAY_MS = 86_400_000
METRES_PER_DEG_LAT = 111_320.0
COUPON_FIELDS = "id kind storeId mallId remainingStock claimableByMe distanceM radiusM discountFen"
NEARBY = f"""query($lat: Float!, $lng: Float!, $first: Int!, $after: String) {{
  nearbyCoupons(lat: $lat, lng: $lng, first: $first, after: $after) {{
    nodes {{ {COUPON_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
ONE = f"query($id: String!) {{ coupon(id: $id) {{ {COUPON_FIELDS} title brandName storeName }} }}"
CLAIM = """mutation($c: String!, $lat: Float!, $lng: Float!) {
  claimCoupon(couponId: $c, lat: $lat, lng: $lng) {
    id status coupon { id remainingStock claimableByMe } } }"""
MINE = """query($s: ClaimStatus, $first: Int! = 50, $after: String) {
  myCoupons(status: $s, first: $first, after: $after) {
    nodes { id status redeemedStoreId orderId coupon { id } } pageInfo { hasNextPage endCursor } } }"""
REDEEM = "mutation($c: String!) { redeemCoupon(claimId: $c) { id status redeemedStoreId coupon { id } } }"
EXIT = """query($m: String!, $lat: Float!, $lng: Float!) {
  exitOffer(mallId: $m, lat: $lat, lng: $lng) { reason coupon { id kind discountFen minSpendFen } } }"""


def store(api: ApiStack, store_id: str) -> Store:
    return next(s for s in api.data.stores if s.id == store_id)


def at(s: Store, north_m: float = 0.0) -> dict[str, float]:
    """The store's position, moved `north_m` metres north."""
    lng, lat = s.location.coordinates
    return {"lat": lat + north_m / METRES_PER_DEG_LAT, "lng": lng}


def mall_position(api: ApiStack, mall_id: str) -> dict[str, float]:
    lng, lat = next(m for m in api.data.malls if m.id == mall_id).location.coordinates
    return {"lat": lat, "lng": lng}


async def make_coupon(api: ApiStack, s: Store, *, mall_level: bool = False, **fields: Any) -> Coupon:
    """A live coupon of `s`'s brand around `s` (or its mall), stored like seeded ones."""
    now = now_ms()
    values: dict[str, Any] = {
        "id": f"cpn-t-{uuid.uuid4().hex[:10]}", "title": "测试券 满100减10", "brand_id": s.brand_id,
        "store_id": None if mall_level else s.id, "mall_id": s.mall_id, "discount_fen": 1000,
        "min_spend_fen": 10000, "radius_m": 3000, "starts_ms": now - DAY_MS, "ends_ms": now + DAY_MS,
        "per_user_quota": 1, "total_stock": 100,
    }  # fmt: skip
    coupon = Coupon(**{**values, **fields})
    await api.services.container.documents.insert_one(
        "coupons", {"_id": coupon.id, **coupon.model_dump(mode="json")}
    )
    return coupon


async def claim(api: ApiStack, token: str, coupon: Coupon, where: dict[str, float]) -> dict[str, Any]:
    data = await api.gql(CLAIM, {"c": coupon.id, **where}, token=token)
    result: dict[str, Any] = data["claimCoupon"]
    return result


async def codes_of(call: Any) -> list[str]:
    with pytest.raises(GraphQLFailed) as failed:
        await call
    return failed.value.codes


async def staff_token(api: ApiStack, store_id: str) -> str:
    person = next(p for p in api.data.staff if p.store_id == store_id)
    return await api.login(f"staff-openid-{person.id}")


async def test_nearby_coupons_are_live_in_radius_with_stock_and_nearest_first(api: ApiStack) -> None:
    s = store(api, "store-001")
    here = at(s)
    near = await make_coupon(api, s)
    mall_wide = await make_coupon(api, s, mall_level=True, radius_m=5000)
    hidden = [
        await make_coupon(api, s, ends_ms=now_ms() - 1),
        await make_coupon(api, s, starts_ms=now_ms() + DAY_MS, ends_ms=now_ms() + 2 * DAY_MS),
        await make_coupon(api, s, total_stock=5, claimed=5),
        await make_coupon(api, s, mall_level=True, kind="exit"),
    ]
    token = await api.new_shopper()
    found = (await api.gql(NEARBY, {**here, "first": 50}, token=token))["nearbyCoupons"]["nodes"]
    ids = [c["id"] for c in found]
    assert near.id in ids and mall_wide.id in ids
    assert not {c.id for c in hidden} & set(ids)
    distances = [c["distanceM"] for c in found]
    assert distances == sorted(distances)
    assert all(c["distanceM"] <= c["radiusM"] for c in found)
    mine = {c["id"]: c for c in found}
    mall_distance = distance_to(next(m for m in api.data.malls if m.id == s.mall_id).location, **here)
    assert mine[near.id]["distanceM"] == pytest.approx(0, abs=1)
    assert mine[mall_wide.id]["distanceM"] == pytest.approx(mall_distance, abs=2)
    assert mine[near.id]["remainingStock"] == 100 and mine[near.id]["claimableByMe"] == 1
    # 4 km north: outside the store coupon's 3 km, inside the mall coupon's 5 km.
    farther = (await api.gql(NEARBY, {**at(s, 4000), "first": 50}))["nearbyCoupons"]["nodes"]
    assert near.id not in {c["id"] for c in farther} and mall_wide.id in {c["id"] for c in farther}
    assert all(c["claimableByMe"] is None for c in farther)  # anonymous


async def test_nearby_coupons_page_with_cursors_and_refuse_bad_input(api: ApiStack) -> None:
    s = store(api, "store-003")
    for _ in range(3):
        await make_coupon(api, s)
    first = (await api.gql(NEARBY, {**at(s), "first": 2}))["nearbyCoupons"]
    assert len(first["nodes"]) == 2 and first["pageInfo"]["hasNextPage"]
    rest = await api.gql(NEARBY, {**at(s), "first": 50, "after": first["pageInfo"]["endCursor"]})
    everything = (await api.gql(NEARBY, {**at(s), "first": 50}))["nearbyCoupons"]["nodes"]
    paged = [c["id"] for c in first["nodes"] + rest["nearbyCoupons"]["nodes"]]
    assert paged == [c["id"] for c in everything]
    assert await codes_of(api.gql(NEARBY, {"lat": 91.0, "lng": 0.0, "first": 5})) == ["INVALID_ARGUMENT"]
    assert await codes_of(api.gql(NEARBY, {**at(s), "first": 0})) == ["INVALID_ARGUMENT"]
    far_away = (await api.gql(NEARBY, {"lat": 0.0, "lng": 0.0, "first": 5}))["nearbyCoupons"]
    assert far_away["nodes"] == [] and far_away["pageInfo"]["hasNextPage"] is False


async def test_coupon_by_id_shows_stock_and_my_quota(api: ApiStack) -> None:
    s = store(api, "store-001")
    coupon = await make_coupon(api, s, per_user_quota=2, total_stock=7)
    token = await api.new_shopper()
    found = (await api.gql(ONE, {"id": coupon.id}, token=token))["coupon"]
    assert found["remainingStock"] == 7 and found["claimableByMe"] == 2
    assert found["storeName"] == s.name and found["kind"] == "STANDARD"
    await claim(api, token, coupon, at(s))
    after = (await api.gql(ONE, {"id": coupon.id}, token=token))["coupon"]
    assert after["remainingStock"] == 6 and after["claimableByMe"] == 1
    assert await codes_of(api.gql(ONE, {"id": "cpn-nope"})) == ["NOT_FOUND"]


async def test_fifty_concurrent_claims_of_ten_coupons_give_exactly_ten(api: ApiStack) -> None:
    s = store(api, "store-002")
    coupon = await make_coupon(api, s, total_stock=10, per_user_quota=1)
    tokens = [await api.new_shopper() for _ in range(50)]
    results = await asyncio.gather(
        *(api.gql(CLAIM, {"c": coupon.id, **at(s)}, token=t) for t in tokens), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, GraphQLFailed)]
    assert len(won) == 10 and len(lost) == 40
    assert all(r.codes == ["CONFLICT"] and "sold out" in r.errors[0]["message"] for r in lost)
    assert len({w["claimCoupon"]["id"] for w in won}) == 10
    assert (await api.gql(ONE, {"id": coupon.id}))["coupon"]["remainingStock"] == 0
    assert await api.services.container.documents.count("coupon_claims", {"coupon_id": coupon.id}) == 10


async def test_ten_concurrent_claims_by_one_member_with_quota_one_give_exactly_one(api: ApiStack) -> None:
    s = store(api, "store-002")
    coupon = await make_coupon(api, s, total_stock=1000, per_user_quota=1)
    token = await api.new_shopper()
    results = await asyncio.gather(
        *(api.gql(CLAIM, {"c": coupon.id, **at(s)}, token=token) for _ in range(10)), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, GraphQLFailed)]
    assert len(won) == 1 and len(lost) == 9
    assert all(r.codes == ["CONFLICT"] and "already claimed" in r.errors[0]["message"] for r in lost)
    found = (await api.gql(ONE, {"id": coupon.id}, token=token))["coupon"]
    assert found["remainingStock"] == 999 and found["claimableByMe"] == 0
    assert len((await api.gql(MINE, token=token))["myCoupons"]["nodes"]) == 1


async def test_claims_are_refused_outside_the_radius_and_need_a_valid_position(api: ApiStack) -> None:
    s = store(api, "store-001")
    coupon = await make_coupon(api, s, radius_m=3000)
    token = await api.new_shopper()
    with pytest.raises(GraphQLFailed) as far:
        await claim(api, token, coupon, at(s, 3500))
    assert far.value.codes == ["INVALID_ARGUMENT"] and "within 3000 m" in far.value.errors[0]["message"]
    assert await codes_of(claim(api, token, coupon, {"lat": 0.0, "lng": 200.0})) == ["INVALID_ARGUMENT"]
    missing = "mutation($c: String!) { claimCoupon(couponId: $c) { id } }"
    assert set(await codes_of(api.gql(missing, {"c": coupon.id}, token=token))) == {
        "GRAPHQL_VALIDATION_FAILED"
    }
    assert (await api.gql(ONE, {"id": coupon.id}))["coupon"]["remainingStock"] == 100
    assert (await claim(api, token, coupon, at(s, 2500)))["status"] == "CLAIMED"


async def test_claims_are_refused_outside_the_time_window(api: ApiStack) -> None:
    s = store(api, "store-001")
    now = now_ms()
    ended = await make_coupon(api, s, starts_ms=now - 2 * DAY_MS, ends_ms=now - DAY_MS)
    early = await make_coupon(api, s, starts_ms=now + DAY_MS, ends_ms=now + 2 * DAY_MS)
    token = await api.new_shopper()
    with pytest.raises(GraphQLFailed) as late:
        await claim(api, token, ended, at(s))
    assert late.value.codes == ["CONFLICT"] and "expired" in late.value.errors[0]["message"]
    with pytest.raises(GraphQLFailed) as soon:
        await claim(api, token, early, at(s))
    assert soon.value.codes == ["CONFLICT"] and "cannot be used yet" in soon.value.errors[0]["message"]


async def test_claim_refusals_for_roles_unknown_coupons_and_sold_out_give_the_quota_back(
    api: ApiStack,
) -> None:
    s = store(api, "store-001")
    coupon = await make_coupon(api, s, total_stock=1)
    assert await codes_of(api.gql(CLAIM, {"c": coupon.id, **at(s)})) == ["UNAUTHENTICATED"]
    staff = await staff_token(api, s.id)
    assert await codes_of(api.gql(CLAIM, {"c": coupon.id, **at(s)}, token=staff)) == ["FORBIDDEN"]
    first, second = await api.new_shopper(), await api.new_shopper()
    assert await codes_of(claim(api, first, Coupon(**{**coupon.model_dump(), "id": "cpn-nope"}), at(s))) == [
        "NOT_FOUND"
    ]
    await claim(api, first, coupon, at(s))
    assert await codes_of(claim(api, second, coupon, at(s))) == ["CONFLICT"]
    # Restocked: the refused shopper still has their quota slot.
    await api.services.container.documents.update_one(
        "coupons", {"_id": coupon.id}, {"$set": {"total_stock": 2}}
    )
    assert (await claim(api, second, coupon, at(s)))["coupon"]["claimableByMe"] == 0


async def test_a_claim_emits_a_claim_interaction_event(api: ApiStack) -> None:
    s = store(api, "store-003")
    coupon = await make_coupon(api, s)
    token = await api.new_shopper()
    me = await api.subject_of(token)
    await claim(api, token, coupon, at(s))
    client = redis.asyncio.Redis.from_url(api.settings.bus_url)
    try:
        entries = await client.xrange(api.settings.events_stream)
    finally:
        await client.aclose()
    mine = [e for e in (json.loads(f[b"e"]) for _, f in entries) if e.get("user_id") == me]
    assert len(mine) == 1
    [event] = mine
    assert event["type"] == "interaction" and event["action"] == "claim"
    assert (event["target_type"], event["target_id"], event["store_id"]) == ("coupon", coupon.id, s.id)


async def test_my_coupons_are_my_own_with_claimed_redeemed_and_expired_status(api: ApiStack) -> None:
    s = store(api, "store-001")
    live, ending, used = [await make_coupon(api, s) for _ in range(3)]
    alice, bob = await api.new_shopper(), await api.new_shopper()
    claims = {c.id: (await claim(api, alice, c, at(s)))["id"] for c in (live, ending, used)}
    bobs = (await claim(api, bob, live, at(s)))["id"]
    # Time passes for `ending`: its campaign has ended.
    documents = api.services.container.documents
    await documents.update_one("coupons", {"_id": ending.id}, {"$set": {"ends_ms": now_ms() - 1}})
    await documents.update_one(
        "coupon_claims", {"_id": claims[ending.id]}, {"$set": {"coupon_ends_ms": now_ms() - 1}}
    )
    await api.gql(REDEEM, {"c": claims[used.id]}, token=await staff_token(api, s.id))

    everything = (await api.gql(MINE, token=alice))["myCoupons"]["nodes"]
    assert {n["id"] for n in everything} == set(claims.values())
    status = {n["coupon"]["id"]: n["status"] for n in everything}
    assert status == {live.id: "CLAIMED", ending.id: "EXPIRED", used.id: "REDEEMED"}
    for wanted, coupon in (("CLAIMED", live), ("EXPIRED", ending), ("REDEEMED", used)):
        only = (await api.gql(MINE, {"s": wanted}, token=alice))["myCoupons"]["nodes"]
        assert [n["coupon"]["id"] for n in only] == [coupon.id]
    page = (await api.gql(MINE, {"first": 2}, token=alice))["myCoupons"]
    rest = (await api.gql(MINE, {"after": page["pageInfo"]["endCursor"]}, token=alice))["myCoupons"]
    assert [n["id"] for n in page["nodes"] + rest["nodes"]] == [n["id"] for n in everything]

    bob_sees = (await api.gql(MINE, token=bob))["myCoupons"]["nodes"]
    assert [n["id"] for n in bob_sees] == [bobs]
    assert await codes_of(api.gql(REDEEM, {"c": claims[live.id]}, token=bob)) == ["FORBIDDEN"]
    assert await codes_of(api.gql(MINE)) == ["UNAUTHENTICATED"]
    with pytest.raises(Invalid):
        await api.services.coupons.discount_for(
            claim_ids=[claims[live.id]], member_id=await api.subject_of(bob), store_id=s.id,
            amount_fen=50_000, now_ms=now_ms(),
        )  # fmt: skip
    with pytest.raises(GraphQLFailed) as expired:
        await api.gql(REDEEM, {"c": claims[ending.id]}, token=await staff_token(api, s.id))
    assert expired.value.codes == ["CONFLICT"] and "expired" in expired.value.errors[0]["message"]


async def test_ten_concurrent_redemptions_give_exactly_one(api: ApiStack) -> None:
    s = store(api, "store-002")
    coupon = await make_coupon(api, s)
    claim_id = (await claim(api, await api.new_shopper(), coupon, at(s)))["id"]
    staff = await staff_token(api, s.id)
    results = await asyncio.gather(
        *(api.gql(REDEEM, {"c": claim_id}, token=staff) for _ in range(10)), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, GraphQLFailed)]
    assert len(won) == 1 and len(lost) == 9
    assert won[0]["redeemCoupon"] == {
        "id": claim_id, "status": "REDEEMED", "redeemedStoreId": s.id, "coupon": {"id": coupon.id},
    }  # fmt: skip
    assert all(r.codes == ["CONFLICT"] and "already redeemed" in r.errors[0]["message"] for r in lost)


async def test_staff_redeem_only_their_brands_coupons_and_store_coupons_only_at_that_store(
    api: ApiStack,
) -> None:
    s1, s2, s4 = store(api, "store-001"), store(api, "store-002"), store(api, "store-004")
    assert s1.brand_id == s4.brand_id != s2.brand_id and s1.mall_id != s4.mall_id
    store_coupon = await make_coupon(api, s1)
    mall_coupon = await make_coupon(api, s1, mall_level=True)
    shopper = await api.new_shopper()
    at_store = (await claim(api, shopper, store_coupon, at(s1)))["id"]
    in_mall = (await claim(api, shopper, mall_coupon, at(s1)))["id"]
    other_brand = await staff_token(api, s2.id)
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql(REDEEM, {"c": at_store}, token=other_brand)
    assert refused.value.codes == ["FORBIDDEN"] and "brand" in refused.value.errors[0]["message"]
    other_store = await staff_token(api, s4.id)
    assert await codes_of(api.gql(REDEEM, {"c": at_store}, token=other_store)) == ["FORBIDDEN"]
    assert await codes_of(api.gql(REDEEM, {"c": in_mall}, token=other_store)) == ["FORBIDDEN"]
    admin = await api.login(f"brand-openid-{s1.brand_id}")
    assert await codes_of(api.gql(REDEEM, {"c": at_store}, token=admin)) == ["FORBIDDEN"]
    own = await staff_token(api, s1.id)
    assert await codes_of(api.gql(REDEEM, {"c": "clm-nope"}, token=own)) == ["NOT_FOUND"]
    for claim_id in (at_store, in_mall):
        assert (await api.gql(REDEEM, {"c": claim_id}, token=own))["redeemCoupon"]["status"] == "REDEEMED"


async def test_a_pos_till_redeems_over_rest_once_and_only_at_its_store(api: ApiStack) -> None:
    s1, s4 = store(api, "store-001"), store(api, "store-004")
    coupon = await make_coupon(api, s1)
    claim_id = (await claim(api, await api.new_shopper(), coupon, at(s1)))["id"]
    secret = api.services.container.secret_key

    async def redeem(token: str, claim: str = claim_id) -> tuple[int, dict[str, Any]]:
        response = await api.client.post(
            f"/pos/coupons/{claim}/redeem", headers={"Authorization": f"Bearer {token}"}
        )
        body: dict[str, Any] = response.json()
        return response.status_code, body

    assert (await redeem("dev_forged"))[0] == 401
    assert (await redeem(issue_token(secret, f"dev-cam-{s1.id}")))[0] == 403
    status, body = await redeem(issue_token(secret, f"dev-pos-{s4.id}"))
    assert status == 403 and body["code"] == "FORBIDDEN"
    assert (await redeem(issue_token(secret, f"dev-pos-{s1.id}"), "clm-nope"))[0] == 404
    status, body = await redeem(issue_token(secret, f"dev-pos-{s1.id}"))
    assert status == 200
    assert (body["claim_id"], body["status"], body["coupon_id"]) == (claim_id, "redeemed", coupon.id)
    assert body["redeemed_store_id"] == s1.id
    status, body = await redeem(issue_token(secret, f"dev-pos-{s1.id}"))
    assert status == 409 and "already redeemed" in body["error"]


async def test_discount_for_checks_claims_and_redeem_for_order_is_idempotent(api: ApiStack) -> None:
    coupons = api.services.coupons
    s1, s4 = store(api, "store-001"), store(api, "store-004")
    ten_off = await make_coupon(api, s1, discount_fen=1000, min_spend_fen=10_000)
    thirty_off = await make_coupon(api, s1, mall_level=True, discount_fen=3000, min_spend_fen=20_000)
    spare = await make_coupon(api, s1)
    token = await api.new_shopper()
    me = await api.subject_of(token)
    c1, c2, c3 = [(await claim(api, token, c, at(s1)))["id"] for c in (ten_off, thirty_off, spare)]
    now = now_ms()

    async def discount(ids: list[str], amount: int, store_id: str = s1.id) -> int:
        return await coupons.discount_for(
            claim_ids=ids, member_id=me, store_id=store_id, amount_fen=amount, now_ms=now
        )

    assert await discount([], 5000) == 0
    assert await discount([c1, c2], 30_000) == 4000
    with pytest.raises(Invalid, match="at least 200"):
        await discount([c1, c2], 15_000)
    with pytest.raises(Invalid):
        await discount([c1], 30_000, s4.id)
    with pytest.raises(Invalid):
        await discount([c1, c1], 30_000)
    with pytest.raises(Conflict):
        await coupons.discount_for(
            claim_ids=[c1], member_id=me, store_id=s1.id, amount_fen=30_000, now_ms=ten_off.ends_ms
        )

    redeem = coupons.redeem_for_order
    with pytest.raises(Conflict, match="not reserved"):  # only the order whose checkout holds them
        await redeem(claim_ids=[c1, c2], member_id=me, store_id=s1.id, order_id="o-t1")
    await coupons.reserve_for_order(claim_ids=[c1, c2], member_id=me, order_id="o-t1", now_ms=now)
    with pytest.raises(Conflict, match="held by order o-t1"):
        await coupons.reserve_for_order(claim_ids=[c1], member_id=me, order_id="o-t9", now_ms=now)
    assert await redeem(claim_ids=[c1, c2], member_id=me, store_id=s1.id, order_id="o-t1") == [c1, c2]
    assert await redeem(claim_ids=[c1, c2], member_id=me, store_id=s1.id, order_id="o-t1") == [c1, c2]
    with pytest.raises(Conflict):
        await redeem(claim_ids=[c1], member_id=me, store_id=s1.id, order_id="o-t2")
    with pytest.raises(Conflict):
        await discount([c1], 30_000)
    # All or none: c3 is not left redeemed when c1 refuses.
    await coupons.reserve_for_order(claim_ids=[c3], member_id=me, order_id="o-t3", now_ms=now)
    with pytest.raises(Conflict):
        await redeem(claim_ids=[c3, c1], member_id=me, store_id=s1.id, order_id="o-t3")
    await coupons.release_order(claim_ids=[c3], order_id="o-t3")
    assert await discount([c3], 30_000) == 1000
    mine = {n["id"]: n for n in (await api.gql(MINE, {"s": "REDEEMED"}, token=token))["myCoupons"]["nodes"]}
    assert set(mine) == {c1, c2} and mine[c1]["orderId"] == "o-t1"
    stranger = await api.subject_of(await api.new_shopper())
    with pytest.raises(Invalid):
        await redeem(claim_ids=[c3], member_id=stranger, store_id=s1.id, order_id="o-t4")


def outside_mall(api: ApiStack, mall_id: str, extra_m: float = 300.0) -> dict[str, float]:
    """A position `extra_m` metres north of the mall's geofence (its radius around its centre)."""
    mall = next(m for m in api.data.malls if m.id == mall_id)
    centre = mall_position(api, mall_id)
    return {"lat": centre["lat"] + (mall.radius_m + extra_m) / METRES_PER_DEG_LAT, "lng": centre["lng"]}


async def test_exit_offer_is_made_only_outside_the_mall_and_gives_the_best_i_can_still_claim(
    api: ApiStack,
) -> None:
    s = store(api, "store-002")
    inside, where = mall_position(api, s.mall_id), outside_mall(api, s.mall_id)
    best = await make_coupon(
        api, s, mall_level=True, kind="exit", discount_fen=99_000, min_spend_fen=100_000, radius_m=5000
    )
    token = await api.new_shopper()
    assert (await api.gql(EXIT, {"m": s.mall_id, **inside}, token=token))["exitOffer"] is None
    offer = (await api.gql(EXIT, {"m": s.mall_id, **where}, token=token))["exitOffer"]
    assert offer["coupon"]["id"] == best.id and offer["coupon"]["kind"] == "EXIT"
    assert offer["reason"] == "下次再来 满1000减990"
    nearby = (await api.gql(NEARBY, {**where, "first": 50}, token=token))["nearbyCoupons"]["nodes"]
    assert best.id not in {c["id"] for c in nearby}
    await claim(api, token, best, where)
    offered = [best.id]
    for _ in range(20):
        offer = (await api.gql(EXIT, {"m": s.mall_id, **where}, token=token))["exitOffer"]
        if offer is None:
            break
        assert offer["coupon"]["id"] not in offered and offer["reason"].startswith("下次再来")
        offered.append(offer["coupon"]["id"])
        exit_coupon = Coupon(**{**best.model_dump(), "id": offer["coupon"]["id"]})
        for _ in range(3):  # up to its quota
            try:
                await claim(api, token, exit_coupon, where)
            except GraphQLFailed:
                break
    assert offer is None and len(offered) >= 2  # the seeded mall has an exit coupon of its own
    assert await codes_of(api.gql(EXIT, {"m": "mall-nope", **where}, token=token)) == ["NOT_FOUND"]
    assert await codes_of(api.gql(EXIT, {"m": s.mall_id, "lat": 95.0, "lng": 0.0}, token=token)) == [
        "INVALID_ARGUMENT"
    ]
    staff = await staff_token(api, s.id)
    assert await codes_of(api.gql(EXIT, {"m": s.mall_id, **where}, token=staff)) == ["FORBIDDEN"]
    assert await codes_of(api.gql(EXIT, {"m": s.mall_id, **where})) == ["UNAUTHENTICATED"]


async def test_an_exit_coupon_is_claimed_only_after_it_was_offered_outside_the_mall(api: ApiStack) -> None:
    s = store(api, "store-004")  # the other mall: independent of the exit coupons made above
    where = outside_mall(api, s.mall_id)
    exit_coupon = await make_coupon(
        api, s, mall_level=True, kind="exit", discount_fen=99_900, min_spend_fen=100_000, radius_m=5000
    )
    token = await api.new_shopper()
    # Anyone in range, at any time, without having left: refused.
    with pytest.raises(GraphQLFailed) as refused:
        await claim(api, token, exit_coupon, mall_position(api, s.mall_id))
    assert refused.value.codes == ["FORBIDDEN"] and "exitOffer" in refused.value.errors[0]["message"]
    await api.gql(EXIT, {"m": s.mall_id, **mall_position(api, s.mall_id)}, token=token)  # still inside
    assert await codes_of(claim(api, token, exit_coupon, where)) == ["FORBIDDEN"]
    # Offered to someone else: still refused for me.
    other = await api.new_shopper()
    assert (await api.gql(EXIT, {"m": s.mall_id, **where}, token=other))["exitOffer"]["coupon"]["id"] == (
        exit_coupon.id
    )
    assert await codes_of(claim(api, token, exit_coupon, where)) == ["FORBIDDEN"]
    # Offered, but more than 2 hours ago: refused.
    await api.gql(EXIT, {"m": s.mall_id, **where}, token=token)
    me = await api.subject_of(token)
    documents = api.services.container.documents
    key = {"_id": f"{me}:{s.mall_id}:{exit_coupon.id}"}
    assert await documents.update_one("exit_offers", key, {"$set": {"offered_ms": now_ms() - 3 * 3_600_000}})
    assert await codes_of(claim(api, token, exit_coupon, where)) == ["FORBIDDEN"]
    # Offered just now outside the mall: claimed.
    await api.gql(EXIT, {"m": s.mall_id, **where}, token=token)
    assert (await claim(api, token, exit_coupon, where))["status"] == "CLAIMED"
    assert (await claim(api, other, exit_coupon, where))["status"] == "CLAIMED"


async def test_live_coupons_is_the_one_live_listing_other_domains_use(api: ApiStack) -> None:
    s = store(api, "store-003")
    top = await make_coupon(api, s, discount_fen=88_800)
    sold_out = await make_coupon(api, s, discount_fen=88_700, total_stock=1, claimed=1)
    mall_wide = await make_coupon(api, s, mall_level=True, discount_fen=88_600)
    hidden = [
        await make_coupon(api, s, discount_fen=88_900, ends_ms=now_ms() - 1),
        await make_coupon(api, s, discount_fen=88_900, mall_level=True, kind="exit"),
    ]
    documents = api.services.container.documents
    listed = [c.id for c in await live_coupons(documents, brand_ids=[s.brand_id])]
    mine = [i for i in listed if i in {top.id, sold_out.id, mall_wide.id}]
    assert mine == [top.id, sold_out.id, mall_wide.id] and not {c.id for c in hidden} & set(listed)
    in_stock = [c.id for c in await live_coupons(documents, brand_ids=[s.brand_id], in_stock=True)]
    assert top.id in in_stock and sold_out.id not in in_stock
    in_mall = [c.id for c in await live_coupons(documents, mall_id=s.mall_id, limit=500)]
    assert {top.id, mall_wide.id} <= set(in_mall)


async def test_the_deal_board_knows_each_stores_best_live_coupon(api: ApiStack) -> None:
    s1 = store(api, "store-001")
    small = await make_coupon(api, s1, discount_fen=500, min_spend_fen=5000)
    big = await make_coupon(api, s1, discount_fen=99_000, min_spend_fen=200_000)  # above any seeded coupon
    await make_coupon(api, s1, discount_fen=199_000, min_spend_fen=100, ends_ms=now_ms() - 1)  # over
    board = DealBoard(documents=api.services.container.documents, catalog=api.services.catalog)

    deals = await board.by_store()

    assert deals[s1.id] == Deal(title=big.title, min_spend_fen=200_000, discount_fen=99_000)
    assert small.discount_fen < deals[s1.id].discount_fen
    assert await board.by_store() is deals, "read once per interval, the same snapshot in between"
