"""Pure rules of 种草 content: text cleaning, the blocklist, who may do what, store choice, covers."""

from __future__ import annotations

import pytest

from guang.accounts.models import Principal, Role
from guang.content.cover import colours, render_cover, wrap
from guang.content.rules import (
    can_manage,
    can_see,
    is_flagged,
    moderation_refusal,
    pick_store,
    reason_text,
)
from guang.domain.errors import Invalid
from guang.domain.models import Article, GeoPoint
from guang.domain.text import bounded, clean_text

STAFF_A = Principal("staff-1", Role.STAFF, store_id="s1", brand_id="brand-a")
COLLEAGUE_A = Principal("staff-2", Role.STAFF, store_id="s1", brand_id="brand-a")
ADMIN_A = Principal("brand-openid-a", Role.BRAND_ADMIN, brand_id="brand-a")
ADMIN_B = Principal("brand-openid-b", Role.BRAND_ADMIN, brand_id="brand-b")
OPERATOR = Principal("mall-openid-1", Role.MALL_OPERATOR, mall_id="mall-1")
SHOPPER = Principal("m-1", Role.SHOPPER)


def article(**changes: object) -> Article:
    base = Article(
        id="art-1", title="t", body="b", author_staff_id="staff-1", brand_id="brand-a", product_ids=[],
        published_ms=1,
    )  # fmt: skip
    return base.model_copy(update=changes)


def test_clean_text_drops_control_and_bidi_characters_and_trims() -> None:
    assert clean_text("  a\x00b\u202ec\x1b \t", multiline=True) == "abc"
    assert clean_text("line1\r\nline2\n\n\n\nline3", multiline=True) == "line1\nline2\n\nline3"
    assert clean_text("one\ntwo", multiline=False) == "one two"
    assert clean_text("表情👍\u200d", multiline=False) == "表情👍\u200d"


def test_bounded_refuses_empty_and_oversized_text_counting_characters() -> None:
    assert bounded("  好  ", what="x", max_len=1, multiline=False) == "好"
    with pytest.raises(Invalid):
        bounded(" \x00 ", what="x", max_len=5, multiline=False)
    with pytest.raises(Invalid):
        bounded("好" * 6, what="x", max_len=5, multiline=False)
    assert reason_text("   ") is None
    with pytest.raises(Invalid):
        reason_text("r" * 201)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [("好看！", False), ("加微信领券", True), ("加 微\t信", True), ("FuCk", True), ("代 购", True)],
)
def test_blocklist_ignores_case_and_whitespace(text: str, flagged: bool) -> None:
    assert is_flagged(text) is flagged


def test_only_the_brand_admin_or_the_authoring_staff_manage_an_article() -> None:
    a = article()
    assert can_manage(ADMIN_A, a) and can_manage(STAFF_A, a)
    assert not can_manage(COLLEAGUE_A, a)
    assert not can_manage(ADMIN_B, a) and not can_manage(OPERATOR, a) and not can_manage(SHOPPER, a)
    assert not can_manage(
        Principal("staff-9", Role.STAFF, brand_id="brand-b"), article(author_staff_id="staff-9")
    )


def test_drafts_are_seen_by_their_brand_and_hidden_articles_also_by_their_mall() -> None:
    draft, hidden = article(status="draft"), article(hidden=True)
    assert can_see(None, article()) and can_see(SHOPPER, article())
    for a in (draft, hidden):
        assert not can_see(None, a) and not can_see(SHOPPER, a) and not can_see(ADMIN_B, a)
        assert can_see(ADMIN_A, a) and can_see(COLLEAGUE_A, a)
    assert can_see(OPERATOR, hidden, {"brand-a"}) and not can_see(OPERATOR, hidden, {"brand-b"})
    assert not can_see(OPERATOR, draft, {"brand-a"})


def test_pick_store_prefers_the_nearest_stocked_store_then_the_mall_then_stock() -> None:
    near, far = GeoPoint.at(lat=31.23, lng=121.47), GeoPoint.at(lat=31.30, lng=121.50)
    stores = [("s-far", 50, far, "mall-2"), ("s-near", 3, near, "mall-1"), ("s-empty", 0, near, "mall-1")]
    store, distance = pick_store(stores, lat=31.2301, lng=121.4701, mall_id=None) or ("", None)
    assert store == "s-near" and distance is not None and distance < 20
    assert pick_store(stores, lat=None, lng=None, mall_id=None) == ("s-far", None)
    assert pick_store(stores, lat=None, lng=None, mall_id="mall-1") == ("s-near", None)
    assert pick_store(stores, lat=None, lng=None, mall_id="mall-9") == ("s-far", None)
    assert pick_store([("s-empty", 0, near, "mall-1")], lat=None, lng=None, mall_id=None) is None


def test_covers_are_deterministic_escaped_svgs() -> None:
    assert colours("art-0001") == colours("art-0001")
    assert len({colours(f"art-{i:04d}") for i in range(50)}) > 1
    svg = render_cover(article_id="art-1", title='<b>"甜酷"</b> & 更多', category="牛仔裤")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "&amp;" in svg and "# 牛仔裤" in svg
    assert wrap("一二三四五", width=2, lines=2) == ["一二", "三…"]
    assert wrap("", width=2) == [""]


def test_a_mall_operator_moderates_a_brand_only_when_every_store_of_it_is_in_their_mall() -> None:
    assert moderation_refusal(OPERATOR, "brand-a", {"mall-1"}) is None
    spread = moderation_refusal(OPERATOR, "brand-a", {"mall-1", "mall-2"})
    assert spread is not None and "brand admin" in spread and "other malls" in spread
    elsewhere = moderation_refusal(OPERATOR, "brand-a", {"mall-2"})
    assert elsewhere is not None and "brand admin" in elsewhere
    assert moderation_refusal(OPERATOR, "brand-a", set()) is not None


def test_brand_admins_moderate_their_own_brand_only_and_others_never() -> None:
    assert moderation_refusal(ADMIN_A, "brand-a", {"mall-1", "mall-2"}) is None
    assert moderation_refusal(ADMIN_B, "brand-a", {"mall-1"}) is not None
    for who in (STAFF_A, SHOPPER):
        assert moderation_refusal(who, "brand-a", {"mall-1"}) is not None
