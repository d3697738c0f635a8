"""The mall view assembled from each shown store's windowed figures (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from guang.dashboard.models import Bucket, MallDashboard, MallStoreRow, StoreTotals, TrendingItem
from guang.domain.models import Brand, Mall, Store


def mall_view(
    *,
    mall: Mall,
    brands: Mapping[str, Brand],
    stores: Sequence[Store],
    totals: Mapping[str, StoreTotals],
    starts: Sequence[int],
    bucket_ms: int,
    trending: list[TrendingItem],
    now: int,
) -> MallDashboard:
    """One row per store (busiest first, ties by id) and the rows summed per bucket."""
    rows = []
    for store in stores:
        figures = totals.get(store.id, StoreTotals())
        brand = brands.get(store.brand_id)
        rows.append(
            MallStoreRow(
                store_id=store.id,
                name=store.name,
                brand_id=store.brand_id,
                brand_name=brand.name if brand is not None else "",
                visitors=sum(figures.footfall.get(b, 0) for b in starts),
                payers=sum(figures.payers.get(b, 0) for b in starts),
                redemptions=sum(figures.redemptions.get(b, 0) for b in starts),
            )
        )
    buckets = [
        Bucket(
            start,
            sum(totals[s.id].footfall.get(start, 0) for s in stores if s.id in totals),
            sum(totals[s.id].payers.get(start, 0) for s in stores if s.id in totals),
            sum(totals[s.id].redemptions.get(start, 0) for s in stores if s.id in totals),
        )
        for start in starts
    ]
    return MallDashboard(
        mall_id=mall.id,
        mall_name=mall.name,
        bucket_ms=bucket_ms,
        buckets=buckets,
        stores=sorted(rows, key=lambda r: (-r.visitors, -r.payers, r.store_id)),
        trending=trending,
        generated_ms=now,
    )
