"""Live coupons as a candidate source for the recommender: for each store, the best coupon usable there.

Read from the document store at most every `ttl_s` (recommendations must not query coupons per request);
the snapshot object stays the same between refreshes, so the recommender can cache what it derives."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from guang.adapters.ports import DocumentStore
from guang.coupons import rules
from guang.coupons.service import live_coupons
from guang.services.catalog import Catalog
from recsys.candidates import Deal

log = logging.getLogger(__name__)
NO_DEAL = Deal(title="", min_spend_fen=0, discount_fen=0)


class DealBoard:
    def __init__(self, *, documents: DocumentStore, catalog: Catalog, ttl_s: float = 30.0) -> None:
        self._documents = documents
        self._catalog = catalog
        self._ttl_s = ttl_s
        self._snapshot: Mapping[str, Deal] = {}
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def by_store(self) -> Mapping[str, Deal]:
        """Store id → the live standard coupon with stock that saves the most there."""
        if time.monotonic() - self._read_at < self._ttl_s:
            return self._snapshot
        async with self._lock:
            if time.monotonic() - self._read_at >= self._ttl_s:
                try:
                    self._snapshot = await self._read()
                except Exception as error:  # recommendations go on with the last snapshot, never fail
                    log.warning(
                        "live coupons unreadable, keeping the last %d deals: %s", len(self._snapshot), error
                    )
                self._read_at = time.monotonic()
        return self._snapshot

    async def _read(self) -> Mapping[str, Deal]:
        best: dict[str, Deal] = {}
        for coupon in await live_coupons(self._documents, in_stock=True):
            deal = Deal(
                title=coupon.title, min_spend_fen=coupon.min_spend_fen, discount_fen=coupon.discount_fen
            )
            for store in self._catalog.stores.values():
                if (
                    rules.applies_to(coupon, store)
                    and deal.discount_fen > best.get(store.id, NO_DEAL).discount_fen
                ):
                    best[store.id] = deal
        return best
