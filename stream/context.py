"""What the dataflow looks up while it runs, loaded once at start from the document store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from guang.bootstrap import Container
from guang.domain.models import Brand, Mall, Store
from guang.services.catalog import Catalog
from guang.settings import Settings


@dataclass(frozen=True)
class FlowContext:
    catalog: Catalog
    malls: list[Mall]
    stores: list[Store]
    commission_rate_by_store: dict[str, float]

    @property
    def zone_categories(self) -> dict[str, str]:
        return {z.id: z.category for z in self.catalog.zones.values() if z.kind == "shelf"}

    @property
    def till_zones(self) -> frozenset[str]:
        return frozenset(z.id for z in self.catalog.zones.values() if z.kind == "till")


async def _load(container: Container) -> FlowContext:
    try:
        documents = container.documents
        catalog = await Catalog.load(documents)
        malls = [Mall.model_validate(d) for d in await documents.find("malls")]
        stores = [Store.model_validate(d) for d in await documents.find("stores")]
        brands = {b.id: b for b in (Brand.model_validate(d) for d in await documents.find("brands"))}
        rates = {s.id: brands[s.brand_id].guide_commission_rate for s in stores if s.brand_id in brands}
        return FlowContext(catalog, malls, stores, rates)
    finally:
        await container.aclose()


def load_context(settings: Settings) -> FlowContext:
    return asyncio.run(_load(Container(settings)))
