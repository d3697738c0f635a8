"""Client groups and the tag accuracy audit on a scripted client book, with exact expected figures."""

from __future__ import annotations

import pytest

from guang.clienteling.library import DEFAULT_BY_ID
from guang.clienteling.models import ClientSource, ClientTag, TagGroup
from guang.clienteling.rules import (
    DAY_MS,
    ClientFacts,
    Marked,
    Purchase,
    audit,
    confirmed,
    members,
    parse_rule,
    tag_ids_of,
)
from guang.domain.errors import Invalid

NOW = 1_750_000_000_000


def ago(days: float) -> int:
    return NOW - int(days * DAY_MS)


def buy(order: str, days: float, category: str, yuan: int, qty: int = 1) -> Purchase:
    return Purchase(order_id=order, paid_ms=ago(days), category=category, unit_price_fen=yuan * 100, qty=qty)


DENIM, COMMUTE, LOW, HIGH, SIZE_M = (
    "std-category-denim", "std-style-commute", "std-budget-low", "std-budget-high", "std-size-m"
)  # fmt: skip

BOOK = [
    # bought jeans 10 days ago, not seen for 40 days: in the denim win-back group
    ClientFacts(
        "ann", frozenset({DENIM}), (buy("o1", 10, "牛仔裤", 399),), ago(40), frozenset({ClientSource.ADVISOR})
    ),
    # bought jeans 120 days ago: too long ago
    ClientFacts("bo", frozenset({DENIM}), (buy("o2", 120, "牛仔裤", 299),), ago(45)),
    # bought jeans recently but was seen 3 days ago
    ClientFacts("cy", frozenset(), (buy("o3", 30, "牛仔裤", 499),), ago(3)),
    # never seen, bought jeans 89 days ago (with a shirt): in
    ClientFacts("di", frozenset({COMMUTE}), (buy("o4", 89, "牛仔裤", 199), buy("o4", 89, "衬衫", 259)), None),
    # no jeans at all
    ClientFacts("ed", frozenset({DENIM}), (buy("o5", 5, "衬衫", 1299, qty=2),), ago(60)),
]  # fmt: skip


def test_bought_denim_in_90_days_not_seen_in_30() -> None:
    rule = parse_rule({"all": [{"bought_category": "牛仔", "within_days": 90}, {"not_seen_days": 30}]})
    assert members(rule, BOOK, now_ms=NOW) == ["ann", "di"]


def test_tags_combine_with_any_and_not() -> None:
    rule = parse_rule(
        {
            "all": [
                {"tag": DENIM},
                {"not": {"any": [{"seen_within_days": 42}, {"min_orders": 1, "within_days": 7}]}},
            ]
        }
    )
    assert members(rule, BOOK, now_ms=NOW) == ["bo"]
    assert tag_ids_of(rule) == {DENIM}
    assert members(parse_rule({"tag": DENIM}), BOOK, now_ms=NOW) == ["ann", "bo", "ed"]
    assert members(parse_rule({"source": "advisor"}), BOOK, now_ms=NOW) == ["ann"]
    assert members(parse_rule({"min_orders": 1, "within_days": 30}), BOOK, now_ms=NOW) == ["ann", "cy", "ed"]


@pytest.mark.parametrize(
    "raw",
    [
        None, [], {}, {"all": []}, {"all": {"tag": "x"}}, {"colour": "red"}, {"tag": ""},
        {"not_seen_days": 0}, {"not_seen_days": "30"}, {"not_seen_days": True},
        {"tag": "x", "within_days": 3},
        {"source": "walk-in"}, {"bought_category": "牛仔", "within_days": 99999},
        {"all": [{"all": [{"all": [{"all": [{"all": [{"tag": "x"}]}]}]}]}]},
        {"any": [{"tag": str(i)} for i in range(21)]},
    ],
)  # fmt: skip
def test_malformed_rules_are_refused_with_a_reason(raw: object) -> None:
    with pytest.raises(Invalid):
        parse_rule(raw)


def test_a_tag_is_confirmed_by_a_majority_of_the_units_bought() -> None:
    denim = DEFAULT_BY_ID[DENIM]
    assert confirmed(denim, [buy("a", 1, "牛仔裤", 300), buy("a", 1, "T恤", 99)]) is True
    assert confirmed(denim, [buy("a", 1, "牛仔裤", 300), buy("a", 1, "T恤", 99, qty=2)]) is False
    assert confirmed(denim, []) is None
    high = DEFAULT_BY_ID[HIGH]
    assert confirmed(high, [buy("a", 1, "外套", 1000)]) is True
    assert confirmed(high, [buy("a", 1, "外套", 999)]) is False


def test_audit_gives_precision_per_tag_and_per_staff_member() -> None:
    purchases = {
        "m1": [buy("o1", 5, "牛仔裤", 399)],                      # denim ✓, low ✗, commute ✗
        "m2": [buy("o2", 5, "衬衫", 259), buy("o2", 5, "牛仔裤", 199)],  # denim ✓ (1 of 2), commute ✓, low ✓
        "m3": [buy("o3", 5, "T恤", 99, qty=3)],                   # denim ✗, low ✓
        "m4": [],                                                 # unverified
    }  # fmt: skip
    marks = [
        Marked("li", "m1", DENIM), Marked("li", "m2", DENIM), Marked("li", "m3", DENIM),
        Marked("li", "m4", DENIM),
        Marked("li", "m1", LOW), Marked("li", "m3", LOW),
        Marked("wang", "m2", COMMUTE), Marked("wang", "m1", COMMUTE), Marked("wang", "m2", LOW),
        Marked("wang", "m1", SIZE_M), Marked("wang", "m2", SIZE_M), Marked("wang", "m3", "bt-unknown"),
    ]  # fmt: skip
    result = audit(marks, tags=DEFAULT_BY_ID, purchases=purchases)
    li_denim = result.by_staff_tag[("li", DENIM)]
    assert (li_denim.tagged, li_denim.confirmed, li_denim.contradicted, li_denim.unverified) == (4, 2, 1, 1)
    assert li_denim.precision == pytest.approx(2 / 3)
    assert result.by_staff_tag[("li", LOW)].precision == pytest.approx(1 / 2)
    assert result.by_staff["li"].precision == pytest.approx(3 / 5)
    assert (result.by_staff["li"].tagged, result.by_staff["li"].unverified) == (6, 1)
    assert result.by_staff["wang"].precision == pytest.approx(2 / 3)
    assert result.by_tag[LOW].precision == pytest.approx(2 / 3)
    assert result.by_tag[COMMUTE].precision == pytest.approx(1 / 2)
    assert result.not_auditable == {SIZE_M: 2, "bt-unknown": 1}
    assert set(result.by_tag) == {DENIM, LOW, COMMUTE}


def test_a_brand_tag_with_a_price_band_and_categories_is_auditable() -> None:
    tag = ClientTag(id="bt-1", group=TagGroup.STYLE, name="轻奢外套", brand_id="b1", categories=["外套"],
                    min_price_fen=100_000)  # fmt: skip
    assert tag.auditable and not DEFAULT_BY_ID[SIZE_M].auditable
    assert confirmed(tag, [buy("a", 1, "外套", 1500)]) is True
    assert confirmed(tag, [buy("a", 1, "外套", 500)]) is False
    assert confirmed(tag, [buy("a", 1, "衬衫", 1500)]) is False
