"""Each surface's list: where its items come from, whom it is for, and the arguments it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import ApiStack, GraphQLFailed

RECS = """query($s: Surface!, $mall: String, $store: String, $member: String, $order: String) {
  recommendations(surface: $s, mallId: $mall, storeId: $store, memberId: $member, orderId: $order, limit: 8) {
    surface items { reason product { id } } } }"""
CONSULT = "mutation($s: String!) { consultStaff(staffId: $s, source: PROFILE) { state } }"


async def _recs(api: ApiStack, token: str | None, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await api.gql(RECS, variables, token=token))["recommendations"]
    return found


async def _codes(api: ApiStack, token: str | None, **variables: Any) -> list[str]:
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql(RECS, variables, token=token)
    return refused.value.codes


def _stocked_at(api: ApiStack, store_ids: set[str]) -> set[str]:
    return {p.id for p in api.data.products if any(s.store_id in store_ids and s.qty > 0 for s in p.stock)}


async def test_mall_moments_list_what_is_in_stock_in_that_mall(api: ApiStack) -> None:
    token = await api.new_shopper()
    mall = api.data.stores[0].mall_id
    in_mall = _stocked_at(api, {s.id for s in api.data.stores if s.mall_id == mall})
    for surface, reason in (("ARRIVAL", "本场热门"), ("PARKING", "本场热门"), ("EXIT", "下次来逛逛")):
        recs = await _recs(api, token, s=surface, mall=mall)
        assert recs["surface"] == surface and len(recs["items"]) == 8
        assert {i["product"]["id"] for i in recs["items"]} <= in_mall
        vouched = {
            "店员推荐",
            "本场正在热卖",
        }  # 店员说 picks, the mall's trend and live coupons rise for anybody
        assert all(
            i["reason"] in {reason, *vouched} or i["reason"].startswith("可用券：") for i in recs["items"]
        ), "a new shopper: nothing personal"
    assert await _codes(api, token, s="ARRIVAL") == ["INVALID_ARGUMENT"]
    assert await _codes(api, token, s="ARRIVAL", mall="mall-nope") == ["NOT_FOUND"]
    assert await _codes(api, None, s="ARRIVAL", mall=mall) == ["UNAUTHENTICATED"]
    assert await _codes(api, token, s="FEED", mall=mall, store=api.data.stores[0].id) == ["INVALID_ARGUMENT"]
    assert await _codes(api, token, s="FEED", member="m-1") == ["INVALID_ARGUMENT"]


async def test_guide_lists_are_for_staff_about_their_own_stores_clients(api: ApiStack) -> None:
    staff = api.data.staff[0]
    staff_token = await api.login(f"staff-openid-{staff.id}")
    client_token = await api.new_shopper()
    client = await api.subject_of(client_token)
    stranger_token = await api.new_shopper()
    stranger = await api.subject_of(stranger_token)
    await api.gql(CONSULT, {"s": staff.id}, token=client_token)

    recs = await _recs(api, staff_token, s="GUIDE", member=client)
    assert recs["items"] and {i["product"]["id"] for i in recs["items"]} <= _stocked_at(api, {staff.store_id})
    assert await _codes(api, staff_token, s="GUIDE", member=stranger) == ["FORBIDDEN"]
    assert await _codes(api, client_token, s="GUIDE", member=client) == ["FORBIDDEN"]
    assert await _codes(api, staff_token, s="GUIDE") == ["INVALID_ARGUMENT"]
