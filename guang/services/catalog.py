"""An in-memory snapshot of what the recommender and the dataflow look up on every event or request."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from guang.adapters.ports import DocumentStore


@dataclass(frozen=True)
class CatalogProduct:
    id: str
    point_id: int
    name: str
    category: str
    brand_id: str
    brand_name: str
    season: str
    price_fen: int
    popularity: int


@dataclass(frozen=True)
class CatalogStore:
    id: str
    name: str
    brand_id: str
    mall_id: str


@dataclass(frozen=True)
class CatalogZone:
    id: str
    store_id: str
    name: str
    category: str
    kind: str = "shelf"


def point_id(sku_id: str) -> int:
    """Vector point ids are the numeric part of the SKU id (`sku-000123` → 123)."""
    return int(sku_id.rsplit("-", 1)[-1])


class Catalog:
    def __init__(
        self,
        products: list[CatalogProduct],
        stores: list[CatalogStore],
        zones: list[CatalogZone],
        centroids: dict[str, np.ndarray],
    ) -> None:
        self.products = {p.id: p for p in products}
        self.by_point = {p.point_id: p for p in products}
        self.stores = {s.id: s for s in stores}
        self.zones = {z.id: z for z in zones}
        self.centroids = centroids

    @classmethod
    async def load(cls, documents: DocumentStore) -> Catalog:
        brands = {b["id"]: b["name"] for b in await documents.find("brands", projection={"id": 1, "name": 1})}
        fields = {
            "id": 1,
            "name": 1,
            "category": 1,
            "brand_id": 1,
            "season": 1,
            "price_fen": 1,
            "popularity": 1,
        }
        products = [
            CatalogProduct(
                id=d["id"],
                point_id=point_id(d["id"]),
                name=d["name"],
                category=d["category"],
                brand_id=d["brand_id"],
                brand_name=brands.get(d["brand_id"], ""),
                season=d["season"],
                price_fen=int(d["price_fen"]),
                popularity=int(d.get("popularity", 0)),
            )
            for d in await documents.find("products", projection=fields)
        ]
        stores = [
            CatalogStore(id=d["id"], name=d["name"], brand_id=d["brand_id"], mall_id=d["mall_id"])
            for d in await documents.find(
                "stores", projection={"id": 1, "name": 1, "brand_id": 1, "mall_id": 1}
            )
        ]
        zone_fields = {"id": 1, "store_id": 1, "name": 1, "category": 1, "kind": 1}
        zones = [
            CatalogZone(d["id"], d["store_id"], d["name"], d["category"], d.get("kind", "shelf"))
            for d in await documents.find("zones", projection=zone_fields)
        ]
        centroids = {
            d["_id"]: np.asarray(d["centroid"], dtype=np.float32) for d in await documents.find("categories")
        }
        return cls(products, stores, zones, centroids)
