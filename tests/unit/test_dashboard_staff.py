"""Staff performance rows: the ledger's money figures with outreach, and the two ratios as documented."""

from __future__ import annotations

from guang.dashboard.staff_kpis import Outreach, guide_figures, ranked
from guang.domain.models import Staff


def person(staff_id: str, name: str) -> Staff:
    return Staff(id=staff_id, name=name, store_id="s1", title="导购", wecom_user_id=f"wecom-{staff_id}")


def test_a_row_combines_the_ledger_with_links_posts_and_clients() -> None:
    row = guide_figures(
        person("staff-1", "王芳"),
        {"orders": 3, "sales_fen": 89_700, "commission_fen": 2_691},
        Outreach(share_links=8, posts=2, clients=5),
    )
    assert (row.orders, row.sales_fen, row.commission_fen) == (3, 89_700, 2_691)
    assert (row.share_links, row.posts, row.clients) == (8, 2, 5)
    assert row.share_rate == 1.6  # 8 links for 5 clients
    assert row.conversion == 0.375  # 3 orders from 8 links


def test_without_links_or_clients_the_ratios_are_zero() -> None:
    row = guide_figures(person("staff-2", "李娜"), {"orders": 2}, Outreach())
    assert (row.orders, row.share_rate, row.conversion, row.sales_fen) == (2, 0.0, 0.0, 0)


def test_best_sellers_come_first_ties_by_id() -> None:
    rows = [
        guide_figures(person(s, s), {"sales_fen": fen}, Outreach())
        for s, fen in [("staff-3", 100), ("staff-1", 500), ("staff-2", 100)]
    ]
    assert [r.staff_id for r in ranked(rows)] == ["staff-1", "staff-2", "staff-3"]
