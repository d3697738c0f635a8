"""GraphQL types shared by several domains."""

from __future__ import annotations

import strawberry

from guang.places import models
from guang.services.catalog import CatalogProduct


@strawberry.type
class Product:
    id: str
    name: str
    category: str
    brand_name: str
    season: str
    price_fen: int


def product_of(p: CatalogProduct) -> Product:
    return Product(
        id=p.id, name=p.name, category=p.category, brand_name=p.brand_name, season=p.season,
        price_fen=p.price_fen,
    )  # fmt: skip


@strawberry.type(description="A store as a card (nearby carousel, followed stores)")
class StoreTile:
    id: str
    name: str
    floor: str
    brand_id: str
    brand_name: str
    mall_id: str
    mall_name: str
    services: list[str]
    distance_m: int | None = strawberry.field(description="Metres from the asked position, if one was given")


def tile_of(card: models.StoreCard) -> StoreTile:
    s = card.store
    return StoreTile(
        id=s.id, name=s.name, floor=s.floor, brand_id=card.brand.id, brand_name=card.brand.name,
        mall_id=card.mall.id, mall_name=card.mall.name, services=list(s.services), distance_m=card.distance_m,
    )  # fmt: skip


@strawberry.type(description="A staff member (导购) in brief, with their store, brand and mall")
class StaffMember:
    id: str
    name: str
    title: str
    store_id: str
    store_name: str
    brand_name: str
    mall_name: str
