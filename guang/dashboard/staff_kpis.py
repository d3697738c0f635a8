"""Staff performance on the store dashboard, from data that is already recorded.

Per staff member, all time:
- `orders`, `sales_fen`, `commission_fen`: the dataflow's guide ledger (stream/purchases.py), where every
  order carrying their `guide_id` (checkout through their share link, or a till sale) counts once.
- `share_links`: share links they created (collection `share_links`, `staff_id`).
- `posts`: their 店员说 posts that shoppers see (published and not hidden).
- `clients`: shoppers who added them as advisor through 向TA咨询 (collection `advisors`).
- `share_rate`: share links ÷ clients — how often they reach out to their client book (0 without clients).
- `conversion`: attributed orders ÷ share links — orders per link shared (0 without links). Visits of a
  share link are not recorded, so links stand in for them; a till sale attributed to the guide without a
  link also counts, so the figure can pass 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guang.adapters.ports import DocumentStore
from guang.content.models import SHARE_LINKS
from guang.dashboard.models import GuideFigures
from guang.domain.models import Staff
from guang.staff.models import SHOWN_POSTS
from guang.staff.service import ADVISORS, POSTS


@dataclass(frozen=True)
class Outreach:
    """What a staff member did to reach shoppers, counted from the documents."""

    share_links: int = 0
    posts: int = 0
    clients: int = 0


async def _count_by_staff(
    documents: DocumentStore, collection: str, staff_ids: Sequence[str], extra: Mapping[str, object]
) -> dict[str, int]:
    rows = await documents.aggregate(
        collection,
        [
            {"$match": {"staff_id": {"$in": list(staff_ids)}, **extra}},
            {"$group": {"_id": "$staff_id", "n": {"$sum": 1}}},
        ],
    )
    return {str(row["_id"]): int(row["n"]) for row in rows}


async def outreach(documents: DocumentStore, staff_ids: Sequence[str]) -> dict[str, Outreach]:
    """Share links, shown posts and clients of each staff member: three grouped counts, run together."""
    if not staff_ids:
        return {}
    links, posts, clients = await asyncio.gather(
        _count_by_staff(documents, SHARE_LINKS, staff_ids, {}),
        _count_by_staff(documents, POSTS, staff_ids, dict(SHOWN_POSTS)),
        _count_by_staff(documents, ADVISORS, staff_ids, {}),
    )
    return {
        s: Outreach(share_links=links.get(s, 0), posts=posts.get(s, 0), clients=clients.get(s, 0))
        for s in staff_ids
    }


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def guide_figures(person: Staff, ledger: Mapping[str, int], reach: Outreach) -> GuideFigures:
    """One staff member's row: the ledger's money figures with their outreach and the two ratios."""
    orders = ledger.get("orders", 0)
    return GuideFigures(
        staff_id=person.id,
        name=person.name,
        orders=orders,
        sales_fen=ledger.get("sales_fen", 0),
        commission_fen=ledger.get("commission_fen", 0),
        share_links=reach.share_links,
        posts=reach.posts,
        clients=reach.clients,
        share_rate=_ratio(reach.share_links, reach.clients),
        conversion=_ratio(orders, reach.share_links),
    )


def ranked(rows: Sequence[GuideFigures]) -> list[GuideFigures]:
    """Best sellers first, ties by staff id."""
    return sorted(rows, key=lambda g: (-g.sales_fen, g.staff_id))
