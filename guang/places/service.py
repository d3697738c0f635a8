"""Malls and stores near a shopper: nearby lists, the current mall, store home pages, follows, mall mode."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from guang.adapters.ports import DocumentStore, FeatureStore
from guang.domain import keys
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.events import InteractionEvent, LocationEvent
from guang.domain.features import decay_factor, decayed
from guang.domain.geo import check_position, distance_to
from guang.domain.models import Activity, Coupon, GeoPoint, Mall, Staff, StaffPost, Store
from guang.places import rules
from guang.places.directory import Directory
from guang.places.models import (
    MAX_RADIUS_M,
    Deal,
    Delivery,
    LocationReport,
    NearbyMall,
    StoreCard,
    StorePick,
)
from guang.services.app_events import AppEvents, new_event_id, now_ms
from guang.services.catalog import Catalog, CatalogProduct
from guang.settings import Settings

FOLLOWS = "store_follows"
MAX_GEOFENCE_M = 5_000
"""No mall's geofence is wider than this; `currentMall` looks no further."""
DEALS_RADIUS_M = 5_000
"""Coupons are geo-targeted 3–5 km around their store or mall, so deals look this far."""
DEAL_STORES = 30
DEAL_CANDIDATES = 20
DEALS_PER_COUPON = 2
SHOWN_POSTS: dict[str, Any] = {"status": {"$ne": "draft"}, "hidden": {"$ne": True}}
"""Posts a shopper sees: not drafts, not hidden by the mall (the staff domain's rule; seeded posts have
neither field)."""
LocationSource = Literal["gps", "wifi", "parking_gate"]


def check_radius(radius_m: float) -> None:
    if not 1 <= radius_m <= MAX_RADIUS_M:
        raise Invalid(f"radiusM must be between 1 and {MAX_RADIUS_M} metres, got {radius_m}")


def _live(now: int) -> dict[str, Any]:
    """Coupons live at `now`, except exit coupons (offered one by one as a shopper leaves a mall)."""
    return {"starts_ms": {"$lte": now}, "ends_ms": {"$gt": now}, "kind": {"$ne": "exit"}}


def _point(lat: float, lng: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lng, lat]}


