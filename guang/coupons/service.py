"""Geo-targeted coupon campaigns: claim within quota and stock, redeem (核销) exactly once.

Exactness under concurrency comes from conditional updates on single documents, never from
read-then-write: a claim first takes a per-member quota slot (`coupon_quotas`, `used < quota`), then
one unit of stock (`coupons.claimed < total_stock`), giving the quota slot back if the stock is gone;
a redemption flips one `coupon_claims` document from `claimed` to `redeemed`.

A claim needs the shopper's position: a geo-targeted coupon is only for shoppers within its radius of
its store (or of its mall when it has no store). The position is checked, never stored.

A checkout reserves its claims for its order (one conditional update per claim: claimed and unreserved,
or reserved longer ago than rules.RESERVATION_MS, -> reserved for the order); only that order's payment
redeems them, and a till or staff member cannot redeem a claim while a pending order holds it.

Exit (回来再逛) coupons are tied to leaving: `exit_offer` takes the shopper's current position and offers
one only when that position is outside the mall's geofence (Mall.radius_m around its centre), recording
the offer in `exit_offers`; claiming an exit coupon needs such an offer within rules.EXIT_OFFER_MS.

This module owns the coupon rules and the "live coupon" query: other domains call `live_coupons` and
`rules.applies_to` rather than querying `coupons` themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from guang.adapters.ports import DocumentStore
from guang.coupons import rules
from guang.coupons.models import ClaimedCoupon, ClaimStatus, CouponClaim, CouponOffer, ExitOffer
from guang.domain.errors import Conflict, Forbidden, Invalid, NotFound
from guang.domain.events import InteractionEvent
from guang.domain.geo import check_position, distance_to
from guang.domain.models import Coupon, GeoPoint, Mall, Store
from guang.places.directory import Directories, Directory
from guang.services.app_events import AppEvents, new_event_id, now_ms
from guang.services.catalog import Catalog, CatalogStore
from guang.settings import Settings

COUPONS, CLAIMS, QUOTAS, EXIT_OFFERS = "coupons", "coupon_claims", "coupon_quotas", "exit_offers"
MAX_RADIUS_M = 5000
"""Campaign radii are 3–5 km: nearby lists look for stores and malls this far away."""
MAX_ORDER_CLAIMS = 10


def _location(places: Directory, coupon: Coupon) -> GeoPoint | None:
    """Where a campaign is centred: its store, or its mall for a mall-wide coupon."""
    target: Store | Mall | None = (
        places.stores.get(coupon.store_id) if coupon.store_id else places.malls.get(coupon.mall_id or "")
    )
    return target.location if target else None


def _coupon(doc: dict[str, Any]) -> Coupon:
    return Coupon.model_validate(doc)


def _claim(doc: dict[str, Any]) -> CouponClaim:
    return CouponClaim.model_validate(doc)


def _quota_key(coupon_id: str, member_id: str) -> str:
    return f"{coupon_id}:{member_id}"


async def live_coupons(
    documents: DocumentStore,
    *,
    brand_ids: Sequence[str] | None = None,
    mall_id: str | None = None,
    in_stock: bool = False,
    skip: int = 0,
    limit: int | None = None,
) -> list[Coupon]:
    """Standard (not exit) coupons live now, of these brands and/or this mall, biggest discount first (then
    id); `in_stock` drops sold-out ones. One query: what other domains (places) use to list coupons."""
    query = rules.live_query(now_ms())
    if brand_ids is not None:
        query["brand_id"] = {"$in": list(brand_ids)}
    if mall_id is not None:
        query["mall_id"] = mall_id
    order = [("discount_fen", -1), ("_id", 1)]
    if not in_stock:
        docs = await documents.find(COUPONS, query, sort=order, skip=skip, limit=limit or 0)
        return [_coupon(d) for d in docs]
    found = [
        c for c in map(_coupon, await documents.find(COUPONS, query, sort=order)) if c.claimed < c.total_stock
    ]
    return found[skip : None if limit is None else skip + limit]


def _unreserved(now: int) -> dict[str, Any]:
    """Claims no pending order holds: never reserved, released, or reserved longer than RESERVATION_MS ago."""
    return {
        "$or": [
            {"reserved_order_id": None},
            {"reserved_ms": {"$lt": now - rules.RESERVATION_MS}},
        ]
    }


def _exit_key(member_id: str, mall_id: str, coupon_id: str) -> str:
    return f"{member_id}:{mall_id}:{coupon_id}"


def _status_query(status: ClaimStatus | None, now: int) -> dict[str, Any]:
    if status == "redeemed":
        return {"status": "redeemed"}
    if status == "claimed":
        return {"status": "claimed", "coupon_ends_ms": {"$gt": now}}
    if status == "expired":
        return {"status": "claimed", "coupon_ends_ms": {"$lte": now}}
    return {}


class Coupons:
    def __init__(
        self,
        *,
        documents: DocumentStore,
        events: AppEvents,
        catalog: Catalog,
        settings: Settings,
        directories: Directories,
    ) -> None:
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
        self._directories = directories
        self._indexed = False

    async def _places(self) -> Directory:
        """The process's store directory (guang/places/directory.py); this domain's indexes on first use."""
        if not self._indexed:
            docs = self._documents
            await docs.create_index(CLAIMS, [("member_id", 1), ("claimed_ms", -1)])
            await docs.create_index(COUPONS, [("mall_id", 1), ("kind", 1)])
            await docs.create_index(COUPONS, [("store_id", 1)])
            await docs.create_index(QUOTAS, [("member_id", 1)])
            self._indexed = True
        return await self._directories.get()

    async def _with_quotas(
        self, collection: str, pipeline: list[dict[str, Any]], member_id: str | None
    ) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
        """Run `pipeline` on `collection` and, for a shopper, read their used quotas in the same round trip
        (`$unionWith`): (documents, coupon id -> used, or None for anonymous callers)."""
        if member_id is None:
            return await self._documents.aggregate(collection, pipeline), None
        quotas = {"coll": QUOTAS, "pipeline": [{"$match": {"member_id": member_id, "used": {"$gt": 0}}}]}
        rows = await self._documents.aggregate(collection, [*pipeline, {"$unionWith": quotas}])
        used = {str(r["coupon_id"]): int(r["used"]) for r in rows if "used" in r}
        return [r for r in rows if "used" not in r], used

    async def _get_coupon(self, coupon_id: str) -> Coupon:
        doc = await self._documents.find_one(COUPONS, {"_id": coupon_id})
        if doc is None:
            raise NotFound(f"no coupon {coupon_id}")
        return _coupon(doc)

    async def _offers(
        self,
        coupons: Sequence[Coupon],
        *,
        member_id: str | None,
        distances: dict[str, float] | None = None,
        used: dict[str, int] | None = None,
    ) -> list[CouponOffer]:
        """Views of `coupons`, with the member's remaining quota (`used`: already read with the coupons,
        else read here in one query)."""
        places = await self._places()
        if used is None and member_id is not None and coupons:
            used = {}
            keys = [_quota_key(c.id, member_id) for c in coupons]
            for doc in await self._documents.find(QUOTAS, {"_id": {"$in": keys}}):
                used[doc["coupon_id"]] = int(doc.get("used", 0))
        used = used or {}
        offers = []
        for c in coupons:
            remaining = rules.remaining_stock(c)
            claimable = None
            if member_id is not None:
                claimable = min(remaining, max(0, c.per_user_quota - used.get(c.id, 0)))
            store = places.stores.get(c.store_id) if c.store_id else None
            mall = places.malls.get(c.mall_id) if c.mall_id else None
            offers.append(
                CouponOffer(
                    coupon=c,
                    brand_name=brand.name if (brand := places.brands.get(c.brand_id)) else "",
                    store_name=store.name if store else None,
                    mall_name=mall.name if mall else None,
                    remaining_stock=remaining,
                    distance_m=None if distances is None else distances.get(c.id),
                    claimable=claimable,
                )
            )
        return offers

    async def _offer(self, coupon: Coupon, member_id: str | None) -> CouponOffer:
        [offer] = await self._offers([coupon], member_id=member_id)
        return offer

    async def coupon(self, *, coupon_id: str, member_id: str | None) -> CouponOffer:
        return await self._offer(await self._get_coupon(coupon_id), member_id)

    async def in_mall(
        self, mall_id: str, *, member_id: str | None, skip: int, limit: int
    ) -> list[CouponOffer]:
        """Coupons of the mall live now (sold-out ones too), biggest discount first."""
        live = await live_coupons(self._documents, mall_id=mall_id, skip=skip, limit=limit)
        return await self._offers(live, member_id=member_id)

    async def nearby(self, *, lat: float, lng: float, member_id: str | None) -> list[CouponOffer]:
        """Live standard coupons with stock whose store (or mall) is within their radius, nearest first.
        Distances come from the in-memory directory; one coupons query, one quota query (shoppers)."""
        check_position(lat, lng)
        places = await self._places()
        stores = {s.id: d for s, d in places.stores_near(lat=lat, lng=lng, radius_m=MAX_RADIUS_M)}
        malls = {m.id: d for m, d in places.malls_near(lat=lat, lng=lng, radius_m=MAX_RADIUS_M)}
        if not stores and not malls:
            return []
        query = {
            "$or": [
                {"store_id": {"$in": list(stores)}},
                {"store_id": None, "mall_id": {"$in": list(malls)}},
            ],
            **rules.live_query(now_ms()),
        }
        docs, used = await self._with_quotas(COUPONS, [{"$match": query}], member_id)
        found: list[tuple[float, Coupon]] = []
        for doc in docs:
            coupon = _coupon(doc)
            d = stores.get(coupon.store_id) if coupon.store_id else malls.get(coupon.mall_id or "")
            if d is not None and d <= coupon.radius_m and rules.remaining_stock(coupon) > 0:
                found.append((d, coupon))
        found.sort(key=lambda dc: (dc[0], dc[1].id))
        distances = {c.id: round(d, 1) for d, c in found}
        return await self._offers([c for _, c in found], member_id=member_id, distances=distances, used=used)

    async def claim(self, *, coupon_id: str, member_id: str, lat: float, lng: float) -> ClaimedCoupon:
        """Claim one coupon: time window, then radius, then quota, then stock (each refusal explained)."""
        check_position(lat, lng)
        coupon = await self._get_coupon(coupon_id)
        now = now_ms()
        rules.check_window(coupon, now)
        location = _location(await self._places(), coupon)
        if location is None:
            raise Conflict(f"coupon {coupon_id} has no store or mall to claim it around")
        distance = distance_to(location, lat=lat, lng=lng)
        rules.check_radius(coupon, distance)
        if coupon.kind == "exit":
            await self._check_exit_offer(coupon, member_id, now)
        if coupon.total_stock - coupon.claimed <= 0:
            raise Conflict(f"coupon {coupon_id} is sold out")
        await self._take_quota(coupon, member_id)
        stock = {"$or": [{"claimed": {"$lt": coupon.total_stock}}, {"claimed": {"$exists": False}}]}
        if not await self._documents.update_one(
            COUPONS, {"_id": coupon_id, **stock}, {"$inc": {"claimed": 1}}
        ):
            await self._documents.update_one(
                QUOTAS, {"_id": _quota_key(coupon_id, member_id), "used": {"$gt": 0}}, {"$inc": {"used": -1}}
            )
            raise Conflict(f"coupon {coupon_id} is sold out")
        claim = CouponClaim(
            id=f"clm-{uuid.uuid4().hex}",
            coupon_id=coupon_id,
            member_id=member_id,
            claimed_ms=now,
            coupon_ends_ms=coupon.ends_ms,
        )
        await self._documents.insert_one(CLAIMS, {"_id": claim.id, **claim.model_dump(mode="json")})
        event = InteractionEvent(
            type="interaction",
            event_id=new_event_id(),
            ts_ms=now,
            mall_id=coupon.mall_id,
            store_id=coupon.store_id,
            user_id=member_id,
            action="claim",
            target_type="coupon",
            target_id=coupon_id,
            surface="EXIT" if coupon.kind == "exit" else "FEED",
        )
        await self._events.emit(event, dedupe_id=f"claim:{claim.id}")
        fresh = await self._get_coupon(coupon_id)
        return ClaimedCoupon(claim=claim, offer=await self._offer(fresh, member_id), status="claimed")

    async def _take_quota(self, coupon: Coupon, member_id: str) -> None:
        key = _quota_key(coupon.id, member_id)
        await self._documents.insert_one(
            QUOTAS, {"_id": key, "coupon_id": coupon.id, "member_id": member_id, "used": 0}
        )
        if not await self._documents.update_one(
            QUOTAS, {"_id": key, "used": {"$lt": coupon.per_user_quota}}, {"$inc": {"used": 1}}
        ):
            times = "once" if coupon.per_user_quota == 1 else f"{coupon.per_user_quota} times"
            raise Conflict(
                f"you have already claimed coupon {coupon.id} {times}, the most allowed per shopper"
            )

    async def my_claims(
        self, *, member_id: str, status: ClaimStatus | None, skip: int, limit: int
    ) -> list[ClaimedCoupon]:
        """The member's own claims, newest first, with their coupons and quotas: one round trip."""
        now = now_ms()
        page: list[dict[str, Any]] = [
            {"$match": {"member_id": member_id, **_status_query(status, now)}},
            {"$sort": {"claimed_ms": -1, "_id": -1}},
            {"$skip": skip},
            {"$limit": limit},
            {"$lookup": {"from": COUPONS, "localField": "coupon_id", "foreignField": "_id", "as": "coupon"}},
        ]
        rows, used = await self._with_quotas(CLAIMS, page, member_id)
        claims = [_claim(r) for r in rows]
        coupons = {c["_id"]: _coupon(c) for r in rows for c in r.get("coupon", [])}
        offers = {
            o.coupon.id: o for o in await self._offers(list(coupons.values()), member_id=member_id, used=used)
        }
        return [
            ClaimedCoupon(claim=c, offer=offers[c.coupon_id], status=rules.claim_status(c, now))
            for c in claims
            if c.coupon_id in offers
        ]

    async def redeem(self, *, claim_id: str, store_id: str, by: str) -> ClaimedCoupon:
        """核销 at a store by its staff or till: exactly once, only where the coupon applies, and not while a
        pending order's checkout holds the claim (an expired hold is taken over)."""
        doc = await self._documents.find_one(CLAIMS, {"_id": claim_id})
        if doc is None:
            raise NotFound(f"no coupon claim {claim_id}")
        claim = _claim(doc)
        coupon = await self._get_coupon(claim.coupon_id)
        store = self._catalog.stores.get(store_id)
        if store is None:
            raise Forbidden(f"unknown store {store_id}")
        why = rules.not_applicable(coupon, store)
        if why:
            raise Forbidden(why)
        now = now_ms()
        if claim.status == "redeemed":
            raise Conflict(f"coupon claim {claim_id} was already redeemed")
        if now >= coupon.ends_ms:
            raise Conflict(f"coupon claim {claim_id} has expired: coupon {coupon.id} ended")
        if rules.reserved_by_other(claim, None, now):
            raise Conflict(rules.reserved_message(claim))
        done = {
            "status": "redeemed", "redeemed_ms": now, "redeemed_by": by, "redeemed_store_id": store_id,
            "reserved_order_id": None, "reserved_ms": None,
        }  # fmt: skip
        if not await self._documents.update_one(
            CLAIMS, {"_id": claim_id, "status": "claimed", **_unreserved(now)}, {"$set": done}
        ):
            current = await self._documents.find_one(CLAIMS, {"_id": claim_id})
            if current is not None and current.get("status") == "claimed":
                raise Conflict(rules.reserved_message(_claim(current)))
            raise Conflict(f"coupon claim {claim_id} was already redeemed")
        redeemed = claim.model_copy(update=done)
        return ClaimedCoupon(claim=redeemed, offer=await self._offer(coupon, None), status="redeemed")

    async def _member_claims(
        self, claim_ids: Sequence[str], member_id: str
    ) -> list[tuple[CouponClaim, Coupon]]:
        """The member's claims with their coupons, in the order given; unknown or others' claims refused."""
        if len(set(claim_ids)) != len(claim_ids):
            raise Invalid("a coupon claim is listed twice")
        if len(claim_ids) > MAX_ORDER_CLAIMS:
            raise Invalid(f"at most {MAX_ORDER_CLAIMS} coupons per order")
        docs = {
            d["_id"]: _claim(d) for d in await self._documents.find(CLAIMS, {"_id": {"$in": list(claim_ids)}})
        }
        for claim_id in claim_ids:
            if claim_id not in docs or docs[claim_id].member_id != member_id:
                raise Invalid(f"no coupon claim {claim_id} of yours")
        coupon_ids = sorted({c.coupon_id for c in docs.values()})
        coupons = {
            d["_id"]: _coupon(d) for d in await self._documents.find(COUPONS, {"_id": {"$in": coupon_ids}})
        }
        missing = [c for c in coupon_ids if c not in coupons]
        if missing:
            raise Invalid(f"coupon {missing[0]} no longer exists")
        return [(docs[i], coupons[docs[i].coupon_id]) for i in claim_ids]

    def _store(self, store_id: str) -> CatalogStore:
        store = self._catalog.stores.get(store_id)
        if store is None:
            raise Invalid(f"unknown store {store_id}")
        return store

    async def discount_for(
        self, *, claim_ids: Sequence[str], member_id: str, store_id: str, amount_fen: int, now_ms: int
    ) -> int:
        """The discount these claims give on an order of `amount_fen` at `store_id` (nothing is changed)."""
        store = self._store(store_id)
        pairs = await self._member_claims(claim_ids, member_id)
        return rules.order_discount(
            pairs, member_id=member_id, store=store, amount_fen=amount_fen, now_ms=now_ms
        )

    async def reserve_for_order(
        self, *, claim_ids: Sequence[str], member_id: str, order_id: str, now_ms: int
    ) -> None:
        """Hold the claims for a pending order, all or none: each one flips, in one conditional update, from
        claimed and unreserved (or held by an order unpaid for longer than RESERVATION_MS) to reserved for
        `order_id`. A claim held by another pending order or redeemed refuses the checkout (CONFLICT)."""
        held: list[str] = []
        hold = {"$set": {"reserved_order_id": order_id, "reserved_ms": now_ms}}
        for claim_id in claim_ids:
            query = {"_id": claim_id, "member_id": member_id, "status": "claimed", **_unreserved(now_ms)}
            if await self._documents.update_one(CLAIMS, query, hold):
                held.append(claim_id)
                continue
            current = await self._documents.find_one(CLAIMS, {"_id": claim_id})
            await self.release_order(claim_ids=held, order_id=order_id)
            if current is None or current.get("member_id") != member_id:
                raise Invalid(f"no coupon claim {claim_id} of yours")
            if current.get("status") == "redeemed":
                raise Conflict(f"coupon claim {claim_id} was already redeemed")
            raise Conflict(rules.reserved_message(_claim(current)))

    async def release_order(self, *, claim_ids: Sequence[str], order_id: str) -> None:
        """Give back the claims `order_id` holds (a checkout that did not complete)."""
        free = {"$set": {"reserved_order_id": None, "reserved_ms": None}}
        for claim_id in claim_ids:
            await self._documents.update_one(
                CLAIMS, {"_id": claim_id, "status": "claimed", "reserved_order_id": order_id}, free
            )

    async def redeem_for_order(
        self, *, claim_ids: Sequence[str], member_id: str, store_id: str, order_id: str
    ) -> list[str]:
        """Mark the claims redeemed by a paid order, all or none; only claims this order's checkout reserved
        (and no one has taken over since) are redeemed. A retry for the same order returns the same ids.
        The time window is not checked again: the discount was granted when the order was made."""
        store = self._store(store_id)
        pairs = await self._member_claims(claim_ids, member_id)
        for _claim_doc, coupon in pairs:
            why = rules.not_applicable(coupon, store)
            if why:
                raise Invalid(why)
        now = now_ms()
        done = {
            "status": "redeemed", "redeemed_ms": now, "redeemed_by": "order", "redeemed_store_id": store_id,
            "order_id": order_id,
        }  # fmt: skip
        changed: list[str] = []
        for claim_id in claim_ids:
            query = {
                "_id": claim_id,
                "member_id": member_id,
                "status": "claimed",
                "reserved_order_id": order_id,
            }
            if await self._documents.update_one(CLAIMS, query, {"$set": done}):
                changed.append(claim_id)
                continue
            current = await self._documents.find_one(CLAIMS, {"_id": claim_id})
            if current is not None and current.get("status") == "redeemed":
                if current.get("order_id") == order_id:
                    continue
                await self._undo(changed, order_id)
                raise Conflict(f"coupon claim {claim_id} was already redeemed")
            await self._undo(changed, order_id)
            raise Conflict(f"coupon claim {claim_id} is not reserved for order {order_id}")
        return list(claim_ids)

    async def _undo(self, claim_ids: Sequence[str], order_id: str) -> None:
        undo = {"status": "claimed", "redeemed_ms": None, "redeemed_by": None, "redeemed_store_id": None,
                "order_id": None}  # fmt: skip
        for claim_id in claim_ids:
            await self._documents.update_one(
                CLAIMS, {"_id": claim_id, "status": "redeemed", "order_id": order_id}, {"$set": undo}
            )

    async def exit_offer(self, *, mall_id: str, member_id: str, lat: float, lng: float) -> ExitOffer | None:
        """The best live exit (回来再逛) coupon of the mall the shopper can still claim from where they are,
        offered only once they have left: `(lat, lng)` outside the mall's geofence (Mall.radius_m). The offer
        is recorded so that `claim` accepts the coupon for EXIT_OFFER_MS. None while still inside."""
        check_position(lat, lng)
        places = await self._places()
        if mall_id not in places.malls:
            raise NotFound(f"no mall {mall_id}")
        mall = places.malls[mall_id]
        distance = distance_to(mall.location, lat=lat, lng=lng)
        if distance <= mall.radius_m:
            return None
        now = now_ms()
        query = {"mall_id": mall_id, **rules.live_query(now, kind="exit")}
        docs, used = await self._with_quotas(COUPONS, [{"$match": query}], member_id)
        coupons = [c for c in map(_coupon, docs) if distance <= c.radius_m]
        best = rules.best_exit(await self._offers(coupons, member_id=member_id, used=used), now)
        if best is None:
            return None
        offer = {"member_id": member_id, "mall_id": mall_id, "coupon_id": best.coupon.id, "offered_ms": now}
        await self._documents.update_one(
            EXIT_OFFERS, {"_id": _exit_key(member_id, mall_id, best.coupon.id)}, {"$set": offer}, upsert=True
        )
        return ExitOffer(offer=best, reason=rules.exit_reason(best.coupon))

    async def _check_exit_offer(self, coupon: Coupon, member_id: str, now: int) -> None:
        """An exit coupon is claimed only after exitOffer offered it to this shopper outside its mall."""
        offer = None
        if coupon.mall_id is not None:
            key = _exit_key(member_id, coupon.mall_id, coupon.id)
            offer = await self._documents.find_one(
                EXIT_OFFERS, {"_id": key, "offered_ms": {"$gte": now - rules.EXIT_OFFER_MS}}
            )
        if offer is None:
            hours = rules.EXIT_OFFER_MS // 3_600_000
            raise Forbidden(
                f"coupon {coupon.id} is a 回来再逛 coupon: it is offered as you leave the mall "
                f"(exitOffer) and can be claimed within {hours} h of that offer"
            )
