"""What the places service answers with: malls and stores seen from where the shopper stands."""

from __future__ import annotations

from guang.domain.models import Brand, Coupon, Domain, Mall, Store
from guang.services.catalog import CatalogProduct

MAX_RADIUS_M = 50_000
MALL_RADIUS_M = 5_000
STORE_RADIUS_M = 3_000


class NearbyMall(Domain):
    mall: Mall
    distance_m: int


class StoreCard(Domain):
    """A store as a carousel/list card: what a shopper needs to recognise and find it."""

    store: Store
    brand: Brand
    mall: Mall
    distance_m: int | None = None


class Delivery(Domain):
    """到家: whether the store delivers, how far, and (given the shopper's position) how long."""

    available: bool
    radius_m: int
    distance_m: int | None = None
    eta_min: int | None = None
    in_range: bool | None = None


class LocationReport(Domain):
    event_id: str
    mall: Mall | None


class Deal(Domain):
    """优惠必买: a live coupon of a nearby store paired with one of that store's popular in-stock products."""

    id: str
    headline: str
    app_id: str
    path: str
    coupon: Coupon
    product: CatalogProduct
    card: StoreCard


class StorePick(Domain):
    """A store worth visiting in a mall, with the score it was ranked by and a reason to show."""

    card: StoreCard
    score: float
    reason: str