class Places:
    def __init__(
        self, *, documents: DocumentStore, events: AppEvents, catalog: Catalog, settings: Settings,
        features: FeatureStore,
    ) -> None:  # fmt: skip
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
        self._features = features
        self._directory: Directory | None = None
        self._lock = asyncio.Lock()
        self._reloaded_for: set[str] = set()

    async def directory(self) -> Directory:
        """Loaded on first use (and the follow/activity indexes made), then held."""
        if self._directory is None:
            async with self._lock:
                if self._directory is None:
                    await self._documents.create_index(FOLLOWS, [("member_id", 1), ("followed_ms", -1)])
                    await self._documents.create_index(FOLLOWS, [("store_id", 1)])
                    await self._documents.create_index("activities", [("mall_id", 1), ("starts_ms", 1)])
                    self._directory = await Directory.load(self._documents)
        return self._directory

    async def refresh(self) -> None:
        """Reload malls, brands, stores and stock (after a store opens or a restock)."""
        await self.directory()
        self._directory = await Directory.load(self._documents)

    async def _cards(self, found: Sequence[tuple[Store, float | None]]) -> list[StoreCard]:
        """Cards for these stores; a store, brand or mall the directory has not seen yet reloads it once,
        and a store whose brand or mall still does not exist is left out (without reloading again)."""
        directory = await self.directory()
        unknown = {store.id for store, _ in found if not directory.knows(store)} - self._reloaded_for
        if unknown:
            self._reloaded_for |= unknown
            await self.refresh()
            directory = await self.directory()
        return [directory.card(store, metres) for store, metres in found if directory.knows(store)]

    async def _near(
        self, collection: str, *, lat: float, lng: float, radius_m: float, query: Mapping[str, Any],
        skip: int, limit: int,
    ) -> list[tuple[dict[str, Any], float]]:  # fmt: skip
        """Documents within `radius_m`, nearest first (ties by id), with our haversine distance.

        `$geoNear` measures on a slightly larger sphere than `geo.distance_m`, so it is asked a little
        further and the tail beyond `radius_m` is cut here; the order is the same on both spheres."""
        pipeline: list[dict[str, Any]] = [
            {
                "$geoNear": {
                    "near": _point(lat, lng), "distanceField": "_distance", "spherical": True,
                    "maxDistance": radius_m * 1.002 + 1, "query": dict(query),
                }
            },
            {"$sort": {"_distance": 1, "_id": 1}},
            {"$skip": skip},
            {"$limit": limit},
        ]  # fmt: skip
        found = []
        for doc in await self._documents.aggregate(collection, pipeline):
            metres = distance_to(GeoPoint.model_validate(doc["location"]), lat=lat, lng=lng)
            if metres <= radius_m:
                found.append((doc, metres))
        return found

    async def nearby_malls(
        self, *, lat: float, lng: float, radius_m: float, skip: int, limit: int
    ) -> list[NearbyMall]:
        check_position(lat, lng)
        check_radius(radius_m)
        rows = await self._near(
            "malls", lat=lat, lng=lng, radius_m=radius_m, query={}, skip=skip, limit=limit
        )
        return [NearbyMall(mall=Mall.model_validate(d), distance_m=round(m)) for d, m in rows]

    async def nearby_stores(
        self, *, lat: float, lng: float, radius_m: float, brand_id: str | None = None,
        category: str | None = None, skip: int, limit: int,
    ) -> list[StoreCard]:  # fmt: skip
        """Stores nearest first; `category` keeps those with products of that category in stock."""
        check_position(lat, lng)
        check_radius(radius_m)
        directory = await self.directory()
        query: dict[str, Any] = {}
        if brand_id is not None:
            query["brand_id"] = brand_id
        if category is not None:
            query["id"] = {"$in": sorted(s for s, cats in directory.categories.items() if category in cats)}
        rows = await self._near(
            "stores", lat=lat, lng=lng, radius_m=radius_m, query=query, skip=skip, limit=limit
        )
        return await self._cards([(Store.model_validate(d), m) for d, m in rows])

    async def current_mall(self, *, lat: float, lng: float) -> Mall | None:
        """The nearest mall whose geofence (`radius_m` around it) contains the point."""
        check_position(lat, lng)
        rows = await self._near(
            "malls", lat=lat, lng=lng, radius_m=MAX_GEOFENCE_M, query={}, skip=0, limit=20
        )
        for doc, metres in rows:
            mall = Mall.model_validate(doc)
            if metres <= mall.radius_m:
                return mall
        return None

    async def report_location(
        self, *, member_id: str, lat: float, lng: float, accuracy_m: float, source: LocationSource
    ) -> LocationReport:
        """Emit a `location` event, only for a member who has given location consent (DESIGN §6)."""
        check_position(lat, lng)
        if not 0 <= accuracy_m <= 100_000:
            raise Invalid(f"accuracyM must be between 0 and 100000 metres, got {accuracy_m}")
        member = await self._documents.find_one("members", {"id": member_id})
        if member is None:
            raise NotFound(f"no member {member_id}")
        if (member.get("consents") or {}).get("location_ms") is None:
            raise Forbidden("location consent is not given; ask the shopper first (setConsent LOCATION)")
        mall = await self.current_mall(lat=lat, lng=lng)
        event = LocationEvent(
            type="location", event_id=new_event_id(), ts_ms=now_ms(), user_id=member_id,
            mall_id=mall.id if mall else None, lat=lat, lng=lng, accuracy_m=accuracy_m, source=source,
        )  # fmt: skip
        await self._events.emit(event)
        return LocationReport(event_id=event.event_id, mall=mall)

    # ---------------------------------------------------------------- store home page

    async def store(self, store_id: str) -> Store:
        doc = await self._documents.find_one("stores", {"id": store_id})
        if doc is None:
            raise NotFound(f"no store {store_id}")
        return Store.model_validate(doc)

    async def card(self, store: Store, *, lat: float | None = None, lng: float | None = None) -> StoreCard:
        distance = (
            distance_to(store.location, lat=lat, lng=lng) if lat is not None and lng is not None else None
        )
        cards = await self._cards([(store, distance)])
        if not cards:
            raise NotFound(f"store {store.id} has no known brand or mall")
        return cards[0]

    def delivery(self, store: Store, *, lat: float | None = None, lng: float | None = None) -> Delivery:
        """到家 for a shopper at (lat, lng): distance, whether it is inside the radius, and an ETA."""
        available = "delivery" in store.services
        if lat is None or lng is None:
            return Delivery(available=available, radius_m=store.delivery_radius_m)
        check_position(lat, lng)
        metres = distance_to(store.location, lat=lat, lng=lng)
        in_range = available and metres <= store.delivery_radius_m
        return Delivery(
            available=available, radius_m=store.delivery_radius_m, distance_m=round(metres),
            eta_min=rules.delivery_eta_min(metres) if in_range else None, in_range=in_range,
        )  # fmt: skip

    async def staff(self, store_id: str, *, skip: int, limit: int) -> list[Staff]:
        docs = await self._documents.find(
            "staff", {"store_id": store_id}, sort=[("id", 1)], skip=skip, limit=limit
        )
        return [Staff.model_validate(d) for d in docs]

    async def posts(self, store_id: str, *, skip: int, limit: int) -> list[StaffPost]:
        """The store's shown 店员说 posts, newest first."""
        docs = await self._documents.find(
            "staff_posts", {"store_id": store_id, **SHOWN_POSTS}, sort=[("published_ms", -1), ("_id", -1)],
            skip=skip, limit=limit,
        )  # fmt: skip
        return [StaffPost.model_validate(d) for d in docs]

    async def products(self, store_id: str, *, skip: int, limit: int) -> list[CatalogProduct]:
        """Products in stock at the store now, most popular first."""
        docs = await self._documents.find(
            "products", {"stock": {"$elemMatch": {"store_id": store_id, "qty": {"$gt": 0}}}},
            projection={"id": 1}, sort=[("popularity", -1), ("_id", 1)], skip=skip, limit=limit,
        )  # fmt: skip
        return [self._catalog.products[d["id"]] for d in docs if d["id"] in self._catalog.products]

    async def staff_names(self, staff_ids: Sequence[str]) -> dict[str, Staff]:
        docs = await self._documents.find("staff", {"id": {"$in": sorted(set(staff_ids))}})
        return {d["id"]: Staff.model_validate(d) for d in docs}

    # ---------------------------------------------------------------- follows

    async def follower_count(self, store_id: str) -> int:
        return await self._documents.count(FOLLOWS, {"store_id": store_id})

    async def follows(self, *, member_id: str, store_id: str) -> bool:
        return await self._documents.find_one(FOLLOWS, {"_id": f"{member_id}:{store_id}"}) is not None

    async def follow(self, *, member_id: str, store_id: str) -> Store:
        """Idempotent; a new follow is a `follow` interaction for the dataflow."""
        store = await self.store(store_id)
        await self.directory()  # the follow indexes exist from here on
        at = now_ms()
        follow = {
            "_id": f"{member_id}:{store_id}",
            "member_id": member_id,
            "store_id": store_id,
            "followed_ms": at,
        }
        if await self._documents.insert_one(FOLLOWS, follow):
            event = InteractionEvent(
                type="interaction", event_id=new_event_id(), ts_ms=at, user_id=member_id,
                mall_id=store.mall_id, store_id=store.id, action="follow", target_type="store",
                target_id=store.id, surface="FEED",
            )  # fmt: skip
            await self._events.emit(event)
        return store

    async def unfollow(self, *, member_id: str, store_id: str) -> Store:
        store = await self.store(store_id)
        await self._documents.delete_one(FOLLOWS, {"_id": f"{member_id}:{store_id}"})
        return store

    async def followed_stores(self, *, member_id: str, skip: int, limit: int) -> list[StoreCard]:
        """The member's own followed stores, most recently followed first."""
        follows = await self._documents.find(
            FOLLOWS, {"member_id": member_id}, sort=[("followed_ms", -1), ("_id", 1)], skip=skip, limit=limit
        )
        ids = [f["store_id"] for f in follows]
        stores = {
            d["id"]: Store.model_validate(d)
            for d in await self._documents.find("stores", {"id": {"$in": ids}})
        }
        return await self._cards([(stores[i], None) for i in ids if i in stores])

    # ---------------------------------------------------------------- 优惠必买 and mall mode

    async def deals(self, *, lat: float, lng: float, skip: int, limit: int) -> list[Deal]:
        """优惠必买 near (lat, lng). The rule: take the DEAL_STORES nearest stores within DEALS_RADIUS_M;
        for each, every coupon live now (starts_ms ≤ now < ends_ms, not an exit coupon, not sold out) that
        applies there (its own store coupons, and brand coupons for its mall) and whose geo-target radius
        reaches the shopper; pair it with up to DEALS_PER_COUPON of the store's most popular in-stock
        products that the coupon can be used on alone. Nearest store first, then the bigger discount, then
        the more popular product."""
        check_position(lat, lng)
        rows = await self._near(
            "stores", lat=lat, lng=lng, radius_m=DEALS_RADIUS_M, query={}, skip=0, limit=DEAL_STORES
        )
        cards = await self._cards([(Store.model_validate(d), m) for d, m in rows])
        if not cards:
            return []
        directory = await self.directory()
        now = now_ms()
        brands = sorted({c.brand.id for c in cards})
        coupons = [
            Coupon.model_validate(d)
            for d in await self._documents.find(
                "coupons", {"brand_id": {"$in": brands}, **_live(now)},
                sort=[("discount_fen", -1), ("_id", 1)],
            )
        ]  # fmt: skip
        deals: list[Deal] = []
        for card in cards:
            store = card.store
            skus = directory.in_stock.get(store.id, [])[:DEAL_CANDIDATES]
            ranked = [self._catalog.products[s] for s in skus if s in self._catalog.products]
            for coupon in coupons:
                if coupon.claimed >= coupon.total_stock or not rules.coupon_applies(coupon, store):
                    continue
                if (card.distance_m or 0) > coupon.radius_m:
                    continue
                for product in rules.deal_products(coupon, ranked, DEALS_PER_COUPON):
                    deals.append(
                        Deal(
                            id=f"{coupon.id}:{store.id}:{product.id}",
                            headline=rules.deal_headline(coupon, product),
                            app_id=card.brand.mini_program_app_id,
                            path=rules.deal_path(sku_id=product.id, store_id=store.id, coupon_id=coupon.id),
                            coupon=coupon, product=product, card=card,
                        )
                    )  # fmt: skip
        return deals[skip : skip + limit]

    async def mall(self, mall_id: str) -> Mall:
        doc = await self._documents.find_one("malls", {"id": mall_id})
        if doc is None:
            raise NotFound(f"no mall {mall_id}")
        return Mall.model_validate(doc)

    async def activities_today(self, mall_id: str, *, skip: int, limit: int) -> list[Activity]:
        """Activities not yet over that start before the end of today (UTC+8), soonest first."""
        now = now_ms()
        end_of_day = (keys.day_number(now) + 1) * keys.DAY_MS - keys.LOCAL_OFFSET_MS
        docs = await self._documents.find(
            "activities", {"mall_id": mall_id, "starts_ms": {"$lt": end_of_day}, "ends_ms": {"$gt": now}},
            sort=[("starts_ms", 1), ("_id", 1)], skip=skip, limit=limit,
        )  # fmt: skip
        return [Activity.model_validate(d) for d in docs]

    async def mall_coupons(self, mall_id: str, *, skip: int, limit: int) -> list[Coupon]:
        """Coupons of the mall that are live now (sold-out ones too), biggest discount first."""
        now = now_ms()
        docs = await self._documents.find(
            "coupons", {"mall_id": mall_id, **_live(now)},
            sort=[("discount_fen", -1), ("_id", 1)], skip=skip, limit=limit,
        )  # fmt: skip
        return [Coupon.model_validate(d) for d in docs]

    async def interest(self, member_id: str) -> dict[str, float]:
        """The member's live category interest, decayed to now and normalised to sum 1 (empty if none)."""
        found = await self._features.subjects([f"u:{member_id}"])
        if not found:
            return {}
        factor = decay_factor(now_ms() - found[0].ts_ms, self._settings.interest_half_life_s)
        scores = decayed(found[0].category_scores, factor, floor=0.0)
        total = sum(v for v in scores.values() if v > 0)
        return {c: v / total for c, v in scores.items() if v > 0} if total > 0 else {}

    async def stores_worth_visiting(self, mall_id: str, *, member_id: str | None) -> list[StorePick]:
        """The mall's stores ranked by the shopper's interest blended with popularity (rules.rank_stores)."""
        directory = await self.directory()
        stores = sorted((s for s in directory.stores.values() if s.mall_id == mall_id), key=lambda s: s.id)
        facts = [
            rules.StoreFacts(
                s.id,
                s.floor,
                directory.popularity.get(s.id, 0.0),
                frozenset(directory.categories.get(s.id, ())),
            )
            for s in stores
        ]
        interest = await self.interest(member_id) if member_id is not None else {}
        return [
            StorePick(card=directory.card(directory.stores[r.store_id]), score=r.score, reason=r.reason)
            for r in rules.rank_stores(facts, interest)
        ]
