"""Geo-targeted coupon campaigns: claim within quota and stock, redeem (核销) exactly once.

Exactness under concurrency comes from conditional updates on single documents, never from
read-then-write: a claim first takes a per-member quota slot (`coupon_quotas`, `used < quota`), then
one unit of stock (`coupons.claimed < total_stock`), giving the quota slot back if the stock is gone;
a redemption flips one `coupon_claims` document from `claimed` to `redeemed`.

A claim needs the shopper's position: a geo-targeted coupon is only for shoppers within its radius of
its store (or of its mall when it has no store). The position is checked, never stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guang.adapters.ports import DocumentStore
from guang.coupons import rules
from guang.coupons.models import ClaimedCoupon, ClaimStatus, CouponClaim, CouponOffer, ExitOffer
from guang.domain.errors import Conflict, Forbidden, Invalid, NotFound
from guang.domain.events import InteractionEvent
from guang.domain.geo import check_position, distance_to
from guang.domain.models import Coupon, GeoPoint
from guang.services.app_events import AppEvents, new_event_id, now_ms
from guang.services.catalog import Catalog, CatalogStore
from guang.settings import Settings

COUPONS, CLAIMS, QUOTAS = "coupons", "coupon_claims", "coupon_quotas"
MAX_RADIUS_M = 5000
"""Campaign radii are 3–5 km: nearby lists look for stores and malls this far away."""
MAX_ORDER_CLAIMS = 10


@dataclass(frozen=True)
class _Directory:
    """Names and locations of brands, malls and stores (static for the life of the process)."""

    brands: dict[str, str]
    malls: dict[str, tuple[str, GeoPoint]]
    stores: dict[str, tuple[str, GeoPoint]]

    def location(self, coupon: Coupon) -> GeoPoint | None:
        target = self.stores.get(coupon.store_id) if coupon.store_id else self.malls.get(coupon.mall_id or "")
        return target[1] if target else None


def _coupon(doc: dict[str, Any]) -> Coupon:
    return Coupon.model_validate(doc)


def _claim(doc: dict[str, Any]) -> CouponClaim:
    return CouponClaim.model_validate(doc)


def _quota_key(coupon_id: str, member_id: str) -> str:
    return f"{coupon_id}:{member_id}"


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
        self, *, documents: DocumentStore, events: AppEvents, catalog: Catalog, settings: Settings
    ) -> None:
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
        self._directory: _Directory | None = None

    async def _places(self) -> _Directory:
        if self._directory is None:
            docs = self._documents
            await docs.create_index(CLAIMS, [("member_id", 1), ("claimed_ms", -1)])
            await docs.create_index(COUPONS, [("mall_id", 1), ("kind", 1)])
            await docs.create_index(COUPONS, [("store_id", 1)])
            brands = {b["id"]: b["name"] for b in await docs.find("brands", projection={"id": 1, "name": 1})}
            fields = {"id": 1, "name": 1, "location": 1}
            malls = {
                m["id"]: (m["name"], GeoPoint.model_validate(m["location"]))
                for m in await docs.find("malls", projection=fields)
            }
            stores = {
                s["id"]: (s["name"], GeoPoint.model_validate(s["location"]))
                for s in await docs.find("stores", projection=fields)
            }
            self._directory = _Directory(brands, malls, stores)
        return self._directory

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
    ) -> list[CouponOffer]:
        """Views of `coupons`, with the member's remaining quota read in one query."""
        places = await self._places()
        used: dict[str, int] = {}
        if member_id is not None and coupons:
            keys = [_quota_key(c.id, member_id) for c in coupons]
            for doc in await self._documents.find(QUOTAS, {"_id": {"$in": keys}}):
                used[doc["coupon_id"]] = int(doc.get("used", 0))
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
                    brand_name=places.brands.get(c.brand_id, ""),
                    store_name=store[0] if store else None,
                    mall_name=mall[0] if mall else None,
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

    async def _near(self, collection: str, lat: float, lng: float) -> dict[str, float]:
        """Ids of the stores or malls within MAX_RADIUS_M of the point, with their distance."""
        near = {"type": "Point", "coordinates": [lng, lat]}
        stage = {"near": near, "distanceField": "d", "maxDistance": MAX_RADIUS_M, "spherical": True}
        rows = await self._documents.aggregate(
            collection, [{"$geoNear": stage}, {"$project": {"id": 1, "d": 1}}]
        )
        return {row["id"]: float(row["d"]) for row in rows}

    async def nearby(self, *, lat: float, lng: float, member_id: str | None) -> list[CouponOffer]:
        """Live standard coupons with stock whose store (or mall) is within their radius, nearest first."""
        check_position(lat, lng)
        await self._places()
        stores = await self._near("stores", lat, lng)
        malls = await self._near("malls", lat, lng)
        if not stores and not malls:
            return []
        now = now_ms()
        query = {
            "$or": [
                {"store_id": {"$in": list(stores)}},
                {"store_id": None, "mall_id": {"$in": list(malls)}},
            ],
            "kind": {"$ne": "exit"},
            "starts_ms": {"$lte": now},
            "ends_ms": {"$gt": now},
        }
        found: list[tuple[float, Coupon]] = []
        for doc in await self._documents.find(COUPONS, query):
            coupon = _coupon(doc)
            d = stores[coupon.store_id] if coupon.store_id else malls[coupon.mall_id or ""]
            if d <= coupon.radius_m and rules.remaining_stock(coupon) > 0:
                found.append((d, coupon))
        found.sort(key=lambda dc: (dc[0], dc[1].id))
        distances = {c.id: round(d, 1) for d, c in found}
        return await self._offers([c for _, c in found], member_id=member_id, distances=distances)

    async def claim(self, *, coupon_id: str, member_id: str, lat: float, lng: float) -> ClaimedCoupon:
        """Claim one coupon: time window, then radius, then quota, then stock (each refusal explained)."""
        check_position(lat, lng)
        coupon = await self._get_coupon(coupon_id)
        now = now_ms()
        rules.check_window(coupon, now)
        location = (await self._places()).location(coupon)
        if location is None:
            raise Conflict(f"coupon {coupon_id} has no store or mall to claim it around")
        distance = distance_to(location, lat=lat, lng=lng)
        rules.check_radius(coupon, distance)
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
        """The member's own claims, newest first."""
        now = now_ms()
        docs = await self._documents.find(
            CLAIMS,
            {"member_id": member_id, **_status_query(status, now)},
            sort=[("claimed_ms", -1), ("_id", -1)],
            skip=skip,
            limit=limit,
        )
        claims = [_claim(d) for d in docs]
        return await self._with_offers(claims, member_id=member_id, now=now)

    async def _with_offers(
        self, claims: Sequence[CouponClaim], *, member_id: str | None, now: int
    ) -> list[ClaimedCoupon]:
        ids = sorted({c.coupon_id for c in claims})
        coupons = [_coupon(d) for d in await self._documents.find(COUPONS, {"_id": {"$in": ids}})]
        offers = {o.coupon.id: o for o in await self._offers(coupons, member_id=member_id)}
        return [
            ClaimedCoupon(claim=c, offer=offers[c.coupon_id], status=rules.claim_status(c, now))
            for c in claims
            if c.coupon_id in offers
        ]

    async def redeem(self, *, claim_id: str, store_id: str, by: str) -> ClaimedCoupon:
        """核销 at a store by its staff or till: exactly once, only where the coupon applies."""
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
        done = {"status": "redeemed", "redeemed_ms": now, "redeemed_by": by, "redeemed_store_id": store_id}
        if not await self._documents.update_one(
            CLAIMS, {"_id": claim_id, "status": "claimed"}, {"$set": done}
        ):
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

    async def redeem_for_order(
        self, *, claim_ids: Sequence[str], member_id: str, store_id: str, order_id: str
    ) -> list[str]:
        """Mark the claims redeemed by a paid order, all or none; a retry for the same order returns the
        same ids. The time window is not checked again: the discount was granted when the order was made."""
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
            query = {"_id": claim_id, "member_id": member_id, "status": "claimed"}
            if await self._documents.update_one(CLAIMS, query, {"$set": done}):
                changed.append(claim_id)
                continue
            current = await self._documents.find_one(CLAIMS, {"_id": claim_id})
            if (
                current is not None
                and current.get("status") == "redeemed"
                and current.get("order_id") == order_id
            ):
                continue
            await self._undo(changed, order_id)
            raise Conflict(f"coupon claim {claim_id} was already redeemed")
        return list(claim_ids)

    async def _undo(self, claim_ids: Sequence[str], order_id: str) -> None:
        undo = {"status": "claimed", "redeemed_ms": None, "redeemed_by": None, "redeemed_store_id": None,
                "order_id": None}  # fmt: skip
        for claim_id in claim_ids:
            await self._documents.update_one(
                CLAIMS, {"_id": claim_id, "status": "redeemed", "order_id": order_id}, {"$set": undo}
            )

    async def exit_offer(self, *, mall_id: str, member_id: str) -> ExitOffer | None:
        """The best live exit (回来再逛) coupon of the mall that the shopper can still claim, if any."""
        if mall_id not in (await self._places()).malls:
            raise NotFound(f"no mall {mall_id}")
        now = now_ms()
        query = {"mall_id": mall_id, "kind": "exit", "starts_ms": {"$lte": now}, "ends_ms": {"$gt": now}}
        coupons = [_coupon(d) for d in await self._documents.find(COUPONS, query)]
        best = rules.best_exit(await self._offers(coupons, member_id=member_id), now)
        return None if best is None else ExitOffer(offer=best, reason=rules.exit_reason(best.coupon))
