"""导购 client book over GraphQL: who is a client, each client's card (history, interests, tags, notes),
BOLA between staff members, the tag library, and handing a book to a colleague."""

from __future__ import annotations

import json
from typing import Any

import pytest

from guang.adapters.redis_features import RedisFeatureWriter
from guang.domain.features import LastDwell, SubjectFeatures
from guang.domain.models import Order, OrderItem, Product, Staff, Store
from guang.services.app_events import new_event_id, now_ms
from tests.integration.api.conftest import ApiStack, GraphQLFailed

DAY_MS = 86_400_000
CLIENT_FIELDS = """memberId nickname sinceMs sources reassignedFrom lastVisitMs marketingConsent
  tags { tag { id name group } taggedByStaffId taggedAtMs }
  notes { id text byStaffId atMs }
  orders { id storeId paidAtMs amountFen guideId items { skuId qty priceFen product { id category } } }
  interests { topCategories lastDwellZoneId lastDwellCategory seenAtMs }"""
BOOK = f"""query($first: Int!, $after: String, $search: String) {{
  clientBook(first: $first, after: $after, search: $search) {{
    edges {{ cursor node {{ {CLIENT_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
CLIENT = f"query($m: String!) {{ client(memberId: $m) {{ {CLIENT_FIELDS} }} }}"
CONSULT = "mutation($s: String!) { consultStaff(staffId: $s, source: PROFILE) { newAdvisor } }"
LIBRARY = "{ clientTagLibrary { id group groupLabel name brandId categories auditable } }"
TAG = "mutation($m: String!, $t: [String!]!) { tagClient(memberId: $m, tagIds: $t) { tags { tag { id } taggedByStaffId } } }"  # noqa: E501
UNTAG = (
    "mutation($m: String!, $t: [String!]!) { untagClient(memberId: $m, tagIds: $t) { tags { tag { id } } } }"
)
NOTE = (
    "mutation($m: String!, $x: String!) { addClientNote(memberId: $m, text: $x) { id text byStaffId atMs } }"
)
HISTORY = "query($m: String!) { clientTagHistory(memberId: $m) { tagId action byStaffId atMs } }"
ADD_TAG = """mutation($g: TagGroup!, $n: String!, $c: [String!], $lo: Int, $hi: Int) {
  addClientTag(group: $g, name: $n, categories: $c, minPriceFen: $lo, maxPriceFen: $hi) { id name brandId auditable } }"""  # noqa: E501
REASSIGN = """mutation($f: String!, $t: String!) { reassignClients(fromStaffId: $f, toStaffId: $t) {
  moved advisorsMoved fromStaffId toStaffId } }"""
ADVISORS = "{ myAdvisors(first: 50) { nodes { staff { id } } } }"


# ---- helpers shared with test_clienteling_campaigns


def store(api: ApiStack, store_id: str) -> Store:
    return next(s for s in api.data.stores if s.id == store_id)


def team(api: ApiStack, store_id: str) -> list[Staff]:
    return [p for p in api.data.staff if p.store_id == store_id]


async def staff_login(api: ApiStack, staff_id: str) -> str:
    return await api.login(f"staff-openid-{staff_id}")


async def new_client(api: ApiStack, *staff_ids: str) -> tuple[str, str]:
    """A brand-new shopper who added each of `staff_ids` as advisor: (token, member id)."""
    token = await api.new_shopper()
    for staff_id in staff_ids:
        await api.gql(CONSULT, {"s": staff_id}, token=token)
    return token, await api.subject_of(token)


def carried(api: ApiStack, store_id: str) -> list[Product]:
    return [p for p in api.data.products if any(s.store_id == store_id and s.qty > 0 for s in p.stock)]


async def place_order(
    api: ApiStack, member_id: str, store_id: str, lines: list[tuple[Product, int]], *, days_ago: float = 1,
    guide_id: str | None = None,
) -> Order:  # fmt: skip
    """A paid order stored the way seeded and POS history is."""
    items = [OrderItem(sku_id=p.id, qty=q, price_fen=p.price_fen) for p, q in lines]
    order = Order(
        id=f"o-t-{new_event_id()[:12]}", member_id=member_id, store_id=store_id, items=items,
        amount_fen=sum(i.qty * i.price_fen for i in items), paid_ms=now_ms() - int(days_ago * DAY_MS),
        guide_id=guide_id,
    )  # fmt: skip
    await api.services.container.documents.insert_one("orders", {"_id": order.id, **order.model_dump()})
    return order


async def whole_book(
    api: ApiStack, token: str, search: str | None = None, first: int = 50
) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api.gql(BOOK, {"first": first, "after": after, "search": search}, token=token))[
            "clientBook"
        ]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def expected_clients(api: ApiStack, staff_id: str) -> set[str]:
    """From the data itself: seeded share-link buyers plus everyone who has them as advisor now."""
    guided = {o.member_id for o in api.data.orders if o.guide_id == staff_id}
    advisors = await api.services.container.documents.find("advisors", {"staff_id": staff_id})
    return guided | {str(a["member_id"]) for a in advisors}


async def codes(api: ApiStack, query: str, variables: dict[str, Any], token: str | None) -> list[str]:
    with pytest.raises(GraphQLFailed) as failed:
        await api.gql(query, variables, token=token)
    return failed.value.codes


# ---- the book


async def test_the_book_holds_advisors_and_share_link_buyers_with_their_purchases(api: ApiStack) -> None:
    home = store(api, "store-001")
    mine, colleague = team(api, home.id)[:2]
    token = await staff_login(api, mine.id)
    _, adviser = await new_client(api, mine.id)
    _, buyer = await new_client(api)
    jeans = carried(api, home.id)[0]
    order = await place_order(api, buyer, home.id, [(jeans, 2)], guide_id=mine.id, days_ago=0)
    _, theirs = await new_client(api)
    await place_order(api, theirs, home.id, [(jeans, 1)], guide_id=colleague.id)

    book = await whole_book(api, token)
    ids = [c["memberId"] for c in book]
    assert set(ids) == await expected_clients(api, mine.id) | {adviser, buyer}
    assert len(ids) == len(set(ids)) and theirs not in ids
    assert set(ids[:2]) == {adviser, buyer}, "the newest clients come first"
    card = {c["memberId"]: c for c in book}
    assert card[adviser]["sources"] == ["ADVISOR"] and card[adviser]["orders"] == []
    assert card[buyer]["sources"] == ["SHARE_LINK_ORDER"]
    assert card[buyer]["orders"] == [{
        "id": order.id, "storeId": home.id, "paidAtMs": order.paid_ms, "amountFen": 2 * jeans.price_fen,
        "guideId": mine.id,
        "items": [{"skuId": jeans.id, "qty": 2, "priceFen": jeans.price_fen,
                   "product": {"id": jeans.id, "category": jeans.category}}],
    }]  # fmt: skip
    assert card[buyer]["lastVisitMs"] == order.paid_ms and card[buyer]["nickname"] == "逛友"
    assert [c["memberId"] for c in await whole_book(api, token, first=3)] == ids, "pages continue in order"


async def test_search_narrows_the_book_by_nickname(api: ApiStack) -> None:
    person = team(api, "store-001")[0]
    token = await staff_login(api, person.id)
    seeded = next(o.member_id for o in api.data.orders if o.guide_id == person.id)
    nickname = next(m.nickname for m in api.data.members if m.id == seeded)
    found = await whole_book(api, token, search=nickname)
    assert seeded in {c["memberId"] for c in found}
    assert all(nickname in c["nickname"] for c in found)
    assert await whole_book(api, token, search="没有这个昵称") == []


async def test_staff_see_only_their_own_clients(api: ApiStack) -> None:
    home = store(api, "store-001")
    mine, colleague = team(api, home.id)[:2]
    shopper, member = await new_client(api, mine.id)
    assert (await api.gql(CLIENT, {"m": member}, token=await staff_login(api, mine.id)))["client"][
        "memberId"
    ] == member
    other = await staff_login(api, colleague.id)
    assert await codes(api, CLIENT, {"m": member}, other) == ["NOT_FOUND"]
    assert await codes(api, NOTE, {"m": member, "x": "偷看"}, other) == ["NOT_FOUND"]
    assert await codes(api, TAG, {"m": member, "t": ["std-size-m"]}, other) == ["NOT_FOUND"]
    assert member not in {c["memberId"] for c in await whole_book(api, other)}
    assert await codes(api, CLIENT, {"m": member}, shopper) == ["FORBIDDEN"]
    assert await codes(api, BOOK, {"first": 5}, shopper) == ["FORBIDDEN"]
    admin = await api.login(f"brand-openid-{home.brand_id}")
    assert await codes(api, BOOK, {"first": 5}, admin) == ["FORBIDDEN"]
    assert await codes(api, BOOK, {"first": 5}, None) == ["UNAUTHENTICATED"]


async def test_camera_interests_show_only_while_face_consent_is_active(api: ApiStack) -> None:
    home = store(api, "store-001")
    mine = team(api, home.id)[0]
    token = await staff_login(api, mine.id)
    shopper, member = await new_client(api, mine.id)
    seen = now_ms() - 60_000
    writer = RedisFeatureWriter(api.settings.kv_url)
    try:
        writer.write([SubjectFeatures(
            subject_id=f"u:{member}", ts_ms=seen,
            category_scores={"外套": 3.0, "衬衫": 5.0, "T恤": 1.0, "帽子": 0.5},
            last_dwell=LastDwell(store_id=home.id, zone_id="z-test", category="衬衫", dwell_ms=30_000),
            store_id=home.id,
        )])  # fmt: skip
    finally:
        writer.close()
    without = (await api.gql(CLIENT, {"m": member}, token=token))["client"]
    assert without["interests"] is None and without["lastVisitMs"] is None
    await api.gql("mutation { setConsent(kind: FACE, granted: true) { id } }", token=shopper)
    consented = (await api.gql(CLIENT, {"m": member}, token=token))["client"]
    assert consented["interests"] == {
        "topCategories": ["衬衫", "外套", "T恤"], "lastDwellZoneId": "z-test", "lastDwellCategory": "衬衫",
        "seenAtMs": seen,
    }  # fmt: skip
    assert consented["lastVisitMs"] == seen
    await api.gql("mutation { setConsent(kind: FACE, granted: false) { id } }", token=shopper)
    assert (await api.gql(CLIENT, {"m": member}, token=token))["client"]["interests"] is None


# ---- tags and notes


async def test_the_library_has_the_default_groups_and_the_brands_own_tags(api: ApiStack) -> None:
    home = store(api, "store-001")
    staff_token = await staff_login(api, team(api, home.id)[0].id)
    library = (await api.gql(LIBRARY, token=staff_token))["clientTagLibrary"]
    assert {t["groupLabel"] for t in library} == {"风格", "尺码", "预算", "场合", "人生阶段", "品类偏好"}
    assert {"std-size-m", "std-budget-high", "std-category-denim"} <= {t["id"] for t in library}
    admin = await api.login(f"brand-openid-{home.brand_id}")
    fresh = {"g": "STYLE", "n": f"轻奢{new_event_id()[:4]}", "c": ["外套"], "lo": 100000}
    added = (await api.gql(ADD_TAG, fresh, token=admin))["addClientTag"]
    assert added["brandId"] == home.brand_id and added["auditable"] is True
    assert added["id"] in {t["id"] for t in (await api.gql(LIBRARY, token=staff_token))["clientTagLibrary"]}
    elsewhere = next(s for s in api.data.stores if s.brand_id != home.brand_id)
    other_staff = await staff_login(api, team(api, elsewhere.id)[0].id)
    assert added["id"] not in {
        t["id"] for t in (await api.gql(LIBRARY, token=other_staff))["clientTagLibrary"]
    }
    assert await codes(api, ADD_TAG, {"g": "STYLE", "n": "店员自建"}, staff_token) == ["FORBIDDEN"]
    assert await codes(api, ADD_TAG, {"g": "STYLE", "n": added["name"]}, admin) == ["CONFLICT"]
    assert await codes(api, ADD_TAG, {"g": "BUDGET", "n": "反了", "lo": 500, "hi": 100}, admin) == [
        "INVALID_ARGUMENT"
    ]


async def test_tags_and_notes_record_who_and_when(api: ApiStack) -> None:
    mine = team(api, "store-001")[0]
    token = await staff_login(api, mine.id)
    _, member = await new_client(api, mine.id)
    before = now_ms()
    tagged = await api.gql(
        TAG, {"m": member, "t": ["std-size-m", "std-style-casual", "std-size-m"]}, token=token
    )
    assert sorted(t["tag"]["id"] for t in tagged["tagClient"]["tags"]) == ["std-size-m", "std-style-casual"]
    assert {t["taggedByStaffId"] for t in tagged["tagClient"]["tags"]} == {mine.id}
    untagged = await api.gql(UNTAG, {"m": member, "t": ["std-size-m"]}, token=token)
    assert [t["tag"]["id"] for t in untagged["untagClient"]["tags"]] == ["std-style-casual"]
    history = (await api.gql(HISTORY, {"m": member}, token=token))["clientTagHistory"]
    assert [(h["tagId"], h["action"], h["byStaffId"]) for h in history] == [
        ("std-size-m", "tag", mine.id),
        ("std-style-casual", "tag", mine.id),
        ("std-size-m", "untag", mine.id),
    ]
    assert all(h["atMs"] >= before for h in history)
    assert await codes(api, TAG, {"m": member, "t": ["no-such-tag"]}, token) == ["INVALID_ARGUMENT"]
    for text in ("喜欢宽松款，M 码", "下周生日"):
        await api.gql(NOTE, {"m": member, "x": text}, token=token)
    notes = (await api.gql(CLIENT, {"m": member}, token=token))["client"]["notes"]
    assert [n["text"] for n in notes] == ["下周生日", "喜欢宽松款，M 码"]
    assert {n["byStaffId"] for n in notes} == {mine.id}
    assert await codes(api, NOTE, {"m": member, "x": "长" * 501}, token) == ["INVALID_ARGUMENT"]
    assert await codes(api, NOTE, {"m": member, "x": "  "}, token) == ["INVALID_ARGUMENT"]


async def test_a_client_who_deletes_their_data_takes_the_staffs_notes_and_tags_about_them(
    api: ApiStack,
) -> None:
    mine = team(api, "store-003")[0]
    token = await staff_login(api, mine.id)
    shopper, member = await new_client(api, mine.id)
    await api.gql(TAG, {"m": member, "t": ["std-style-casual"]}, token=token)
    await api.gql(NOTE, {"m": member, "x": "喜欢宽松款"}, token=token)
    exported = json.loads((await api.gql("{ exportMyData { json } }", token=shopper))["exportMyData"]["json"])
    assert [n["text"] for n in exported["client_notes"]] == ["喜欢宽松款"] and exported["client_tagged"]

    deleted = await api.gql(
        'mutation { deleteMyData(confirm: "DELETE") { counts { name count } } }', token=shopper
    )
    counts = {c["name"]: c["count"] for c in deleted["deleteMyData"]["counts"]}
    assert counts["client_notes"] == 1 and counts["client_tagged"] >= 1 and counts["client_tag_log"] >= 1
    assert member not in await expected_clients(api, mine.id)
    assert await codes(api, CLIENT, {"m": member}, token) == ["NOT_FOUND"]


# ---- reassignment


async def test_reassignment_moves_every_client_with_tags_and_notes_kept(api: ApiStack) -> None:
    home = store(api, "store-002")
    leaving, taking = team(api, home.id)[:2]
    old_token, new_token = await staff_login(api, leaving.id), await staff_login(api, taking.id)
    shopper, member = await new_client(api, leaving.id)
    await api.gql(TAG, {"m": member, "t": ["std-style-commute"]}, token=old_token)
    await api.gql(NOTE, {"m": member, "x": "老客，偏爱通勤款"}, token=old_token)
    expected = await expected_clients(api, leaving.id)
    advisors = await api.services.container.documents.count("advisors", {"staff_id": leaving.id})
    assert member in expected
    admin = await api.login(f"brand-openid-{home.brand_id}")
    moved = (await api.gql(REASSIGN, {"f": leaving.id, "t": taking.id}, token=admin))["reassignClients"]
    assert moved == {"moved": len(expected), "advisorsMoved": advisors, "fromStaffId": leaving.id,
                     "toStaffId": taking.id}  # fmt: skip
    assert await whole_book(api, old_token) == []
    assert expected <= {c["memberId"] for c in await whole_book(api, new_token)}
    card = (await api.gql(CLIENT, {"m": member}, token=new_token))["client"]
    assert card["reassignedFrom"] == leaving.id and set(card["sources"]) == {"ADVISOR", "REASSIGNED"}
    assert [(t["tag"]["id"], t["taggedByStaffId"]) for t in card["tags"]] == [
        ("std-style-commute", leaving.id)
    ]
    assert [(n["text"], n["byStaffId"]) for n in card["notes"]] == [("老客，偏爱通勤款", leaving.id)]
    assert await codes(api, CLIENT, {"m": member}, old_token) == ["NOT_FOUND"]
    mine = {n["staff"]["id"] for n in (await api.gql(ADVISORS, token=shopper))["myAdvisors"]["nodes"]}
    assert taking.id in mine and leaving.id not in mine
    again = (await api.gql(REASSIGN, {"f": leaving.id, "t": taking.id}, token=admin))["reassignClients"]
    assert (again["moved"], again["advisorsMoved"]) == (0, 0)


async def test_the_clients_of_someone_who_left_move_to_a_colleague(api: ApiStack) -> None:
    home = store(api, "store-002")
    taking = team(api, home.id)[2]
    gone = f"staff-left-{new_event_id()[:6]}"
    _, member = await new_client(api)
    await place_order(api, member, home.id, [(carried(api, home.id)[0], 1)], guide_id=gone)
    admin = await api.login(f"brand-openid-{home.brand_id}")
    moved = (await api.gql(REASSIGN, {"f": gone, "t": taking.id}, token=admin))["reassignClients"]
    assert (moved["moved"], moved["advisorsMoved"]) == (1, 0)
    card = (await api.gql(CLIENT, {"m": member}, token=await staff_login(api, taking.id)))["client"]
    assert (card["reassignedFrom"], card["sources"]) == (gone, ["REASSIGNED"])
    elsewhere = next(s for s in api.data.stores if s.brand_id != home.brand_id)
    other_admin = await api.login(f"brand-openid-{elsewhere.brand_id}")
    assert await codes(api, REASSIGN, {"f": gone, "t": taking.id}, other_admin) == ["FORBIDDEN"]


async def test_only_the_brands_admin_reassigns_and_only_within_a_store(api: ApiStack) -> None:
    home = store(api, "store-003")
    a, b = team(api, home.id)[:2]
    away = next(s for s in api.data.stores if s.brand_id != home.brand_id)
    stranger = await api.login(f"brand-openid-{away.brand_id}")
    assert await codes(api, REASSIGN, {"f": a.id, "t": b.id}, stranger) == ["FORBIDDEN"]
    assert await codes(api, REASSIGN, {"f": a.id, "t": b.id}, await staff_login(api, a.id)) == ["FORBIDDEN"]
    admin = await api.login(f"brand-openid-{home.brand_id}")
    assert await codes(api, REASSIGN, {"f": a.id, "t": team(api, away.id)[0].id}, admin) == ["FORBIDDEN"]
    first, second = store(api, "store-001"), store(api, "store-004")
    assert first.brand_id == second.brand_id, "the seed has a brand with two stores"
    two_stores = {"f": team(api, first.id)[0].id, "t": team(api, second.id)[0].id}
    brand_admin = await api.login(f"brand-openid-{first.brand_id}")
    assert await codes(api, REASSIGN, two_stores, brand_admin) == ["INVALID_ARGUMENT"]
    assert await codes(api, REASSIGN, {"f": a.id, "t": a.id}, admin) == ["INVALID_ARGUMENT"]
    assert await codes(api, REASSIGN, {"f": "staff-nope", "t": b.id}, admin) == ["NOT_FOUND"]
