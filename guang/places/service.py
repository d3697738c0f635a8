"""Malls and stores near a shopper: nearby lists, the current mall, store home pages, follows, mall mode."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from typing import Literal

from guang.adapters.ports import DocumentStore, FeatureStore
from guang.coupons.rules import applies_to
from guang.coupons.service import live_coupons
from guang.domain import keys
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.events import InteractionEvent, LocationEvent, member_subject
from guang.domain.features import decay_factor, decayed
from guang.domain.geo import check_position, distance_to, position
from guang.domain.models import Activity, Mall, Staff, StaffPost, Store
from guang.places import rules
from guang.places.directory import Directories, Directory
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
from guang.staff.models import SHOWN_POSTS

FOLLOWS = "store_follows"
MAX_GEOFENCE_M = 5_000
"""No mall's geofence is wider than this; `currentMall` looks no further."""
DEALS_RADIUS_M = 5_000
"""Coupons are geo-targeted 3–5 km around their store or mall, so deals look this far."""
DEAL_STORES = 30
DEAL_CANDIDATES = 20
DEALS_PER_COUPON = 2
LocationSource = Literal["gps", "wifi", "parking_gate"]


def check_radius(radius_m: float) -> None:
    if not 1 <= radius_m <= MAX_RADIUS_M:
        raise Invalid(f"radiusM must be between 1 and {MAX_RADIUS_M} metres, got {radius_m}")


