"""Nearby malls and stores, the current mall, store home pages, follows, 优惠必买 deals and mall mode."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import principal, require_member, services
from api.graphql.coupons import Coupon, coupon_of
from api.graphql.pagination import Connection, connection, page_bounds, paginate
from api.graphql.types import Product, StaffMember, StoreTile, product_of, tile_of
from guang.accounts.models import Role
from guang.coupons.models import CouponOffer
from guang.domain.models import Activity, Mall, Staff, StaffPost, Store
from guang.places import models
from guang.places.models import MALL_RADIUS_M, STORE_RADIUS_M


@strawberry.enum(description="How the phone knows where it is")
class LocationSource(Enum):
    GPS = "gps"
    WIFI = "wifi"
    PARKING_GATE = "parking_gate"


@strawberry.type(description="A mall (商圈); `distanceM` is set when asked from a position")
class ShoppingMall:
    id: str
    name: str
    city_id: str
    district: str
    lat: float
    lng: float
    geofence_m: float = strawberry.field(description="Radius of the mall's geofence, in metres")
    distance_m: int | None


@strawberry.type(description="The brand of a store, with its own mini-program to jump to")
class StoreBrand:
    id: str
    name: str
    sector: str
    app_id: str = strawberry.field(description="The brand's WeChat mini-program appId")


@strawberry.type(description="到店: services in the store")
class InStoreServices:
    pickup: bool = strawberry.field(description="Order online, pick up in store")
    appointment: bool = strawberry.field(description="Book a visit or a fitting")


@strawberry.type(
    description="到家: delivery from the store. With a position: its distance, whether it is inside the "
    "radius, and an ETA of 15 min packing + the road (1.3 × straight line) at 15 km/h"
)
class HomeDelivery:
    available: bool
    radius_m: int
    distance_m: int | None
    in_range: bool | None
    eta_min: int | None


@strawberry.type(description="A 店员说 post on a store's home page")
class StoreFeedPost:
    id: str
    text: str
    staff_id: str
    staff_name: str
    published_at_ms: float
    products: list[Product]


@strawberry.type(description="A store's home page")
class StorePage:
    id: str
    name: str
    floor: str
    brand: StoreBrand
    mall: ShoppingMall
    in_store: InStoreServices
    delivery: HomeDelivery
    distance_m: int | None
    follower_count: int
    followed_by_me: bool = strawberry.field(description="False unless a logged-in shopper follows it")

    @strawberry.field(description="The store's staff (导购)")
    async def staff(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[StaffMember]:
        async def fetch(skip: int, limit: int) -> list[Staff]:
            return await services(info).places.staff(self.id, skip=skip, limit=limit)

        def node(s: Staff) -> StaffMember:
            return StaffMember(
                id=s.id, name=s.name, title=s.title, store_id=self.id, store_name=self.name,
                brand_name=self.brand.name, mall_name=self.mall.name,
            )  # fmt: skip

        return await paginate(fetch, first=first, after=after, node=node)

    @strawberry.field(description="The store's 店员说 posts, newest first")
    async def posts(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[StoreFeedPost]:
        places = services(info).places
        skip, limit = page_bounds(first, after)
        posts = await places.posts(self.id, skip=skip, limit=limit)
        names = await places.staff_names([p.staff_id for p in posts])
        catalog = services(info).catalog.products

        def node(post: StaffPost) -> StoreFeedPost:
            author = names.get(post.staff_id)
            return StoreFeedPost(
                id=post.id, text=post.text, staff_id=post.staff_id, staff_name=author.name if author else "",
                published_at_ms=float(post.published_ms),
                products=[product_of(catalog[i]) for i in post.product_ids if i in catalog],
            )  # fmt: skip

        return connection(posts, skip=skip, first=first, node=node)

    @strawberry.field(description="Products in stock at the store, most popular first")
    async def products(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[Product]:
        async def fetch(skip: int, limit: int) -> list[Any]:
            return await services(info).places.products(self.id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=product_of)


@strawberry.type(description="Where a reported location puts the shopper")
class LocationReport:
    event_id: str
    mall: ShoppingMall | None = strawberry.field(description="The mall whose geofence holds the point")


@strawberry.type(description="优惠必买: a coupon of a nearby store on one of its popular products")
class Deal:
    id: str
    headline: str
    app_id: str = strawberry.field(description="The brand's mini-program to jump to")
    path: str = strawberry.field(description="The page in that mini-program")
    product: Product
    store: StoreTile
    distance_m: int
    coupon_id: str
    coupon_title: str
    discount_fen: int
    min_spend_fen: int
    ends_at_ms: float


@strawberry.type(description="Something happening in a mall today")
class MallActivity:
    id: str
    title: str
    description: str
    location: str
    starts_at_ms: float
    ends_at_ms: float


@strawberry.type(description="A store worth visiting, and why")
class StoreWorthVisiting:
    store: StoreTile
    score: float
    reason: str


@strawberry.type(description="Mall mode: what is on in the mall today")
class MallToday:
    mall: ShoppingMall
    member_id: strawberry.Private[str | None]

    @strawberry.field(description="Activities still to come or under way today (UTC+8), soonest first")
    async def activities(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[MallActivity]:
        async def fetch(skip: int, limit: int) -> list[Activity]:
            return await services(info).places.activities_today(self.mall.id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=_activity)

    @strawberry.field(
        description="The mall's stores, for a logged-in shopper ranked by their live interests blended "
        "with popularity, else by popularity"
    )
    async def stores(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[StoreWorthVisiting]:
        skip, limit = page_bounds(first, after)
        picks = await services(info).places.stores_worth_visiting(self.mall.id, member_id=self.member_id)
        return connection(picks[skip : skip + limit], skip=skip, first=first, node=_pick)

    @strawberry.field(description="Coupons of this mall live now, biggest discount first")
    async def coupons(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[Coupon]:
        async def fetch(skip: int, limit: int) -> list[CouponOffer]:
            return await services(info).coupons.in_mall(
                self.mall.id, member_id=self.member_id, skip=skip, limit=limit
            )

        return await paginate(fetch, first=first, after=after, node=coupon_of)


def mall_of(m: Mall, distance_m: int | None = None) -> ShoppingMall:
    lng, lat = m.location.coordinates
    return ShoppingMall(
        id=m.id, name=m.name, city_id=m.city_id, district=m.district, lat=lat, lng=lng, geofence_m=m.radius_m,
        distance_m=distance_m,
    )  # fmt: skip


def _activity(a: Activity) -> MallActivity:
    return MallActivity(
        id=a.id, title=a.title, description=a.description, location=a.location,
        starts_at_ms=float(a.starts_ms), ends_at_ms=float(a.ends_ms),
    )  # fmt: skip


def _pick(p: models.StorePick) -> StoreWorthVisiting:
    return StoreWorthVisiting(store=tile_of(p.card), score=p.score, reason=p.reason)


def _deal(d: models.Deal) -> Deal:
    assert d.card.distance_m is not None
    return Deal(
        id=d.id, headline=d.headline, app_id=d.app_id, path=d.path, product=product_of(d.product),
        store=tile_of(d.card), distance_m=d.card.distance_m, coupon_id=d.coupon.id,
        coupon_title=d.coupon.title, discount_fen=d.coupon.discount_fen, min_spend_fen=d.coupon.min_spend_fen,
        ends_at_ms=float(d.coupon.ends_ms),
    )  # fmt: skip


def _shopper(info: Info[Any, Any]) -> str | None:
    """The caller's member id when a shopper is logged in (other roles and anonymous callers: None)."""
    who = principal(info)
    return who.member_id if who is not None and who.role is Role.SHOPPER else None


