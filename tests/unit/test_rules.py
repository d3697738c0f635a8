from __future__ import annotations

from guang.services.catalog import CatalogProduct
from recsys.arms import ARM_RULES
from recsys.rules import RuleConfig, diversify, drop_bought, drop_capped

CONFIG = RuleConfig()


def product(pid: str, category: str, brand: str = "b1") -> CatalogProduct:
    return CatalogProduct(pid, 0, pid, category, brand, "品牌", "all", 9900, 0)


def test_bought_items_never_reappear_unless_they_run_out() -> None:
    ranked = [(product("a", "外套"), 1.0), (product("b", "咖啡豆"), 0.9), (product("c", "外套"), 0.8)]
    kept = drop_bought(ranked, {"a", "b"}, CONFIG)
    assert [p.id for p, _ in kept] == ["b", "c"]


def test_an_item_shown_to_the_cap_today_is_dropped() -> None:
    ranked = [(product("a", "外套"), 1.0), (product("b", "外套"), 0.9)]
    assert [p.id for p, _ in drop_capped(ranked, {"a": 3, "b": 2}, CONFIG)] == ["b"]


def test_two_items_of_one_brand_do_not_crowd_the_top_of_a_diversified_list() -> None:
    ranked = [
        (product("a1", "外套", "brand-a"), 1.00),
        (product("a2", "外套", "brand-a"), 0.99),
        (product("b1", "衬衫", "brand-b"), 0.90),
        (product("a3", "外套", "brand-a"), 0.98),
    ]
    top = diversify(ranked, 3, CONFIG)
    assert [p.id for p, _ in top] == ["a1", "b1", "a2"]


def test_strong_interest_still_leads_a_diversified_list() -> None:
    ranked = [(product(f"j{n}", "牛仔裤"), 1.3 - n * 0.01) for n in range(5)] + [(product("t", "T恤"), 0.4)]
    assert [p.category for p, _ in diversify(ranked, 3, CONFIG)] == ["牛仔裤"] * 3


def test_the_treatment_arm_brings_another_category_up_where_control_keeps_one() -> None:
    jeans = [(product(f"j{n}", "牛仔裤"), 1.0 - n * 0.01) for n in range(5)]
    ranked = [*jeans, (product("t", "T恤", "b2"), 0.5)]
    assert [p.id for p, _ in diversify(ranked, 3, ARM_RULES["control"])] == ["j0", "j1", "j2"]
    assert [p.id for p, _ in diversify(ranked, 3, ARM_RULES["treatment"])] == ["j0", "j1", "t"]
