"""GraphQL types shared by several domains."""

from __future__ import annotations

import strawberry

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