async def store_page(
    info: Info[Any, Any], store: Store, *, lat: float | None = None, lng: float | None = None
) -> StorePage:
    places = services(info).places
    card = await places.card(store, lat=lat, lng=lng)
    followers, followed = await places.follow_state(store_id=store.id, member_id=_shopper(info))
    brand = card.brand
    return StorePage(
        id=store.id, name=store.name, floor=store.floor,
        brand=StoreBrand(id=brand.id, name=brand.name, sector=brand.sector, app_id=brand.mini_program_app_id),
        mall=mall_of(card.mall),
        in_store=InStoreServices(
            pickup="pickup" in store.services, appointment="appointment" in store.services
        ),
        delivery=HomeDelivery(**places.delivery(store, lat=lat, lng=lng).model_dump()),
        distance_m=card.distance_m, follower_count=followers, followed_by_me=followed,
    )  # fmt: skip


@strawberry.type
class Query:
    @strawberry.field(description="Malls within `radiusM` metres (1–50000), nearest first")
    async def nearby_malls(
        self, info: Info[Any, Any], lat: float, lng: float, radius_m: int = MALL_RADIUS_M, first: int = 10,
        after: str | None = None,
    ) -> Connection[ShoppingMall]:  # fmt: skip
        async def fetch(skip: int, limit: int) -> list[models.NearbyMall]:
            return await services(info).places.nearby_malls(
                lat=lat, lng=lng, radius_m=radius_m, skip=skip, limit=limit
            )

        return await paginate(fetch, first=first, after=after, node=lambda n: mall_of(n.mall, n.distance_m))

    @strawberry.field(
        description="Stores within `radiusM` metres (1–50000), nearest first; the nearby-store carousel "
        "is this with a small `first`. `category`: only stores with that category in stock"
    )
    async def nearby_stores(
        self, info: Info[Any, Any], lat: float, lng: float, radius_m: int = STORE_RADIUS_M,
        brand_id: str | None = None, category: str | None = None, first: int = 10, after: str | None = None,
    ) -> Connection[StoreTile]:  # fmt: skip
        async def fetch(skip: int, limit: int) -> list[models.StoreCard]:
            return await services(info).places.nearby_stores(
                lat=lat, lng=lng, radius_m=radius_m, brand_id=brand_id, category=category, skip=skip,
                limit=limit,
            )  # fmt: skip

        return await paginate(fetch, first=first, after=after, node=tile_of)

    @strawberry.field(description="The mall whose geofence contains the point (nearest first), or null")
    async def current_mall(self, info: Info[Any, Any], lat: float, lng: float) -> ShoppingMall | None:
        mall = await services(info).places.current_mall(lat=lat, lng=lng)
        return mall_of(mall) if mall else None

    @strawberry.field(description="A store's home page; with a position, distances and the delivery ETA")
    async def store(
        self, info: Info[Any, Any], id: str, lat: float | None = None, lng: float | None = None
    ) -> StorePage:
        return await store_page(info, await services(info).places.store(id), lat=lat, lng=lng)

    @strawberry.field(description="我的: the stores the calling shopper follows, latest first")
    async def my_followed_stores(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[StoreTile]:
        member_id = require_member(info)

        async def fetch(skip: int, limit: int) -> list[models.StoreCard]:
            return await services(info).places.followed_stores(member_id=member_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=tile_of)

    @strawberry.field(description="优惠必买: live coupons of nearby stores on their popular products")
    async def deals(
        self, info: Info[Any, Any], lat: float, lng: float, first: int = 10, after: str | None = None
    ) -> Connection[Deal]:
        async def fetch(skip: int, limit: int) -> list[models.Deal]:
            return await services(info).places.deals(lat=lat, lng=lng, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=_deal)

    @strawberry.field(description="Mall mode: today's activities, stores worth visiting, live coupons")
    async def mall_today(self, info: Info[Any, Any], mall_id: str) -> MallToday:
        mall = await services(info).places.mall(mall_id)
        return MallToday(mall=mall_of(mall), member_id=_shopper(info))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Report the shopper's position (needs location consent); emits a `location` event"
    )
    async def report_location(
        self, info: Info[Any, Any], lat: float, lng: float, accuracy_m: float, source: LocationSource
    ) -> LocationReport:
        report = await services(info).places.report_location(
            member_id=require_member(info), lat=lat, lng=lng, accuracy_m=accuracy_m, source=source.value
        )
        return LocationReport(event_id=report.event_id, mall=mall_of(report.mall) if report.mall else None)

    @strawberry.mutation(description="Follow a store (idempotent)")
    async def follow_store(self, info: Info[Any, Any], store_id: str) -> StorePage:
        member_id = require_member(info)
        return await store_page(
            info, await services(info).places.follow(member_id=member_id, store_id=store_id)
        )

    @strawberry.mutation(description="Stop following a store (idempotent)")
    async def unfollow_store(self, info: Info[Any, Any], store_id: str) -> StorePage:
        member_id = require_member(info)
        store = await services(info).places.unfollow(member_id=member_id, store_id=store_id)
        return await store_page(info, store)
