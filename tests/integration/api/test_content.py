"""好物推荐 种草 articles over GraphQL: feed, likes, share links, comments, publishing and moderation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from guang.domain.geo import distance_to
from tests.integration.api.conftest import ApiStack, GraphQLFailed, QueryCount

ARTICLE = """id title body coverUrl category status hidden publishedAtMs authorStaffId authorName brandId
 brandName likeCount commentCount likedByMe
 products { product { id category } store { id mallId } distanceM }"""
FEED = f"""query($first: Int!, $after: String, $brand: String, $mall: String, $lat: Float, $lng: Float) {{
  articles(first: $first, after: $after, brandId: $brand, mallId: $mall, lat: $lat, lng: $lng) {{
    edges {{ cursor node {{ {ARTICLE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
ONE = f"query($id: String!) {{ article(id: $id) {{ {ARTICLE} }} }}"
LIKE = "mutation($id: String!) { likeArticle(id: $id) { id likeCount likedByMe } }"
UNLIKE = "mutation($id: String!) { unlikeArticle(id: $id) { id likeCount likedByMe } }"
MY_LIKED = "query($after: String) { myLikedArticles(first: 50, after: $after) { nodes { id } } }"
SHARE = "mutation($id: String!) { shareArticle(id: $id) { code url path attributedStaffId article { id } } }"
RESOLVE = "query($c: String!) { shareLink(code: $c) { code attributedStaffId article { id title } } }"
COMMENT = "id articleId text authorNickname mine hidden flagged moderationReason"
ADD = f"mutation($a: String!, $t: String!) {{ addComment(articleId: $a, text: $t) {{ {COMMENT} }} }}"
COMMENTS = f"""query($a: String!, $first: Int!, $after: String) {{
  comments(articleId: $a, first: $first, after: $after) {{
    nodes {{ {COMMENT} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
MY_COMMENTS = f"{{ myComments(first: 50) {{ nodes {{ {COMMENT} }} }} }}"
DELETE_COMMENT = "mutation($id: String!) { deleteComment(id: $id) }"
MODERATE_COMMENT = f"""mutation($id: String!, $h: Boolean!, $r: String) {{
  moderateComment(id: $id, hidden: $h, reason: $r) {{ {COMMENT} }} }}"""
HELD = f"{{ heldComments(first: 50) {{ nodes {{ {COMMENT} }} }} }}"
CREATE = f"mutation($in: ArticleInput!) {{ createArticle(input: $in) {{ {ARTICLE} }} }}"
UPDATE = (
    f"mutation($id: String!, $in: ArticleChanges!) {{ updateArticle(id: $id, input: $in) {{ {ARTICLE} }} }}"
)
PUBLISH = "mutation($id: String!) { publishArticle(id: $id) { id status publishedAtMs } }"
UNPUBLISH = "mutation($id: String!) { unpublishArticle(id: $id) { id status } }"
DELETE = "mutation($id: String!) { deleteArticle(id: $id) }"
MODERATE = """mutation($id: String!, $h: Boolean!, $r: String) {
  moderateArticle(id: $id, hidden: $h, reason: $r) { id hidden hiddenReason } }"""
BRAND_ARTICLES = "{ brandArticles(first: 50) { nodes { id status brandId } } }"


async def refused(api: ApiStack, query: str, variables: dict[str, Any], token: str | None) -> list[str]:
    with pytest.raises(GraphQLFailed) as failed:
        await api.gql(query, variables, token=token)
    return failed.value.codes


async def failed(api: ApiStack, query: str, variables: dict[str, Any], token: str | None) -> GraphQLFailed:
    with pytest.raises(GraphQLFailed) as failure:
        await api.gql(query, variables, token=token)
    return failure.value


def brands_in(api: ApiStack, mall_id: str) -> set[str]:
    return {s.brand_id for s in api.data.stores if s.mall_id == mall_id}


def outside_mall(api: ApiStack, brand_id: str) -> str:
    """A mall where `brand_id` has no store."""
    return next(m.id for m in api.data.malls if brand_id not in brands_in(api, m.id))


def malls_of(api: ApiStack, brand_id: str) -> set[str]:
    return {s.mall_id for s in api.data.stores if s.brand_id == brand_id}


def single_mall_brand(api: ApiStack) -> str:
    """A brand with every store in one mall (that mall's operator moderates its articles)."""
    return next(b.id for b in api.data.brands if len(malls_of(api, b.id)) == 1)


def spread_brand(api: ApiStack) -> str:
    """A brand with stores in several malls (only its brand admin moderates its articles)."""
    return next(b.id for b in api.data.brands if len(malls_of(api, b.id)) > 1)


def inside_mall(api: ApiStack, brand_id: str) -> str:
    return next(s.mall_id for s in api.data.stores if s.brand_id == brand_id)


def other_brand(api: ApiStack, brand_id: str) -> str:
    return next(b.id for b in api.data.brands if b.id != brand_id)


def products_of(api: ApiStack, brand_id: str) -> list[str]:
    return [p.id for p in api.data.products if p.brand_id == brand_id and any(s.qty > 0 for s in p.stock)]


def staff_logins(api: ApiStack, brand_id: str) -> list[str]:
    return [a.id for a in api.data.accounts if a.role == "staff" and a.brand_id == brand_id]


async def admin(api: ApiStack, brand_id: str) -> str:
    return await api.login(f"brand-openid-{brand_id}")


async def operator(api: ApiStack, mall_id: str) -> str:
    return await api.login(f"mall-openid-{mall_id}")


async def new_article(api: ApiStack, brand_id: str, *, publish: bool = True, token: str | None = None) -> str:
    """A fresh article of `brand_id` (by its admin unless `token`), published unless asked not to."""
    token = token or await admin(api, brand_id)
    title = f"新品试穿 {uuid.uuid4().hex[:6]}"
    data = await api.gql(
        CREATE,
        {"in": {"title": title, "body": "真的好穿", "productIds": products_of(api, brand_id)[:2]}},
        token,
    )
    article_id: str = data["createArticle"]["id"]
    if publish:
        await api.gql(PUBLISH, {"id": article_id}, token=token)
    return article_id


async def feed_ids(api: ApiStack, **variables: Any) -> list[str]:
    data = await api.gql(FEED, {"first": 50, **variables})
    return [e["node"]["id"] for e in data["articles"]["edges"]]


# ---------------------------------------------------------------- feed


async def test_feed_shows_seeded_articles_newest_first_with_cover_author_brand_and_links(
    api: ApiStack,
) -> None:
    nodes = [e["node"] for e in (await api.gql(FEED, {"first": 50}))["articles"]["edges"]]
    seeded = {a.id: a for a in api.data.articles}
    assert set(seeded) <= {n["id"] for n in nodes}
    times = [n["publishedAtMs"] for n in nodes]
    assert times == sorted(times, reverse=True)
    staff_names = {s.id: s.name for s in api.data.staff}
    brand_names = {b.id: b.name for b in api.data.brands}
    for node in (n for n in nodes if n["id"] in seeded):
        article = seeded[node["id"]]
        assert node["coverUrl"] == f"/media/covers/{article.id}.svg"
        assert node["status"] == "PUBLISHED" and node["hidden"] is False
        assert node["authorName"] == (
            staff_names[article.author_staff_id] if article.author_staff_id else None
        )
        assert node["brandName"] == brand_names[article.brand_id]
        assert [p["product"]["id"] for p in node["products"]] == article.product_ids
        assert all(p["store"] is not None and p["distanceM"] is None for p in node["products"])
        assert node["likedByMe"] is False


async def test_product_links_show_the_nearest_carrying_store_and_its_distance(api: ApiStack) -> None:
    stores = {s.id: s for s in api.data.stores}
    products = {p.id: p for p in api.data.products}
    article = next(
        a for a in api.data.articles if len([s for s in products[a.product_ids[0]].stock if s.qty > 0]) > 1
    )
    for store_id in (s.store_id for s in products[article.product_ids[0]].stock if s.qty > 0):
        lng, lat = stores[store_id].location.coordinates
        node = (await api.gql(ONE.replace("article(id: $id)", "article(id: $id, lat: $lat, lng: $lng)")
                .replace("query($id: String!)", "query($id: String!, $lat: Float, $lng: Float)"),
                {"id": article.id, "lat": lat, "lng": lng}))["article"]  # fmt: skip
        link = node["products"][0]
        assert link["store"]["id"] == store_id
        assert link["distanceM"] == pytest.approx(0, abs=1)
        for other in node["products"]:
            carried = [s.store_id for s in products[other["product"]["id"]].stock if s.qty > 0]
            nearest = min(distance_to(stores[s].location, lat=lat, lng=lng) for s in carried)
            assert other["distanceM"] == pytest.approx(nearest, abs=0.5)


async def test_feed_filters_by_brand_and_by_mall(api: ApiStack) -> None:
    brand = api.data.brands[0].id
    assert set(await feed_ids(api, brand=brand)) >= {a.id for a in api.data.articles if a.brand_id == brand}
    assert {a.brand_id for a in api.data.articles if a.id in await feed_ids(api, brand=brand)} == {brand}
    mall = api.data.malls[0].id
    in_mall = brands_in(api, mall)
    expected = {a.id for a in api.data.articles if a.brand_id in in_mall}
    got = set(await feed_ids(api, mall=mall))
    assert expected <= got
    assert not {a.id for a in api.data.articles if a.brand_id not in in_mall} & got
    node = (await api.gql(FEED, {"first": 1, "mall": mall}))["articles"]["edges"][0]["node"]
    assert all(p["store"]["mallId"] == mall for p in node["products"])


async def test_feed_pages_follow_cursors_without_overlap(api: ApiStack) -> None:
    first = (await api.gql(FEED, {"first": 4}))["articles"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (await api.gql(FEED, {"first": 4, "after": first["pageInfo"]["endCursor"]}))["articles"]
    ids1 = [e["node"]["id"] for e in first["edges"]]
    ids2 = [e["node"]["id"] for e in second["edges"]]
    assert len(ids1) == 4 and ids2 and not set(ids1) & set(ids2)
    assert ids1 + ids2 == (await feed_ids(api))[: len(ids1) + len(ids2)]
    assert await refused(api, FEED, {"first": 4, "after": "garbage"}, None) == ["INVALID_ARGUMENT"]
    assert await refused(api, FEED, {"first": 4, "lat": 31.2}, None) == ["INVALID_ARGUMENT"]
    assert await refused(api, FEED, {"first": 4, "lat": 95.0, "lng": 0.0}, None) == ["INVALID_ARGUMENT"]


async def test_covers_are_generated_svgs_in_a_colour_fixed_by_the_id(api: ApiStack) -> None:
    article = api.data.articles[0]
    response = await api.client.get(f"/media/covers/{article.id}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg") and article.title[:5] in response.text
    again = await api.client.get(f"/media/covers/{article.id}.svg")
    assert again.text == response.text
    assert (await api.client.get("/media/covers/art-nope.svg")).status_code == 404


# ---------------------------------------------------------------- likes


async def test_a_like_counts_once_and_shows_in_my_liked_articles_only(api: ApiStack) -> None:
    article = await new_article(api, api.data.brands[0].id)
    me, other = await api.new_shopper(), await api.new_shopper()
    first = (await api.gql(LIKE, {"id": article}, token=me))["likeArticle"]
    again = (await api.gql(LIKE, {"id": article}, token=me))["likeArticle"]
    assert first == again == {"id": article, "likeCount": 1, "likedByMe": True}
    seen_by_other = (await api.gql(ONE, {"id": article}, token=other))["article"]
    assert (seen_by_other["likeCount"], seen_by_other["likedByMe"]) == (1, False)
    assert [n["id"] for n in (await api.gql(MY_LIKED, token=me))["myLikedArticles"]["nodes"]] == [article]
    assert (await api.gql(MY_LIKED, token=other))["myLikedArticles"]["nodes"] == []
    for _ in range(2):
        gone = (await api.gql(UNLIKE, {"id": article}, token=me))["unlikeArticle"]
        assert gone == {"id": article, "likeCount": 0, "likedByMe": False}
    assert (await api.gql(MY_LIKED, token=me))["myLikedArticles"]["nodes"] == []


async def test_ten_concurrent_likes_count_once_and_emit_one_like_event(api: ApiStack) -> None:
    article = await new_article(api, api.data.brands[1].id)
    me = await api.new_shopper()
    results = await asyncio.gather(*(api.gql(LIKE, {"id": article}, token=me) for _ in range(10)))
    assert {r["likeArticle"]["likeCount"] for r in results} == {1}
    assert (await api.gql(ONE, {"id": article}))["article"]["likeCount"] == 1
    events = [e for e in await api.bus_events() if e.get("target_id") == article]
    assert [(e["type"], e["action"], e["target_type"]) for e in events] == [
        ("interaction", "like", "article")
    ]


async def test_only_shoppers_like_and_only_shown_articles(api: ApiStack) -> None:
    article = api.data.articles[0].id
    assert await refused(api, LIKE, {"id": article}, None) == ["UNAUTHENTICATED"]
    assert await refused(api, MY_LIKED, {}, None) == ["UNAUTHENTICATED"]
    staff = await api.login(staff_logins(api, api.data.articles[0].brand_id)[0])
    assert await refused(api, LIKE, {"id": article}, staff) == ["FORBIDDEN"]
    me = await api.new_shopper()
    assert await refused(api, LIKE, {"id": "art-missing"}, me) == ["NOT_FOUND"]
    draft = await new_article(api, api.data.brands[0].id, publish=False)
    assert await refused(api, LIKE, {"id": draft}, me) == ["NOT_FOUND"]


# ---------------------------------------------------------------- share links


async def test_staff_share_links_carry_their_attribution_for_order_attribution(api: ApiStack) -> None:
    article = api.data.articles[0]
    staff_account = next(a for a in api.data.accounts if a.role == "staff" and a.brand_id == article.brand_id)
    staff = await api.login(staff_account.id)
    link = (await api.gql(SHARE, {"id": article.id}, token=staff))["shareArticle"]
    assert link["attributedStaffId"] == staff_account.staff_id
    assert len(link["code"]) >= 16 and link["code"] in link["url"] and link["code"] in link["path"]
    doc = await api.services.container.documents.find_one("share_links", {"_id": link["code"]})
    assert doc is not None
    assert {k: v for k, v in doc.items() if k != "created_ms"} == {
        "_id": link["code"], "target_type": "article", "target_id": article.id,
        "staff_id": staff_account.staff_id, "member_id": None,
    }  # fmt: skip
    resolved = (await api.gql(RESOLVE, {"c": link["code"]}))["shareLink"]
    assert resolved["article"]["id"] == article.id
    assert resolved["attributedStaffId"] == staff_account.staff_id
    second = (await api.gql(SHARE, {"id": article.id}, token=staff))["shareArticle"]
    assert second["code"] != link["code"]


async def test_shopper_shares_are_unattributed_and_emit_a_share_event(api: ApiStack) -> None:
    article = api.data.articles[1]
    me = await api.new_shopper()
    link = (await api.gql(SHARE, {"id": article.id}, token=me))["shareArticle"]
    assert link["attributedStaffId"] is None
    doc = await api.services.container.documents.find_one("share_links", {"_id": link["code"]})
    assert doc is not None and doc["member_id"] and doc["staff_id"] is None
    shares = [
        e for e in await api.bus_events() if e.get("action") == "share" and e["user_id"] == doc["member_id"]
    ]
    assert [(e["target_type"], e["target_id"]) for e in shares] == [("article", article.id)]
    other_brand_staff = next(
        a.id for a in api.data.accounts if a.role == "staff" and a.brand_id != article.brand_id
    )
    foreign = await api.gql(SHARE, {"id": article.id}, token=await api.login(other_brand_staff))
    assert foreign["shareArticle"]["attributedStaffId"] is None
    assert await refused(api, SHARE, {"id": article.id}, None) == ["UNAUTHENTICATED"]
    assert await refused(api, RESOLVE, {"c": "no-such-code"}, None) == ["NOT_FOUND"]


# ---------------------------------------------------------------- comments


async def test_comments_are_cleaned_listed_oldest_first_and_bounded(api: ApiStack) -> None:
    article = await new_article(api, api.data.brands[0].id)
    me, other = await api.new_shopper(), await api.new_shopper()
    first = (await api.gql(ADD, {"a": article, "t": "  好看\x00吗\u202e？ \x07 "}, token=me))["addComment"]
    assert first["text"] == "好看吗？" and first["mine"] and not first["hidden"] and not first["flagged"]
    await api.gql(ADD, {"a": article, "t": "第二条"}, token=other)
    await api.gql(ADD, {"a": article, "t": "x" * 500}, token=other)
    page = (await api.gql(COMMENTS, {"a": article, "first": 2}, token=me))["comments"]
    assert [n["text"] for n in page["nodes"]] == ["好看吗？", "第二条"]
    assert [n["mine"] for n in page["nodes"]] == [True, False]
    rest = await api.gql(COMMENTS, {"a": article, "first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [n["text"] for n in rest["comments"]["nodes"]] == ["x" * 500]
    assert (await api.gql(ONE, {"id": article}))["article"]["commentCount"] == 3
    for text in ("   ", "\x00\x01", "y" * 501):
        assert await refused(api, ADD, {"a": article, "t": text}, me) == ["INVALID_ARGUMENT"]
    assert await refused(api, ADD, {"a": article, "t": "hi"}, None) == ["UNAUTHENTICATED"]
    assert await refused(api, ADD, {"a": "art-missing", "t": "hi"}, me) == ["NOT_FOUND"]


async def test_only_the_author_deletes_a_comment_and_my_comments_are_my_own(api: ApiStack) -> None:
    article = api.data.articles[2].id
    me, other = await api.new_shopper(), await api.new_shopper()
    mine = (await api.gql(ADD, {"a": article, "t": "我的评论"}, token=me))["addComment"]
    assert await refused(api, DELETE_COMMENT, {"id": mine["id"]}, other) == ["FORBIDDEN"]
    assert (await api.gql(MY_COMMENTS, token=other))["myComments"]["nodes"] == []
    assert [n["id"] for n in (await api.gql(MY_COMMENTS, token=me))["myComments"]["nodes"]] == [mine["id"]]
    assert await refused(api, MY_COMMENTS, {}, None) == ["UNAUTHENTICATED"]
    assert (await api.gql(DELETE_COMMENT, {"id": mine["id"]}, token=me))["deleteComment"] is True
    assert (await api.gql(MY_COMMENTS, token=me))["myComments"]["nodes"] == []
    assert await refused(api, DELETE_COMMENT, {"id": mine["id"]}, me) == ["NOT_FOUND"]


async def test_moderators_hide_comments_which_stay_visible_to_their_author(api: ApiStack) -> None:
    brand = single_mall_brand(api)
    article = await new_article(api, brand)
    me = await api.new_shopper()
    comment = (await api.gql(ADD, {"a": article, "t": "一般般"}, token=me))["addComment"]
    hide = {"id": comment["id"], "h": True, "r": "off-topic"}
    assert await refused(api, MODERATE_COMMENT, hide, await operator(api, outside_mall(api, brand))) == [
        "FORBIDDEN"
    ]
    assert await refused(api, MODERATE_COMMENT, hide, await admin(api, other_brand(api, brand))) == [
        "FORBIDDEN"
    ]
    assert await refused(api, MODERATE_COMMENT, hide, me) == ["FORBIDDEN"]
    staff = await api.login(staff_logins(api, brand)[0])
    assert await refused(api, MODERATE_COMMENT, hide, staff) == ["FORBIDDEN"]
    hidden = await api.gql(MODERATE_COMMENT, hide, token=await operator(api, inside_mall(api, brand)))
    assert hidden["moderateComment"]["hidden"] is True
    assert (await api.gql(COMMENTS, {"a": article, "first": 10}))["comments"]["nodes"] == []
    assert (await api.gql(ONE, {"id": article}))["article"]["commentCount"] == 0
    [mine] = (await api.gql(MY_COMMENTS, token=me))["myComments"]["nodes"]
    assert (mine["hidden"], mine["moderationReason"]) == (True, "off-topic")
    shown = {"id": comment["id"], "h": False}
    await api.gql(MODERATE_COMMENT, shown, token=await admin(api, brand))
    assert [n["id"] for n in (await api.gql(COMMENTS, {"a": article, "first": 10}))["comments"]["nodes"]] == [
        comment["id"]
    ]


async def test_blocklisted_comments_are_held_until_a_moderator_releases_them(api: ApiStack) -> None:
    brand = api.data.brands[1].id
    article = await new_article(api, brand)
    me = await api.new_shopper()
    held = (await api.gql(ADD, {"a": article, "t": "便宜代购 加 微 信"}, token=me))["addComment"]
    assert held["flagged"] is True and held["hidden"] is True
    assert (await api.gql(COMMENTS, {"a": article, "first": 10}))["comments"]["nodes"] == []
    [mine] = (await api.gql(MY_COMMENTS, token=me))["myComments"]["nodes"]
    assert mine["flagged"] and mine["hidden"]
    queue = (await api.gql(HELD, token=await admin(api, brand)))["heldComments"]["nodes"]
    assert held["id"] in [n["id"] for n in queue]
    other_queue = (await api.gql(HELD, token=await admin(api, other_brand(api, brand))))["heldComments"][
        "nodes"
    ]
    assert held["id"] not in [n["id"] for n in other_queue]
    assert await refused(api, HELD, {}, me) == ["FORBIDDEN"]
    mall_op = await operator(api, inside_mall(api, brand))
    await api.gql(MODERATE_COMMENT, {"id": held["id"], "h": False}, token=mall_op)
    assert [n["id"] for n in (await api.gql(COMMENTS, {"a": article, "first": 10}))["comments"]["nodes"]] == [
        held["id"]
    ]
    assert held["id"] not in [n["id"] for n in (await api.gql(HELD, token=mall_op))["heldComments"]["nodes"]]


# ---------------------------------------------------------------- publishing


async def test_drafts_are_invisible_until_published_and_gone_when_unpublished(api: ApiStack) -> None:
    brand = api.data.brands[0].id
    boss = await admin(api, brand)
    product_ids = products_of(api, brand)[:3]
    created = await api.gql(
        CREATE, {"in": {"title": " 春季新品 ", "body": "好看", "productIds": product_ids}}, boss
    )
    draft = created["createArticle"]
    assert (draft["status"], draft["title"], draft["authorStaffId"], draft["brandId"]) == (
        "DRAFT", "春季新品", None, brand,
    )  # fmt: skip
    assert [p["product"]["id"] for p in draft["products"]] == product_ids
    assert draft["id"] not in await feed_ids(api)
    assert await refused(api, ONE, {"id": draft["id"]}, None) == ["NOT_FOUND"]
    assert await refused(api, ONE, {"id": draft["id"]}, await api.new_shopper()) == ["NOT_FOUND"]
    staff = await api.login(staff_logins(api, brand)[0])
    assert (await api.gql(ONE, {"id": draft["id"]}, token=staff))["article"]["status"] == "DRAFT"
    assert draft["id"] in [
        n["id"] for n in (await api.gql(BRAND_ARTICLES, token=staff))["brandArticles"]["nodes"]
    ]
    foreign = await admin(api, other_brand(api, brand))
    assert await refused(api, ONE, {"id": draft["id"]}, foreign) == ["NOT_FOUND"]
    assert draft["id"] not in [
        n["id"] for n in (await api.gql(BRAND_ARTICLES, token=foreign))["brandArticles"]["nodes"]
    ]
    published = (await api.gql(PUBLISH, {"id": draft["id"]}, token=boss))["publishArticle"]
    assert published["status"] == "PUBLISHED" and published["publishedAtMs"] > 0
    assert (await feed_ids(api))[0] == draft["id"]
    await api.gql(UPDATE, {"id": draft["id"], "in": {"title": "春季新品（更新）"}}, token=boss)
    assert (await api.gql(ONE, {"id": draft["id"]}))["article"]["title"] == "春季新品（更新）"
    await api.gql(UNPUBLISH, {"id": draft["id"]}, token=boss)
    assert draft["id"] not in await feed_ids(api)
    assert (await api.gql(DELETE, {"id": draft["id"]}, token=boss))["deleteArticle"] is True
    assert await refused(api, ONE, {"id": draft["id"]}, boss) == ["NOT_FOUND"]


async def test_staff_articles_carry_their_author_and_only_they_or_the_admin_change_them(
    api: ApiStack,
) -> None:
    brand = api.data.brands[0].id
    author_login, colleague_login = staff_logins(api, brand)[:2]
    author = await api.login(author_login)
    article = await new_article(api, brand, token=author)
    node = (await api.gql(ONE, {"id": article}))["article"]
    author_staff = next(a.staff_id for a in api.data.accounts if a.id == author_login)
    assert node["authorStaffId"] == author_staff
    assert node["authorName"] == next(s.name for s in api.data.staff if s.id == author_staff)
    colleague = await api.login(colleague_login)
    assert await refused(api, UPDATE, {"id": article, "in": {"title": "改"}}, colleague) == ["FORBIDDEN"]
    updated = await api.gql(
        UPDATE, {"id": article, "in": {"body": "管理员改过"}}, token=await admin(api, brand)
    )
    assert updated["updateArticle"]["body"] == "管理员改过"
    assert (await api.gql(DELETE, {"id": article}, token=author))["deleteArticle"] is True


async def test_brand_a_cannot_touch_brand_b_articles_and_shoppers_cannot_publish(api: ApiStack) -> None:
    brand_a = api.data.brands[0].id
    brand_b = other_brand(api, brand_a)
    article = await new_article(api, brand_a)
    seeded = next(a.id for a in api.data.articles if a.brand_id == brand_a)
    intruders = [await admin(api, brand_b), await api.login(staff_logins(api, brand_b)[0])]
    for token in intruders:
        for target in (article, seeded):
            assert await refused(api, UPDATE, {"id": target, "in": {"title": "x"}}, token) == ["FORBIDDEN"]
            assert await refused(api, PUBLISH, {"id": target}, token) == ["FORBIDDEN"]
            assert await refused(api, UNPUBLISH, {"id": target}, token) == ["FORBIDDEN"]
            assert await refused(api, DELETE, {"id": target}, token) == ["FORBIDDEN"]
    shopper = await api.new_shopper()
    assert await refused(api, PUBLISH, {"id": article}, shopper) == ["FORBIDDEN"]
    assert await refused(api, DELETE, {"id": article}, shopper) == ["FORBIDDEN"]
    new = {"in": {"title": "t", "body": "b", "productIds": []}}
    assert await refused(api, CREATE, new, shopper) == ["FORBIDDEN"]
    assert await refused(api, CREATE, new, None) == ["UNAUTHENTICATED"]
    assert await refused(api, CREATE, new, await operator(api, api.data.malls[0].id)) == ["FORBIDDEN"]
    assert await refused(api, PUBLISH, {"id": "art-missing"}, await admin(api, brand_a)) == ["NOT_FOUND"]
    assert article in await feed_ids(api) and seeded in await feed_ids(api)


async def test_article_input_is_bounded_and_links_only_the_brands_products(api: ApiStack) -> None:
    brand = api.data.brands[0].id
    boss = await admin(api, brand)
    foreign_product = products_of(api, other_brand(api, brand))[0]
    bad_inputs = [
        {"title": "t" * 61, "body": "b"},
        {"title": "  ", "body": "b"},
        {"title": "t", "body": ""},
        {"title": "t", "body": "b" * 5001},
        {"title": "t", "body": "b", "productIds": [foreign_product]},
        {"title": "t", "body": "b", "productIds": ["sku-999999"]},
    ]
    for bad in bad_inputs:
        assert await refused(api, CREATE, {"in": bad}, boss) == ["INVALID_ARGUMENT"], bad
    ok = (await api.gql(CREATE, {"in": {"title": "t" * 60, "body": "b" * 5000}}, token=boss))["createArticle"]
    assert await refused(api, UPDATE, {"id": ok["id"], "in": {"productIds": [foreign_product]}}, boss) == [
        "INVALID_ARGUMENT"
    ]
    await api.gql(DELETE, {"id": ok["id"]}, token=boss)


async def test_a_mall_operator_hides_articles_of_a_brand_wholly_in_their_mall(api: ApiStack) -> None:
    brand = single_mall_brand(api)
    article = await new_article(api, brand)
    liker = await api.new_shopper()
    await api.gql(LIKE, {"id": article}, token=liker)
    hide = {"id": article, "h": True, "r": "虚假宣传"}
    assert await refused(api, MODERATE, hide, await operator(api, outside_mall(api, brand))) == ["FORBIDDEN"]
    assert await refused(api, MODERATE, hide, await admin(api, other_brand(api, brand))) == ["FORBIDDEN"]
    assert await refused(api, MODERATE, hide, await api.login(staff_logins(api, brand)[0])) == ["FORBIDDEN"]
    assert await refused(api, MODERATE, hide, liker) == ["FORBIDDEN"]
    mall_op = await operator(api, inside_mall(api, brand))
    hidden = (await api.gql(MODERATE, hide, token=mall_op))["moderateArticle"]
    assert hidden == {"id": article, "hidden": True, "hiddenReason": "虚假宣传"}
    assert article not in await feed_ids(api)
    assert await refused(api, ONE, {"id": article}, liker) == ["NOT_FOUND"]
    assert (await api.gql(MY_LIKED, token=liker))["myLikedArticles"]["nodes"] == []
    assert (await api.gql(ONE, {"id": article}, token=mall_op))["article"]["hidden"] is True
    assert (await api.gql(ONE, {"id": article}, token=await admin(api, brand)))["article"]["hidden"] is True
    await api.gql(MODERATE, {"id": article, "h": False}, token=mall_op)
    assert article in await feed_ids(api)
    assert [n["id"] for n in (await api.gql(MY_LIKED, token=liker))["myLikedArticles"]["nodes"]] == [article]


async def test_articles_of_a_brand_in_several_malls_are_moderated_by_its_brand_admin_not_one_mall(
    api: ApiStack,
) -> None:
    brand = spread_brand(api)
    article = await new_article(api, brand)
    hide = {"id": article, "h": True, "r": "虚假宣传"}
    for mall in malls_of(api, brand):
        failure = await failed(api, MODERATE, hide, await operator(api, mall))
        assert failure.codes == ["FORBIDDEN"]
        assert "brand admin" in failure.errors[0]["message"]
    assert article in await feed_ids(api)
    boss = await admin(api, brand)
    assert (await api.gql(MODERATE, hide, token=boss))["moderateArticle"]["hidden"] is True
    assert article not in await feed_ids(api)
    await api.gql(MODERATE, {"id": article, "h": False}, token=boss)
    assert article in await feed_ids(api)


async def test_comments_on_a_brand_in_several_malls_are_moderated_by_its_brand_admin_only(
    api: ApiStack,
) -> None:
    brand = spread_brand(api)
    article = await new_article(api, brand)
    me = await api.new_shopper()
    comment = (await api.gql(ADD, {"a": article, "t": "一般般"}, token=me))["addComment"]
    held = (await api.gql(ADD, {"a": article, "t": "加 微 信 代购"}, token=me))["addComment"]
    hide = {"id": comment["id"], "h": True, "r": "off-topic"}
    for mall in malls_of(api, brand):
        mall_op = await operator(api, mall)
        failure = await failed(api, MODERATE_COMMENT, hide, mall_op)
        assert failure.codes == ["FORBIDDEN"] and "brand admin" in failure.errors[0]["message"]
        release = {"id": held["id"], "h": False}
        assert await refused(api, MODERATE_COMMENT, release, mall_op) == ["FORBIDDEN"]
        queue = (await api.gql(HELD, token=mall_op))["heldComments"]["nodes"]
        assert held["id"] not in [n["id"] for n in queue]
    assert [n["id"] for n in (await api.gql(COMMENTS, {"a": article, "first": 10}))["comments"]["nodes"]] == [
        comment["id"]
    ]
    boss = await admin(api, brand)
    assert (await api.gql(MODERATE_COMMENT, hide, token=boss))["moderateComment"]["hidden"] is True
    assert (await api.gql(COMMENTS, {"a": article, "first": 10}))["comments"]["nodes"] == []
    assert (await api.gql(ONE, {"id": article}))["article"]["commentCount"] == 0


async def test_deleting_an_article_removes_its_likes_and_comments(api: ApiStack) -> None:
    brand = api.data.brands[0].id
    article = await new_article(api, brand)
    me = await api.new_shopper()
    await api.gql(LIKE, {"id": article}, token=me)
    await api.gql(ADD, {"a": article, "t": "赞"}, token=me)
    await api.gql(DELETE, {"id": article}, token=await admin(api, brand))
    assert (await api.gql(MY_LIKED, token=me))["myLikedArticles"]["nodes"] == []
    assert (await api.gql(MY_COMMENTS, token=me))["myComments"]["nodes"] == []


async def test_feed_liked_and_comment_pages_read_at_most_one_batch_each(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await api.new_shopper()
    articles = await feed_ids(api)
    for article in articles[:3]:
        await api.gql(LIKE, {"id": article}, token=me)
    for text in ("好看", "想买", "同款"):
        await api.gql(ADD, {"a": articles[0], "t": text}, token=me)
    await api.gql(FEED, {"first": 50}, token=me)  # warm
    counted = QueryCount(api, monkeypatch)
    nodes = [e["node"] for e in (await api.gql(FEED, {"first": 50}, token=me))["articles"]["edges"]]
    assert {n["id"] for n in nodes if n["likedByMe"]} == set(articles[:3])
    assert counted.calls == []
    liked = (await api.gql(MY_LIKED, token=me))["myLikedArticles"]["nodes"]
    assert {n["id"] for n in liked} == set(articles[:3])
    assert counted.calls == []
    page = (await api.gql(COMMENTS, {"a": articles[0], "first": 50}, token=me))["comments"]["nodes"]
    assert [n["text"] for n in page][-3:] == ["好看", "想买", "同款"]
    assert sorted(counted.calls) == ["find comments", "find members"]