class Places:
    def __init__(
        self, *, documents: DocumentStore, events: AppEvents, catalog: Catalog, settings: Settings,
        features: FeatureStore, directories: Directories | None = None,
    ) -> None:  # fmt: skip
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
        self._features = features
        self.directories = directories or Directories(documents)
        """The process's one store directory (see guang/places/directory.py); other domains read it too."""
        self._indexed = False
        self._lock = asyncio.Lock()
        self._reloaded_for: set[str] = set()

    async def directory(self) -> Directory:
        """The directory, loaded on first use (and the follow/activity/post indexes made then)."""
        if not self._indexed:
            async with self._lock:
                if not self._indexed:
                    docs = self._documents
                    await asyncio.gather(
                        docs.create_index(FOLLOWS, [("member_id", 1), ("followed_ms", -1)]),
                        docs.create_index(FOLLOWS, [("store_id", 1)]),
                        docs.create_index("activities", [("mall_id", 1), ("starts_ms", 1)]),
                        docs.create_index(
                            "staff_posts", [("store_id", 1), ("published_ms", -1), ("_id", -1)]
                        ),
                    )
                    self._indexed = True
        return await self.directories.get()

    async def refresh(self, *, stock: bool = False) -> None:
        """Reload malls, brands, stores and staff (a store opened); with `stock`, stock too (a restock)."""
        await self.directory()
        await self.directories.refresh(stock=stock)

    async def _reload_for(self, ids: set[str]) -> Directory:
        """Reload the directory once for ids it has not seen (never twice for the same id)."""
        unseen = ids - self._reloaded_for
        if unseen:
            self._reloaded_for |= unseen
            await self.refresh()
        return await self.directory()

    async def _cards(self, found: Sequence[tuple[Store, float | None]]) -> list[StoreCard]:
        """Cards for these stores; a store, brand or mall the directory has not seen yet reloads it once,
        and a store whose brand or mall still does not exist is left out (without reloading again)."""
        directory = await self.directory()
        unknown = {store.id for store, _ in found if not directory.knows(store)}
        if unknown:
            directory = await self._reload_for(unknown)
        return [directory.card(store, metres) for store, metres in found if directory.knows(store)]

    async def nearby_malls(
        self, *, lat: float, lng: float, radius_m: float, skip: int, limit: int
    ) -> list[NearbyMall]:
        """Malls within `radius_m`, nearest first (ties by id): the directory sorted here, no query."""
        check_position(lat, lng)
        check_radius(radius_m)
        rows = (await self.directory()).malls_near(lat=lat, lng=lng, radius_m=radius_m)
        return [NearbyMall(mall=m, distance_m=round(metres)) for m, metres in rows[skip : skip + limit]]

    async def nearby_stores(
        self, *, lat: float, lng: float, radius_m: float, brand_id: str | None = None,
        category: str | None = None, skip: int, limit: int,
    ) -> list[StoreCard]:  # fmt: skip
        """Stores nearest first (ties by id); `category` keeps those with that category in stock."""
        check_position(lat, lng)
        check_radius(radius_m)
        directory = await self.directory()
        rows = directory.stores_near(
            lat=lat, lng=lng, radius_m=radius_m, brand_id=brand_id, category=category
        )
        return [directory.card(store, metres) for store, metres in rows[skip : skip + limit]]

    async def current_mall(self, *, lat: float, lng: float) -> Mall | None:
        """The nearest mall whose geofence (`radius_m` around it) contains the point."""
        check_position(lat, lng)
        return (await self.directory()).mall_at(lat=lat, lng=lng)

    async def report_location(
        self, *, member_id: str, lat: float, lng: float, accuracy_m: float, source: LocationSource
    ) -> LocationReport:
        """Emit a `location` event, only for a member who has given location consent (DESIGN §6)."""
        check_position(lat, lng)
        if not 0 <= accuracy_m <= 100_000:
            raise Invalid(f"accuracyM must be between 0 and 100000 metres, got {accuracy_m}")
        member = await self._documents.find_one("members", {"_id": member_id})
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
        """From the directory; a store it does not know yet is read (and the directory reloaded once)."""
        store = (await self.directory()).stores.get(store_id)
        if store is not None:
            return store
        doc = await self._documents.find_one("stores", {"_id": store_id})
        if doc is None:
            raise NotFound(f"no store {store_id}")
        await self._reload_for({store_id})
        return Store.model_validate(doc)

    async def card(self, store: Store, *, lat: float | None = None, lng: float | None = None) -> StoreCard:
        """The store's card; with a position (both coordinates or neither), its distance."""
        at = position(lat, lng)
        distance = distance_to(store.location, lat=at[0], lng=at[1]) if at is not None else None
        cards = await self._cards([(store, distance)])
        if not cards:
            raise NotFound(f"store {store.id} has no known brand or mall")
        return cards[0]

    def delivery(self, store: Store, *, lat: float | None = None, lng: float | None = None) -> Delivery:
        """到家 for a shopper at (lat, lng): distance, whether it is inside the radius, and an ETA."""
        available = "delivery" in store.services
        at = position(lat, lng)
        if at is None:
            return Delivery(available=available, radius_m=store.delivery_radius_m)
        metres = distance_to(store.location, lat=at[0], lng=at[1])
        in_range = available and metres <= store.delivery_radius_m
        return Delivery(
            available=available, radius_m=store.delivery_radius_m, distance_m=round(metres),
            eta_min=rules.delivery_eta_min(metres) if in_range else None, in_range=in_range,
        )  # fmt: skip

    async def staff(self, store_id: str, *, skip: int, limit: int) -> list[Staff]:
        """The store's staff by id, from the directory."""
        return (await self.directory()).staff_of(store_id)[skip : skip + limit]

    async def posts(self, store_id: str, *, skip: int, limit: int) -> list[StaffPost]:
        """The store's shown 店员说 posts, newest first (the staff domain's SHOWN_POSTS)."""
        await self.directory()  # the post index exists from here on
        docs = await self._documents.find(
            "staff_posts", {"store_id": store_id, **SHOWN_POSTS}, sort=[("published_ms", -1), ("_id", -1)],
            skip=skip, limit=limit,
        )  # fmt: skip
        return [StaffPost.model_validate(d) for d in docs]

    async def products(self, store_id: str, *, skip: int, limit: int) -> list[CatalogProduct]:
        """Products in stock at the store, most popular first (ties by id), from the directory's stock
        snapshot (see guang/places/directory.py: nothing in the API moves stock; checkout re-checks it)."""
        skus = (await self.directory()).in_stock.get(store_id, [])
        known = (self._catalog.products[s] for s in skus if s in self._catalog.products)
        return list(itertools.islice(known, skip, skip + limit))

    async def staff_names(self, staff_ids: Sequence[str]) -> dict[str, Staff]:
        """Staff by id: from the directory, and one batched read for any it does not know."""
        directory = await self.directory()
        found = {i: directory.staff[i] for i in set(staff_ids) if i in directory.staff}
        missing = sorted(set(staff_ids) - found.keys())
        if missing:
            for d in await self._documents.find("staff", {"_id": {"$in": missing}}):
                found[d["id"]] = Staff.model_validate(d)
        return found

    # ---------------------------------------------------------------- follows

    async def follower_count(self, store_id: str) -> int:
        return await self._documents.count(FOLLOWS, {"store_id": store_id})

    async def follow_state(self, *, store_id: str, member_id: str | None) -> tuple[int, bool]:
        """The store's follower count and whether the member (if any) follows it, read side by side."""
        if member_id is None:
            return await self.follower_count(store_id), False
        count, mine = await asyncio.gather(
            self.follower_count(store_id), self.follows(member_id=member_id, store_id=store_id)
        )
        return count, mine

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
        directory = await self.directory()
        stores = {i: directory.stores[i] for i in ids if i in directory.stores}
        missing = [i for i in ids if i not in stores]
        if missing:  # stores opened since the directory was read: one batched read
            for d in await self._documents.find("stores", {"_id": {"$in": missing}}):
                stores[d["id"]] = Store.model_validate(d)
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
        directory = await self.directory()
        rows = directory.stores_near(lat=lat, lng=lng, radius_m=DEALS_RADIUS_M)[:DEAL_STORES]
        cards = [directory.card(store, metres) for store, metres in rows]
        if not cards:
            return []
        coupons = await live_coupons(self._documents, brand_ids=sorted({c.brand.id for c in cards}))

        def generated() -> Iterator[Deal]:  # already in the listed order, so only the page is built
            for card in cards:
                store = card.store
                skus = directory.in_stock.get(store.id, [])[:DEAL_CANDIDATES]
                ranked = [self._catalog.products[s] for s in skus if s in self._catalog.products]
                for coupon in coupons:
                    if coupon.claimed >= coupon.total_stock or not applies_to(coupon, store):
                        continue
                    if (card.distance_m or 0) > coupon.radius_m:
                        continue
                    for product in rules.deal_products(coupon, ranked, DEALS_PER_COUPON):
                        yield Deal(
                            id=f"{coupon.id}:{store.id}:{product.id}",
                            headline=rules.deal_headline(coupon, product),
                            app_id=card.brand.mini_program_app_id,
                            path=rules.deal_path(sku_id=product.id, store_id=store.id, coupon_id=coupon.id),
                            coupon=coupon, product=product, card=card,
                        )  # fmt: skip

        return list(itertools.islice(generated(), skip, skip + limit))

    async def mall(self, mall_id: str) -> Mall:
        """From the directory; a mall it does not know yet is read (and the directory reloaded once)."""
        mall = (await self.directory()).malls.get(mall_id)
        if mall is not None:
            return mall
        doc = await self._documents.find_one("malls", {"_id": mall_id})
        if doc is None:
            raise NotFound(f"no mall {mall_id}")
        await self._reload_for({mall_id})
        return Mall.model_validate(doc)

    async def activities_today(self, mall_id: str, *, skip: int, limit: int) -> list[Activity]:
        """Activities not yet over that start before the end of today (UTC+8), soonest first."""
        now = now_ms()
        end_of_day = (keys.day_number(now) + 1) * keys.DAY_MS - keys.LOCAL_OFFSET_MS
        # The mall's activities not yet over are few: the documents filter by one range, the rest is here.
        docs = await self._documents.find("activities", {"mall_id": mall_id, "ends_ms": {"$gt": now}})
        today = [a for a in map(Activity.model_validate, docs) if a.starts_ms < end_of_day]
        return sorted(today, key=lambda a: (a.starts_ms, a.id))[skip : skip + limit]

    async def interest(self, member_id: str) -> dict[str, float]:
        """The member's live category interest, decayed to now and normalised to sum 1 (empty if none)."""
        found = await self._features.subjects([member_subject(member_id)])
        if not found:
            return {}
        factor = decay_factor(now_ms() - found[0].ts_ms, self._settings.interest_half_life_s)
        scores = decayed(found[0].category_scores, factor, floor=0.0)
        total = sum(v for v in scores.values() if v > 0)
        return {c: v / total for c, v in scores.items() if v > 0} if total > 0 else {}

    async def stores_worth_visiting(self, mall_id: str, *, member_id: str | None) -> list[StorePick]:
        """The mall's stores ranked by the shopper's interest blended with popularity (rules.rank_stores)."""
        directory = await self.directory()
        stores = [s for s in directory.stores_in(mall_id) if directory.knows(s)]
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
