"""Login, sessions, roles, consents and member cards over GraphQL."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from guang.domain import keys
from guang.domain.errors import Unauthenticated
from tests.integration.api.conftest import ApiStack, GraphQLFailed

ME = "{ me { id nickname consents { kind granted grantedAtMs } cards { brandId cardNo } } }"


async def test_login_with_a_demo_code_gives_a_session_for_that_member(api: ApiStack) -> None:
    member = api.data.members[0]
    data = await api.gql(
        "mutation($c: String!) { login(code: $c) { token newMember viewer { subjectId role } } }",
        {"c": f"demo:{member.openid}"},
    )
    login = data["login"]
    assert login["viewer"] == {"subjectId": member.id, "role": "SHOPPER"}
    assert login["newMember"] is False
    assert "session_key" not in str(data) and "sessionKey" not in str(data)
    me = (await api.gql(ME, token=login["token"]))["me"]
    assert me["id"] == member.id


async def test_a_first_login_creates_a_member_without_any_consent(api: ApiStack) -> None:
    data = await api.gql('mutation { login(code: "demo:brand-new-openid") { newMember token } }')
    assert data["login"]["newMember"] is True
    me = (await api.gql(ME, token=data["login"]["token"]))["me"]
    assert {c["kind"]: c["granted"] for c in me["consents"]} == {
        "LOCATION": False, "MARKETING": False, "FACE": False,
    }  # fmt: skip
    again = await api.gql(
        'mutation { login(code: "demo:brand-new-openid") { newMember viewer { subjectId } } }'
    )
    assert again["login"]["newMember"] is False
    assert again["login"]["viewer"]["subjectId"] == me["id"]


async def test_staff_and_admins_log_in_with_their_roles_and_scope(api: ApiStack) -> None:
    staff = next(a for a in api.data.accounts if a.role == "staff")
    data = await api.gql(
        "mutation($c: String!) { login(code: $c) { viewer { subjectId role storeId brandId } } }",
        {"c": f"demo:{staff.id}"},
    )
    assert data["login"]["viewer"] == {
        "subjectId": staff.staff_id, "role": "STAFF", "storeId": staff.store_id, "brandId": staff.brand_id,
    }  # fmt: skip


async def test_bad_codes_and_tokens_are_refused_with_codes(api: ApiStack) -> None:
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql('mutation { login(code: "not-a-demo-code") { token } }')
    assert refused.value.codes == ["UNAUTHENTICATED"]
    with pytest.raises(GraphQLFailed) as anonymous:
        await api.gql(ME)
    assert anonymous.value.codes == ["UNAUTHENTICATED"]
    token = await api.shopper()
    with pytest.raises(GraphQLFailed) as tampered:
        await api.gql(ME, token=token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    assert tampered.value.codes == ["UNAUTHENTICATED"]


async def test_consents_are_separate_flags_with_timestamps_and_face_consent_is_live(api: ApiStack) -> None:
    token = await api.new_shopper()
    set_consent = "mutation($k: ConsentKind!, $g: Boolean!) { setConsent(kind: $k, granted: $g) { id consents { kind granted grantedAtMs } } }"  # noqa: E501
    member = (await api.gql(set_consent, {"k": "FACE", "g": True}, token=token))["setConsent"]
    flags = {c["kind"]: c for c in member["consents"]}
    assert flags["FACE"]["granted"] and flags["FACE"]["grantedAtMs"] > 0
    assert not flags["MARKETING"]["granted"] and not flags["LOCATION"]["granted"]
    assert await _face_consented(api, member["id"])
    await api.gql(set_consent, {"k": "FACE", "g": False}, token=token)
    assert not await _face_consented(api, member["id"])


async def _face_consented(api: ApiStack, member_id: str) -> bool:
    client = redis.asyncio.Redis.from_url(api.settings.kv_url)
    try:
        return bool(await client.sismember(keys.FACE_CONSENT, member_id))
    finally:
        await client.aclose()


async def test_member_cards_bind_once_per_brand_and_not_to_two_members(api: ApiStack) -> None:
    brand = api.data.brands[0].id
    bind = "mutation($b: String!, $n: String!) { bindMemberCard(brandId: $b, cardNo: $n) { cards { brandId cardNo } } }"  # noqa: E501
    first, second = await api.new_shopper(), await api.new_shopper()
    cards = (await api.gql(bind, {"b": brand, "n": "VIP12345"}, token=first))["bindMemberCard"]["cards"]
    assert cards == [{"brandId": brand, "cardNo": "VIP12345"}]
    with pytest.raises(GraphQLFailed) as taken:
        await api.gql(bind, {"b": brand, "n": "VIP12345"}, token=second)
    assert taken.value.codes == ["FORBIDDEN"]
    with pytest.raises(GraphQLFailed) as malformed:
        await api.gql(bind, {"b": brand, "n": "x!"}, token=second)
    assert malformed.value.codes == ["INVALID_ARGUMENT"]
    with pytest.raises(GraphQLFailed) as unicode_digits:
        await api.gql(bind, {"b": brand, "n": "会员卡号一二"}, token=second)
    assert unicode_digits.value.codes == ["INVALID_ARGUMENT"]


async def test_concurrent_binds_give_one_member_per_card_and_one_card_per_brand(api: ApiStack) -> None:
    brand = api.data.brands[1].id
    bind = "mutation($b: String!, $n: String!) { bindMemberCard(brandId: $b, cardNo: $n) { id } }"
    shoppers = [await api.new_shopper() for _ in range(5)]
    outcomes = await asyncio.gather(
        *[api.gql(bind, {"b": brand, "n": "RACE0001"}, token=t) for t in shoppers], return_exceptions=True
    )
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    one = await api.new_shopper()
    outcomes = await asyncio.gather(
        *[api.gql(bind, {"b": brand, "n": f"MINE{i:04d}"}, token=one) for i in range(5)],
        return_exceptions=True,
    )
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    cards = (await api.gql(ME, token=one))["me"]["cards"]
    assert len(cards) == 1
    loser = next(f"MINE{i:04d}" for i in range(5) if f"MINE{i:04d}" != cards[0]["cardNo"])
    other = await api.new_shopper()
    bound = await api.gql(bind, {"b": brand, "n": loser}, token=other)
    assert bound["bindMemberCard"]["id"]


async def test_demo_codes_only_work_in_demo_mode(api: ApiStack) -> None:
    from api.services import code2session

    class Live:
        settings = api.settings.model_copy(update={"demo": False})

    with pytest.raises(Unauthenticated, match="not configured"):
        await code2session(Live()).exchange("demo:brand-openid-brand-01")  # type: ignore[arg-type]


async def test_staff_sessions_are_shorter_than_shoppers(api: ApiStack) -> None:
    staff = next(a for a in api.data.accounts if a.role == "staff")
    login = "mutation($c: String!) { login(code: $c) { expiresInS } }"
    shopper_ttl = (await api.gql(login, {"c": f"demo:{api.data.members[0].openid}"}))["login"]["expiresInS"]
    staff_ttl = (await api.gql(login, {"c": f"demo:{staff.id}"}))["login"]["expiresInS"]
    assert staff_ttl < shopper_ttl
