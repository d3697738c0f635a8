"""店员说 over GraphQL: the posts tab and its filters, staff profiles, 向TA咨询 with attributable WeCom
states, 我的购物顾问, publishing by staff and brand admins, and moderation by mall operators."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import pytest
import redis.asyncio

from guang.domain.models import Staff, StaffPost, Store
from guang.staff.state import STATE_CHARS, WECOM_STATE_MAX
from tests.integration.api.conftest import ApiStack, GraphQLFailed, QueryCount

POST_FIELDS = """id text status hidden hiddenReason publishedAtMs updatedAtMs
  staff { id name title storeId storeName brandName mallName }
  store { id name brandId brandName mallId mallName }
  products { product { id name } store { id name } }"""
POSTS = f"""query($mall: String, $brand: String, $store: String, $first: Int!, $after: String) {{
  staffPosts(mallId: $mall, brandId: $brand, storeId: $store, first: $first, after: $after) {{
    edges {{ cursor node {{ {POST_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
POST = f"query($id: String!) {{ staffPost(id: $id) {{ {POST_FIELDS} }} }}"
PROFILE = """query($id: String!, $first: Int!) { staffProfile(id: $id) {
  id name title store { id name brandName mallName } postCount isMyAdvisor
  posts(first: $first) { nodes { id publishedAtMs } pageInfo { hasNextPage } } } }"""
CONSULT = """mutation($s: String!, $src: ConsultSource!) { consultStaff(staffId: $s, source: $src) {
  qrUrl state advisorSinceMs newAdvisor staff { id name } } }"""
RESOLVE = """query($state: String!) { resolveConsultState(state: $state) {
  state source consultedAtMs memberId memberNickname staff { id storeId } } }"""
ADVISORS = """query($first: Int!, $after: String) { myAdvisors(first: $first, after: $after) {
  nodes { sinceMs source staff { id name store { name } isMyAdvisor } }
  pageInfo { hasNextPage endCursor } } }"""
REMOVE = "mutation($s: String!) { removeAdvisor(staffId: $s) }"
CREATE = f"mutation($in: StaffPostInput!) {{ createStaffPost(input: $in) {{ {POST_FIELDS} }} }}"
UPDATE = f"mutation($id: String!, $in: StaffPostChanges!) {{ updateStaffPost(id: $id, input: $in) {{ {POST_FIELDS} }} }}"  # noqa: E501
PUBLISH = "mutation($id: String!) { publishStaffPost(id: $id) { id status publishedAtMs } }"
UNPUBLISH = "mutation($id: String!) { unpublishStaffPost(id: $id) { id status } }"
DELETE = "mutation($id: String!) { deleteStaffPost(id: $id) }"
MODERATE = """mutation($id: String!, $hidden: Boolean!, $reason: String) {
  moderateStaffPost(id: $id, hidden: $hidden, reason: $reason) { id hidden hiddenReason } }"""


# ---- helpers


def newest_first(posts: Iterable[StaffPost]) -> list[str]:
    return [p.id for p in sorted(posts, key=lambda p: (p.published_ms, p.id), reverse=True)]


async def all_posts(api: ApiStack, **filters: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api.gql(POSTS, {**filters, "first": 50, "after": after}))["staffPosts"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def store(api: ApiStack, store_id: str) -> Store:
    return next(s for s in api.data.stores if s.id == store_id)


def team(api: ApiStack, store_id: str) -> list[Staff]:
    return [p for p in api.data.staff if p.store_id == store_id]


def other_brand_store(api: ApiStack, than: Store) -> Store:
    return next(s for s in api.data.stores if s.brand_id != than.brand_id and s.mall_id != than.mall_id)


def in_stock(api: ApiStack, store_id: str, n: int = 2) -> list[str]:
    return [p.id for p in api.data.products if any(s.store_id == store_id and s.qty > 0 for s in p.stock)][:n]


def not_in_stock(api: ApiStack, store_id: str) -> str:
    return next(
        p.id for p in api.data.products if not any(s.store_id == store_id and s.qty > 0 for s in p.stock)
    )


async def staff_login(api: ApiStack, staff_id: str) -> str:
    return await api.login(f"staff-openid-{staff_id}")


async def draft(api: ApiStack, token: str, store_id: str, **extra: Any) -> dict[str, Any]:
    post: dict[str, Any] = (
        await api.gql(
            CREATE,
            {"in": {"text": "今天新到一批好货～", "productIds": in_stock(api, store_id), **extra}},
            token=token,
        )
    )["createStaffPost"]
    return post


async def refused(api: ApiStack, query: str, variables: dict[str, Any], token: str | None) -> list[str]:
    with pytest.raises(GraphQLFailed) as failed:
        await api.gql(query, variables, token=token)
    return failed.value.codes


# ---- the 店员说 tab


async def test_posts_are_newest_first_with_author_store_and_in_stock_products(api: ApiStack) -> None:
    seeded = {p.id: p for p in api.data.staff_posts}
    nodes = await all_posts(api)
    assert [n["id"] for n in nodes if n["id"] in seeded] == newest_first(seeded.values())
    stamps = [n["publishedAtMs"] for n in nodes]
    assert stamps == sorted(stamps, reverse=True)
    first = next(n for n in nodes if n["id"] in seeded)
    post = seeded[first["id"]]
    author = next(s for s in api.data.staff if s.id == post.staff_id)
    brand = next(b for b in api.data.brands if b.id == post.brand_id)
    assert first["text"] == post.text and first["status"] == "PUBLISHED" and first["hidden"] is False
    assert first["staff"]["name"] == author.name and first["staff"]["title"] == author.title
    assert first["staff"]["storeName"] == store(api, post.store_id).name
    assert first["staff"]["brandName"] == brand.name
    assert [link["product"]["id"] for link in first["products"]] == post.product_ids
    assert {link["store"]["id"] for link in first["products"]} == {post.store_id}
    assert "wecom" not in json.dumps(nodes).lower()


@pytest.mark.parametrize("field", ["mall", "brand", "store"])
async def test_each_filter_narrows_to_matching_posts(api: ApiStack, field: str) -> None:
    target = api.data.stores[0]
    value = {"mall": target.mall_id, "brand": target.brand_id, "store": target.id}[field]
    key = {"mall": "mallId", "brand": "brandId", "store": "id"}[field]
    nodes = await all_posts(api, **{field: value})
    assert nodes and all(n["store"][key] == value for n in nodes)
    expected = [p for p in api.data.staff_posts if getattr(p, f"{field}_id") == value]
    seeded = {p.id for p in api.data.staff_posts}
    assert [n["id"] for n in nodes if n["id"] in seeded] == newest_first(expected)
    assert len(expected) < len(api.data.staff_posts)


async def test_filters_combine(api: ApiStack) -> None:
    target = api.data.stores[0]
    nodes = await all_posts(api, mall=target.mall_id, brand=target.brand_id)
    expected = [
        p for p in api.data.staff_posts if p.mall_id == target.mall_id and p.brand_id == target.brand_id
    ]
    seeded = {p.id for p in api.data.staff_posts}
    assert [n["id"] for n in nodes if n["id"] in seeded] == newest_first(expected)
    assert all(
        n["store"]["mallId"] == target.mall_id and n["store"]["brandId"] == target.brand_id for n in nodes
    )
    other = other_brand_store(api, target)
    assert await all_posts(api, store=target.id, brand=other.brand_id) == []


async def test_two_pages_continue_without_overlap(api: ApiStack) -> None:
    first = (await api.gql(POSTS, {"first": 5}))["staffPosts"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (await api.gql(POSTS, {"first": 5, "after": first["pageInfo"]["endCursor"]}))["staffPosts"]
    one = [e["node"]["id"] for e in first["edges"]]
    two = [e["node"]["id"] for e in second["edges"]]
    assert len(one) == len(two) == 5 and not set(one) & set(two)
    both = (await api.gql(POSTS, {"first": 10}))["staffPosts"]
    assert [e["node"]["id"] for e in both["edges"]] == one + two
    assert await refused(api, POSTS, {"first": 5, "after": "garbage"}, None) == ["INVALID_ARGUMENT"]


async def test_one_post_by_id_and_unknown_ids(api: ApiStack) -> None:
    post = api.data.staff_posts[0]
    found = (await api.gql(POST, {"id": post.id}))["staffPost"]
    assert found["id"] == post.id and found["text"] == post.text
    assert await refused(api, POST, {"id": "post-nope"}, None) == ["NOT_FOUND"]


# ---- staff profiles


async def test_a_profile_shows_store_brand_mall_post_count_and_latest_posts(api: ApiStack) -> None:
    person = api.data.staff[-1]  # never a publisher in these tests, so their count is the seed's
    theirs = [p for p in api.data.staff_posts if p.staff_id == person.id]
    where = store(api, person.store_id)
    profile = (await api.gql(PROFILE, {"id": person.id, "first": 2}))["staffProfile"]
    assert profile["name"] == person.name and profile["title"] == person.title
    assert profile["store"]["name"] == where.name
    assert profile["store"]["brandName"] == next(b.name for b in api.data.brands if b.id == where.brand_id)
    assert profile["store"]["mallName"] == next(m.name for m in api.data.malls if m.id == where.mall_id)
    assert profile["postCount"] == len(theirs)
    assert [n["id"] for n in profile["posts"]["nodes"]] == newest_first(theirs)[:2]
    assert profile["posts"]["pageInfo"]["hasNextPage"] is (len(theirs) > 2)
    assert profile["isMyAdvisor"] is False
    assert await refused(api, PROFILE, {"id": "staff-nope", "first": 2}, None) == ["NOT_FOUND"]


async def test_the_wecom_user_id_is_not_exposed(api: ApiStack) -> None:
    person = api.data.staff[0]
    codes = await refused(
        api, "query($id: String!) { staffProfile(id: $id) { wecomUserId } }", {"id": person.id}, None
    )
    assert codes == ["GRAPHQL_VALIDATION_FAILED"]
    token = await api.new_shopper()
    consult = (await api.gql(CONSULT, {"s": person.id, "src": "PROFILE"}, token=token))["consultStaff"]
    assert person.wecom_user_id not in json.dumps(consult)


# ---- 向TA咨询 and 我的购物顾问


async def test_consult_gives_a_qr_with_a_compact_state_and_adds_an_advisor(api: ApiStack) -> None:
    person = api.data.staff[0]
    token = await api.new_shopper()
    first = (await api.gql(CONSULT, {"s": person.id, "src": "POST"}, token=token))["consultStaff"]
    state = first["state"]
    assert len(state) == STATE_CHARS <= WECOM_STATE_MAX and state.isalnum()
    assert first["qrUrl"].startswith("https://work.weixin.qq.com/ca/") and first["qrUrl"].endswith(
        f"?state={state}"
    )
    assert first["newAdvisor"] is True and first["staff"] == {"id": person.id, "name": person.name}
    again = (await api.gql(CONSULT, {"s": person.id, "src": "STORE"}, token=token))["consultStaff"]
    assert again["newAdvisor"] is False and again["state"] != state
    assert again["advisorSinceMs"] == first["advisorSinceMs"]
    assert again["qrUrl"].split("?")[0] == first["qrUrl"].split("?")[0]  # one contact way per staff member
    advisors = (await api.gql(ADVISORS, {"first": 10}, token=token))["myAdvisors"]["nodes"]
    shown = {"id": person.id, "name": person.name, "store": {"name": store(api, person.store_id).name}}
    assert advisors == [
        {"sinceMs": first["advisorSinceMs"], "source": "POST", "staff": {**shown, "isMyAdvisor": True}}
    ]
    profile = (await api.gql(PROFILE, {"id": person.id, "first": 1}, token=token))["staffProfile"]
    assert profile["isMyAdvisor"] is True


async def test_ten_concurrent_consults_give_one_advisor(api: ApiStack) -> None:
    person = api.data.staff[1]
    token = await api.new_shopper()
    results = await asyncio.gather(
        *(api.gql(CONSULT, {"s": person.id, "src": "SCREEN"}, token=token) for _ in range(10))
    )
    tickets = [r["consultStaff"] for r in results]
    assert sum(t["newAdvisor"] for t in tickets) == 1
    assert len({t["advisorSinceMs"] for t in tickets}) == 1
    assert len({t["state"] for t in tickets}) == 10
    advisors = (await api.gql(ADVISORS, {"first": 10}, token=token))["myAdvisors"]["nodes"]
    assert [a["staff"]["id"] for a in advisors] == [person.id]
    me = await api.subject_of(token)
    assert await api.services.container.documents.count("advisors", {"member_id": me}) == 1


async def test_consult_emits_a_consult_interaction_event(api: ApiStack) -> None:
    person = api.data.staff[2]
    token = await api.new_shopper()
    me = await api.subject_of(token)
    await api.gql(CONSULT, {"s": person.id, "src": "ARTICLE"}, token=token)
    client = redis.asyncio.Redis.from_url(api.settings.bus_url)
    try:
        entries = await client.xrange(api.settings.events_stream)
    finally:
        await client.aclose()
    events = [json.loads(fields[b"e"]) for _, fields in entries]
    mine = [e for e in events if e.get("user_id") == me]
    assert len(mine) == 1
    [event] = mine
    assert event["type"] == "interaction" and event["action"] == "consult"
    assert event["target_type"] == "staff" and event["target_id"] == person.id
    assert event["store_id"] == person.store_id and event["mall_id"] == store(api, person.store_id).mall_id


async def test_the_state_resolves_for_that_stores_staff_only_and_tampering_is_refused(api: ApiStack) -> None:
    person = api.data.staff[0]
    token = await api.new_shopper()
    me = await api.subject_of(token)
    state = (await api.gql(CONSULT, {"s": person.id, "src": "STORE"}, token=token))["consultStaff"]["state"]
    colleague = next(p for p in team(api, person.store_id) if p.id != person.id)
    for reader in (person, colleague):
        found = await api.gql(RESOLVE, {"state": state}, token=await staff_login(api, reader.id))
        attribution = found["resolveConsultState"]
        assert (
            attribution["memberId"] == me
            and attribution["source"] == "STORE"
            and attribution["state"] == state
        )
        assert attribution["staff"] == {"id": person.id, "storeId": person.store_id}
        assert attribution["memberNickname"]
    elsewhere = next(p for p in api.data.staff if p.store_id != person.store_id)
    assert await refused(api, RESOLVE, {"state": state}, await staff_login(api, elsewhere.id)) == [
        "FORBIDDEN"
    ]
    assert await refused(api, RESOLVE, {"state": state}, token) == ["FORBIDDEN"]
    staff_token = await staff_login(api, person.id)
    flipped = state[:5] + ("A" if state[5] != "A" else "B") + state[6:]
    as_post = "P" + state[1:]  # claim another source with the same nonce and MAC
    for forged in (flipped, as_post, state[:-1], state + "A", "hello"):
        assert await refused(api, RESOLVE, {"state": forged}, staff_token) == ["INVALID_ARGUMENT"], forged


async def test_shoppers_see_only_their_own_advisors_and_can_remove_them(api: ApiStack) -> None:
    alice, bob = await api.new_shopper(), await api.new_shopper()
    mine, theirs = api.data.staff[3], api.data.staff[4]
    await api.gql(CONSULT, {"s": mine.id, "src": "PROFILE"}, token=alice)
    await api.gql(CONSULT, {"s": theirs.id, "src": "POST"}, token=bob)
    alice_sees = (await api.gql(ADVISORS, {"first": 10}, token=alice))["myAdvisors"]["nodes"]
    assert [a["staff"]["id"] for a in alice_sees] == [mine.id]
    bob_profile = (await api.gql(PROFILE, {"id": mine.id, "first": 1}, token=bob))["staffProfile"]
    assert bob_profile["isMyAdvisor"] is False
    assert (await api.gql(REMOVE, {"s": mine.id}, token=bob))["removeAdvisor"] is False
    assert (await api.gql(REMOVE, {"s": mine.id}, token=alice))["removeAdvisor"] is True
    assert (await api.gql(ADVISORS, {"first": 10}, token=alice))["myAdvisors"]["nodes"] == []
    assert [
        a["staff"]["id"] for a in (await api.gql(ADVISORS, {"first": 10}, token=bob))["myAdvisors"]["nodes"]
    ] == [theirs.id]
    assert await refused(api, ADVISORS, {"first": 10}, None) == ["UNAUTHENTICATED"]
    assert await refused(api, ADVISORS, {"first": 10}, await staff_login(api, mine.id)) == ["FORBIDDEN"]
    assert await refused(api, CONSULT, {"s": mine.id, "src": "POST"}, await staff_login(api, mine.id)) == [
        "FORBIDDEN"
    ]
    assert await refused(api, CONSULT, {"s": "staff-nope", "src": "POST"}, alice) == ["NOT_FOUND"]


async def test_my_advisors_page_newest_first(api: ApiStack) -> None:
    token = await api.new_shopper()
    for person in api.data.staff[:3]:
        await api.gql(CONSULT, {"s": person.id, "src": "POST"}, token=token)
    one = (await api.gql(ADVISORS, {"first": 2}, token=token))["myAdvisors"]
    two = (await api.gql(ADVISORS, {"first": 2, "after": one["pageInfo"]["endCursor"]}, token=token))[
        "myAdvisors"
    ]
    ids = [a["staff"]["id"] for a in one["nodes"] + two["nodes"]]
    assert one["pageInfo"]["hasNextPage"] and not two["pageInfo"]["hasNextPage"]
    assert sorted(ids) == sorted(p.id for p in api.data.staff[:3]) and len(set(ids)) == 3
    since = [a["sinceMs"] for a in one["nodes"] + two["nodes"]]
    assert since == sorted(since, reverse=True)


# ---- publishing


async def test_staff_publish_for_their_store_draft_to_published_to_deleted(api: ApiStack) -> None:
    home = api.data.stores[0]
    author = team(api, home.id)[0]
    token = await staff_login(api, author.id)
    post = await draft(api, token, home.id)
    assert post["status"] == "DRAFT" and post["staff"]["id"] == author.id and post["store"]["id"] == home.id
    assert [link["product"]["id"] for link in post["products"]] == in_stock(api, home.id)
    assert post["id"] not in {n["id"] for n in await all_posts(api, store=home.id)}
    assert await refused(api, POST, {"id": post["id"]}, None) == ["NOT_FOUND"]
    assert (await api.gql(POST, {"id": post["id"]}, token=token))["staffPost"]["status"] == "DRAFT"

    edited = (await api.gql(UPDATE, {"id": post["id"], "in": {"text": "  改一下文案  "}}, token=token))[
        "updateStaffPost"
    ]
    assert edited["text"] == "改一下文案" and edited["updatedAtMs"] >= post["updatedAtMs"]
    assert [link["product"]["id"] for link in edited["products"]] == in_stock(api, home.id)

    published = (await api.gql(PUBLISH, {"id": post["id"]}, token=token))["publishStaffPost"]
    assert published["status"] == "PUBLISHED"
    feed = (await api.gql(POSTS, {"store": home.id, "first": 1}))["staffPosts"]["edges"]
    assert feed[0]["node"]["id"] == post["id"] and feed[0]["node"]["text"] == "改一下文案"
    again = (await api.gql(PUBLISH, {"id": post["id"]}, token=token))["publishStaffPost"]
    assert again["publishedAtMs"] == published["publishedAtMs"]

    assert (await api.gql(UNPUBLISH, {"id": post["id"]}, token=token))["unpublishStaffPost"][
        "status"
    ] == "DRAFT"
    assert post["id"] not in {n["id"] for n in await all_posts(api, store=home.id)}
    assert (await api.gql(DELETE, {"id": post["id"]}, token=token))["deleteStaffPost"] is True
    assert await refused(api, POST, {"id": post["id"]}, token) == ["NOT_FOUND"]
    assert await refused(api, PUBLISH, {"id": post["id"]}, token) == ["NOT_FOUND"]


async def test_staff_cannot_touch_another_stores_or_a_colleagues_posts(api: ApiStack) -> None:
    home = api.data.stores[0]
    away = other_brand_store(api, home)
    author, colleague = team(api, home.id)[:2]
    stranger = team(api, away.id)[0]
    post = await draft(api, await staff_login(api, author.id), home.id)
    for intruder in (colleague, stranger):
        token = await staff_login(api, intruder.id)
        variables = {"id": post["id"], "in": {"text": "hijacked"}}
        assert await refused(api, UPDATE, variables, token) == ["FORBIDDEN"]
        assert await refused(api, PUBLISH, {"id": post["id"]}, token) == ["FORBIDDEN"]
        assert await refused(api, UNPUBLISH, {"id": post["id"]}, token) == ["FORBIDDEN"]
        assert await refused(api, DELETE, {"id": post["id"]}, token) == ["FORBIDDEN"]
        assert await refused(api, POST, {"id": post["id"]}, token) == ["NOT_FOUND"]  # a draft stays private
    seeded = next(p for p in api.data.staff_posts if p.store_id == away.id)
    token = await staff_login(api, author.id)
    assert await refused(api, DELETE, {"id": seeded.id}, token) == ["FORBIDDEN"]
    assert await refused(api, UNPUBLISH, {"id": seeded.id}, token) == ["FORBIDDEN"]
    other_store = {"text": "x", "productIds": in_stock(api, away.id), "storeId": away.id}
    assert await refused(api, CREATE, {"in": other_store}, token) == ["FORBIDDEN"]
    as_colleague = {"text": "x", "productIds": [], "staffId": colleague.id}
    assert await refused(api, CREATE, {"in": as_colleague}, token) == ["FORBIDDEN"]
    unchanged = (await api.gql(POST, {"id": post["id"]}, token=token))["staffPost"]
    assert unchanged["text"] == post["text"] and unchanged["status"] == "DRAFT"
    assert (await api.gql(POST, {"id": seeded.id}))["staffPost"]["status"] == "PUBLISHED"


async def test_brand_admins_publish_for_their_brands_stores_only(api: ApiStack) -> None:
    home = api.data.stores[0]
    away = other_brand_store(api, home)
    author = team(api, home.id)[-1]
    admin = await api.login(f"brand-openid-{home.brand_id}")
    other_admin = await api.login(f"brand-openid-{away.brand_id}")
    text = {"text": "品牌上新", "productIds": in_stock(api, home.id)}
    post = (await api.gql(CREATE, {"in": {**text, "storeId": home.id, "staffId": author.id}}, token=admin))[
        "createStaffPost"
    ]
    assert post["staff"]["id"] == author.id and post["store"]["id"] == home.id and post["status"] == "DRAFT"
    assert (await api.gql(PUBLISH, {"id": post["id"]}, token=admin))["publishStaffPost"][
        "status"
    ] == "PUBLISHED"
    assert post["id"] in {n["id"] for n in await all_posts(api, brand=home.brand_id)}
    # the named author may edit it too; another brand's admin may not touch it
    author_token = await staff_login(api, author.id)
    assert (await api.gql(UPDATE, {"id": post["id"], "in": {"text": "改"}}, token=author_token))[
        "updateStaffPost"
    ]
    for mutation, variables in (
        (UPDATE, {"id": post["id"], "in": {"text": "hijacked"}}),
        (UNPUBLISH, {"id": post["id"]}),
        (DELETE, {"id": post["id"]}),
    ):
        assert await refused(api, mutation, variables, other_admin) == ["FORBIDDEN"]
    wrong_brand = {"text": "x", "productIds": [], "storeId": away.id, "staffId": team(api, away.id)[0].id}
    assert await refused(api, CREATE, {"in": wrong_brand}, admin) == ["FORBIDDEN"]
    assert await refused(api, CREATE, {"in": text}, admin) == ["INVALID_ARGUMENT"]  # names no store or author
    not_there = {**text, "storeId": home.id, "staffId": team(api, away.id)[0].id}
    assert await refused(api, CREATE, {"in": not_there}, admin) == ["INVALID_ARGUMENT"]
    assert (await api.gql(DELETE, {"id": post["id"]}, token=admin))["deleteStaffPost"] is True


async def test_shoppers_and_anonymous_callers_cannot_publish(api: ApiStack) -> None:
    home = api.data.stores[0]
    post = api.data.staff_posts[0]
    shopper = await api.new_shopper()
    operator = await api.login(f"mall-openid-{post.mall_id}")
    create = {"in": {"text": "我也想发", "productIds": [], "storeId": home.id}}
    assert await refused(api, CREATE, create, shopper) == ["FORBIDDEN"]
    assert await refused(api, CREATE, create, operator) == ["FORBIDDEN"]
    assert await refused(api, CREATE, create, None) == ["UNAUTHENTICATED"]
    assert await refused(api, PUBLISH, {"id": post.id}, shopper) == ["FORBIDDEN"]
    assert await refused(api, DELETE, {"id": post.id}, shopper) == ["FORBIDDEN"]
    assert await refused(api, DELETE, {"id": post.id}, operator) == ["FORBIDDEN"]


async def test_bad_post_input_is_refused(api: ApiStack) -> None:
    home = api.data.stores[0]
    token = await staff_login(api, team(api, home.id)[0].id)
    for bad in (
        {"text": "   ", "productIds": []},
        {"text": "长" * 1001, "productIds": []},
        {"text": "ok", "productIds": [not_in_stock(api, home.id)]},
        {"text": "ok", "productIds": ["sku-nope"]},
    ):
        assert await refused(api, CREATE, {"in": bad}, token) == ["INVALID_ARGUMENT"], bad
    post = await draft(api, token, home.id)
    bad_links = {"id": post["id"], "in": {"productIds": [not_in_stock(api, home.id)]}}
    assert await refused(api, UPDATE, bad_links, token) == ["INVALID_ARGUMENT"]
    assert await refused(api, UPDATE, {"id": post["id"], "in": {"text": ""}}, token) == ["INVALID_ARGUMENT"]
    assert await refused(api, UPDATE, {"id": "post-nope", "in": {"text": "x"}}, token) == ["NOT_FOUND"]
    exact = (await api.gql(CREATE, {"in": {"text": "长" * 1000, "productIds": []}}, token=token))[
        "createStaffPost"
    ]
    assert len(exact["text"]) == 1000
    for created in (post, exact):
        await api.gql(DELETE, {"id": created["id"]}, token=token)


# ---- moderation


async def test_mall_operators_hide_and_restore_posts_in_their_mall_only(api: ApiStack) -> None:
    home = api.data.stores[0]
    away = other_brand_store(api, home)
    author = team(api, home.id)[0]
    token = await staff_login(api, author.id)
    post = await draft(api, token, home.id)
    await api.gql(PUBLISH, {"id": post["id"]}, token=token)
    operator = await api.login(f"mall-openid-{home.mall_id}")
    elsewhere = await api.login(f"mall-openid-{away.mall_id}")
    assert await refused(api, MODERATE, {"id": post["id"], "hidden": True, "reason": "x"}, elsewhere) == [
        "FORBIDDEN"
    ]
    assert await refused(api, MODERATE, {"id": post["id"], "hidden": True, "reason": "x"}, token) == [
        "FORBIDDEN"
    ]
    assert await refused(api, MODERATE, {"id": post["id"], "hidden": True}, operator) == ["INVALID_ARGUMENT"]

    hidden = await api.gql(MODERATE, {"id": post["id"], "hidden": True, "reason": "广告违规"}, token=operator)
    assert hidden["moderateStaffPost"] == {"id": post["id"], "hidden": True, "hiddenReason": "广告违规"}
    assert post["id"] not in {n["id"] for n in await all_posts(api, mall=home.mall_id)}
    assert await refused(api, POST, {"id": post["id"]}, None) == ["NOT_FOUND"]
    assert await refused(api, POST, {"id": post["id"]}, elsewhere) == ["NOT_FOUND"]
    assert (await api.gql(POST, {"id": post["id"]}, token=operator))["staffPost"]["hidden"] is True
    assert (await api.gql(POST, {"id": post["id"]}, token=token))["staffPost"]["hiddenReason"] == "广告违规"

    restored = (await api.gql(MODERATE, {"id": post["id"], "hidden": False}, token=operator))[
        "moderateStaffPost"
    ]
    assert restored == {"id": post["id"], "hidden": False, "hiddenReason": None}
    assert post["id"] in {n["id"] for n in await all_posts(api, mall=home.mall_id)}
    seeded_elsewhere = next(p for p in api.data.staff_posts if p.mall_id == away.mall_id)
    variables = {"id": seeded_elsewhere.id, "hidden": True, "reason": "x"}
    assert await refused(api, MODERATE, variables, operator) == ["FORBIDDEN"]
    await api.gql(DELETE, {"id": post["id"]}, token=token)


MANAGED = """query($store: String, $first: Int!, $after: String) {
  managedStaffPosts(storeId: $store, first: $first, after: $after) {
    nodes { id status hidden staff { id } store { id brandId mallId } }
    pageInfo { hasNextPage endCursor } } }"""


async def all_managed(api: ApiStack, token: str, store_id: str | None = None) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api.gql(MANAGED, {"store": store_id, "first": 50, "after": after}, token=token))[
            "managedStaffPosts"
        ]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_publishers_and_moderators_list_the_posts_they_manage(api: ApiStack) -> None:
    home = api.data.stores[0]
    author, colleague = team(api, home.id)[:2]
    token = await staff_login(api, author.id)
    post = await draft(api, token, home.id)
    mine = await all_managed(api, token)
    assert mine[0]["id"] == post["id"] and mine[0]["status"] == "DRAFT"
    assert {n["staff"]["id"] for n in mine} == {author.id}
    assert post["id"] not in {n["id"] for n in await all_managed(api, await staff_login(api, colleague.id))}
    admin = await api.login(f"brand-openid-{home.brand_id}")
    brand = await all_managed(api, admin)
    assert post["id"] in {n["id"] for n in brand} and {n["store"]["brandId"] for n in brand} == {
        home.brand_id
    }
    assert {n["store"]["id"] for n in await all_managed(api, admin, home.id)} == {home.id}
    operator = await api.login(f"mall-openid-{home.mall_id}")
    await api.gql(PUBLISH, {"id": post["id"]}, token=token)
    await api.gql(MODERATE, {"id": post["id"], "hidden": True, "reason": "重复发布"}, token=operator)
    mall = await all_managed(api, operator)
    assert {n["store"]["mallId"] for n in mall} == {home.mall_id}
    assert next(n for n in mall if n["id"] == post["id"])["hidden"] is True
    assert await refused(api, MANAGED, {"first": 5}, await api.new_shopper()) == ["FORBIDDEN"]
    assert await refused(api, MANAGED, {"first": 5}, None) == ["UNAUTHENTICATED"]
    await api.gql(DELETE, {"id": post["id"]}, token=token)


# ---- text cleaning and query counts


async def test_post_text_loses_control_and_bidi_characters_like_articles_and_comments(api: ApiStack) -> None:
    person = api.data.staff[0]
    token = await staff_login(api, person.id)
    post = await draft(api, token, person.store_id, text="\u202e新品\x00到店\x1b\u2066\n\n\n\n欢迎")
    assert post["text"] == "新品到店\n\n欢迎"
    edited = await api.gql(UPDATE, {"id": post["id"], "in": {"text": "改\u202d好\x07了"}}, token=token)
    assert edited["updateStaffPost"]["text"] == "改好了"
    assert await refused(api, UPDATE, {"id": post["id"], "in": {"text": "\u202e\x00"}}, token) == [
        "INVALID_ARGUMENT"
    ]
    await api.gql(DELETE, {"id": post["id"]}, token=token)


async def test_advisor_and_profile_pages_read_in_one_batch_not_per_staff_member(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await api.new_shopper()
    for person in api.data.staff:
        await api.gql(CONSULT, {"s": person.id, "src": "PROFILE"}, token=token)
    page = """{ myAdvisors(first: 50) { nodes { staff { id postCount isMyAdvisor } } } }"""
    await api.gql(page, token=token)  # warm: staff and posts are loaded once
    counted = QueryCount(api, monkeypatch)
    nodes = (await api.gql(page, token=token))["myAdvisors"]["nodes"]
    assert len(nodes) == len(api.data.staff) and all(n["staff"]["isMyAdvisor"] for n in nodes)
    assert counted.calls == ["find advisors"]
    shown = {p.staff_id for p in api.data.staff_posts}
    assert any(n["staff"]["postCount"] > 0 for n in nodes if n["staff"]["id"] in shown)
    counted.calls.clear()
    profiles = " ".join(
        f'p{i}: staffProfile(id: "{person.id}") {{ id postCount isMyAdvisor }}'
        for i, person in enumerate(api.data.staff)
    )
    found = await api.gql(f"{{ {profiles} }}", token=token)
    assert all(p["isMyAdvisor"] for p in found.values())
    assert counted.calls == ["find advisors"]


async def test_the_posts_tab_reads_no_document_per_post(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.gql(POSTS, {"first": 50})
    counted = QueryCount(api, monkeypatch)
    page = (await api.gql(POSTS, {"first": 50}))["staffPosts"]["edges"]
    assert len(page) > 1
    assert counted.calls == []
