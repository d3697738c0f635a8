"""Degraded serving (DESIGN §5): when live features or vectors do not answer, popular lists from memory
instead of an error, and a record of it for /readyz and /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from guang.services.catalog import Catalog
from recsys.models import Audience, RecItem, RecList, Surface

InStock = Callable[[], Awaitable[Mapping[str, Sequence[str]]]]
"""Store id → in-stock SKU ids, most popular first (the store directory's snapshot, kept in memory)."""


@dataclass
class ServingHealth:
    """Whether lists are currently served degraded, since when and why, and how many were."""

    degraded_since_ms: int | None = None
    reason: str = ""
    degraded_lists: int = 0

    @property
    def degraded(self) -> bool:
        return self.degraded_since_ms is not None

    def failed(self, reason: str) -> None:
        if self.degraded_since_ms is None:
            self.degraded_since_ms = int(time.time() * 1000)
        self.reason = reason
        self.degraded_lists += 1

    def recovered(self) -> None:
        self.degraded_since_ms = None
        self.reason = ""


class PopularLists:
    def __init__(self, catalog: Catalog, in_stock: InStock | None = None, *, new_rec_id: Callable[[], str]):
        self._catalog = catalog
        self._in_stock = in_stock
        self._new_rec_id = new_rec_id
        ranked = sorted(catalog.products.values(), key=lambda p: (-p.popularity, p.id))
        self.best = [p.id for p in ranked]
        """The whole catalog, most popular first (ties by id)."""

    async def for_store(self, store_id: str, *, limit: int, surface: Surface) -> RecList:
        stocked = (await self._in_stock()).get(store_id, ()) if self._in_stock is not None else ()
        return self._list(stocked, limit, surface, "本店热销", store_id)

    def everywhere(self, *, limit: int, surface: Surface) -> RecList:
        return self._list(self.best, limit, surface, "大家都在买", None)

    def _list(
        self, skus: Sequence[str], limit: int, surface: Surface, reason: str, store_id: str | None
    ) -> RecList:
        products = [p for sku in skus[: limit * 2] if (p := self._catalog.products.get(sku))][:limit]
        return RecList(
            rec_id=self._new_rec_id(),
            surface=surface,
            audience=Audience.STORE_BEST,
            items=[RecItem(product=p, score=0.0, reason=reason) for p in products],
            store_id=store_id,
            generated_ms=int(time.time() * 1000),
            degraded=True,
        )
