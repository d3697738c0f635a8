"""The recommender service: who is here, what might they want, in this store, now."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from guang.adapters.ports import (
    BackendUnavailable,
    FeatureStore,
    VectorFilter,
    VectorHit,
    VectorIndex,
    VectorQuery,
)
from guang.domain import keys
from guang.domain.events import member_subject
from guang.domain.features import ShopperHistory, SubjectFeatures
from guang.services.catalog import Catalog, CatalogProduct
from recsys.arms import assignment
from recsys.candidates import Deal, Pool, Source, by_rank, by_share, deal_strengths
from recsys.fallback import InStock, PopularLists, ServingHealth
from recsys.models import Audience, RecItem, RecList, Surface
from recsys.ranking import (
    Interest,
    Weights,
    blend_interest,
    query_vector,
    reason,
    score,
    season_fit,
    season_of,
)
from recsys.rules import RuleConfig, diversify, drop_bought, drop_capped

CANDIDATES = 60
SEARCH_EF = 64
BEST_SELLERS = 30
STAFF_PICKS = 3
"""The newest few 店员说 picks of a store (or mall) vouch for their items; more would crowd the best sellers
out of the list shown when nobody is known."""
AUDIENCE_SIZE = 3
DEAL_ITEMS = 5
"""Items per list a live coupon vouches for (those it discounts most, relative to their price)."""


@dataclass(frozen=True)
class Scope:
    where: VectorFilter
    best: list[str]
    otherwise: str
    """The reason given when nothing about the shopper explains an item."""
    mall_id: str | None = None
    """Whose trending items are candidates."""
    picks: tuple[str, ...] = ()
    """店员说 products of the stores in scope."""
    stocked: frozenset[str] | None = None
    """Only these SKUs (a store's stock) may come from mall-wide sources; None: no limit."""
    deals: tuple[tuple[str, float, str], ...] = ()
    """(sku, strength, reason) of the items live coupons in scope discount most."""


async def _nothing_in_stock() -> Mapping[str, Sequence[str]]:
    return {}


StaffPicks = Callable[[], Awaitable[Mapping[str, Sequence[str]]]]
"""Store id → products its staff's shown 店员说 posts link to, newest first."""
Deals = Callable[[], Awaitable[Mapping[str, Deal]]]
"""Store id → the live coupon that saves the most there."""


async def _no_deals() -> Mapping[str, Deal]:
    return {}


def new_rec_id() -> str:
    return "rec_" + uuid.uuid4().hex[:16]


class Recommender:
    def __init__(
        self,
        *,
        catalog: Catalog,
        features: FeatureStore,
        vectors: VectorIndex,
        half_life_s: float,
        presence_window_s: float,
        weights: Weights | None = None,
        rules: RuleConfig | None = None,
        in_stock: InStock | None = None,
        staff_picks: StaffPicks | None = None,
        deals: Deals | None = None,
        surface_weights: Mapping[str, Weights] | None = None,
        brand_boosts: Mapping[str, float] | None = None,
    ) -> None:
        """`surface_weights`: Weights per surface name (others use `weights`); `brand_boosts`: brand id →
        score added to its products (a promotion)."""
        self._catalog = catalog
        self._features = features
        self._vectors = vectors
        self._half_life_s = half_life_s
        self._presence_window_ms = int(presence_window_s * 1000)
        self._weights = weights or Weights()
        self._surface_weights = dict(surface_weights or {})
        self._brand_boosts = dict(brand_boosts or {})
        self._rules = rules or RuleConfig()
        self._popular = PopularLists(catalog, in_stock, new_rec_id=new_rec_id)
        self._in_stock: InStock = in_stock or _nothing_in_stock
        self._knows_stock = in_stock is not None
        self._staff_picks: StaffPicks = staff_picks or _nothing_in_stock
        self._deals: Deals = deals or _no_deals
        self._deal_items: dict[str, tuple[object, object, tuple[tuple[str, float, str], ...]]] = {}
        """A store's deal items, reused while the stock and coupon snapshots they came from are current."""
        by_mall: dict[str, list[str]] = {}
        for store in catalog.stores.values():
            by_mall.setdefault(store.mall_id, []).append(store.id)
        self._stores_by_mall = {mall: tuple(sorted(stores)) for mall, stores in by_mall.items()}
        self._mall_scopes: dict[str, tuple[object, object, object, Scope]] = {}
        """A mall's scope, reused while the stock and staff-pick snapshots it was built from are current."""
        self.health = ServingHealth()
        self._max_popularity = max((p.popularity for p in catalog.products.values()), default=0)

    async def for_store(self, store_id: str, *, limit: int, surface: Surface = Surface.SCREEN) -> RecList:
        """What is most worth showing to whoever is in this store now; the store's best if nobody is known."""
        try:
            return self._served(await self._for_store(store_id, limit=limit, surface=surface))
        except BackendUnavailable as error:
            self.health.failed(str(error))
            return await self._popular.for_store(store_id, limit=limit, surface=surface)

    async def for_member(
        self,
        member_id: str,
        *,
        limit: int,
        surface: Surface = Surface.FEED,
        mall_id: str | None = None,
        store_id: str | None = None,
    ) -> RecList:
        """One shopper's list from their own interest, else what sells best: across the catalog (FEED), in
        stock in a mall (ARRIVAL, PARKING, EXIT) or at one store (GUIDE: what staff should show them)."""
        try:
            scope = await self._scope(surface, mall_id=mall_id, store_id=store_id)
            return self._served(await self._for_member(member_id, limit=limit, surface=surface, scope=scope))
        except BackendUnavailable as error:
            self.health.failed(str(error))
            if store_id is not None:
                return await self._popular.for_store(store_id, limit=limit, surface=surface)
            return self._popular.everywhere(limit=limit, surface=surface)

    async def after_purchase(
        self, member_id: str, *, store_id: str, bought: Sequence[str], limit: int
    ) -> RecList:
        """PAY_SUCCESS: what goes with what was just bought, in the same store. Products bought together
        with it elsewhere lead; then the shopper's interest and the store's best, never the same category."""
        try:
            recs = await self._after_purchase(member_id, store_id=store_id, bought=bought, limit=limit)
            return self._served(recs)
        except BackendUnavailable as error:
            self.health.failed(str(error))
            return await self._popular.for_store(store_id, limit=limit, surface=Surface.PAY_SUCCESS)

    def _served(self, recs: RecList) -> RecList:
        if self.health.degraded:
            self.health.recovered()
        return recs

    async def _for_store(self, store_id: str, *, limit: int, surface: Surface) -> RecList:
        now_ms = int(time.time() * 1000)
        scope = await self._scope(surface, mall_id=None, store_id=store_id)
        (audience, best, history), trending = await asyncio.gather(
            self._features.store_context(
                store_id,
                since_ms=now_ms - self._presence_window_ms,
                people=AUDIENCE_SIZE,
                best=BEST_SELLERS,
                surface=surface.value,
                day=keys.local_day(now_ms),
            ),
            self._trending(scope),
        )
        interest = blend_interest(audience, now_ms=now_ms, half_life_s=self._half_life_s)
        pool = self._pool(best, scope, trending)
        chosen = await self._rank(scope.where, interest, pool, history, limit, now_ms=now_ms, surface=surface)
        kind = (
            Audience.STORE_BEST
            if interest.empty
            else Audience.PERSONAL
            if len(audience) == 1
            else Audience.GROUP
        )
        cause = max(audience, key=lambda f: f.ts_ms).last_event_id if audience else None
        return RecList(
            rec_id=new_rec_id(),
            surface=surface,
            audience=kind,
            items=self._explained(chosen, audience, pool, otherwise=scope.otherwise),
            store_id=store_id,
            cause_event_id=cause,
            generated_ms=now_ms,
        )

    async def _for_member(self, member_id: str, *, limit: int, surface: Surface, scope: Scope) -> RecList:
        now_ms = int(time.time() * 1000)
        (people, history), trending = await asyncio.gather(
            self._features.audience(
                [member_subject(member_id)], surface=surface.value, day=keys.local_day(now_ms)
            ),
            self._trending(scope),
        )
        interest = blend_interest(people, now_ms=now_ms, half_life_s=self._half_life_s)
        arm = assignment(member_id)
        pool = self._pool(scope.best, scope, trending)
        chosen = await self._rank(
            scope.where, interest, pool, history, limit, now_ms=now_ms, surface=surface, rules=arm.rules
        )
        return RecList(
            rec_id=new_rec_id(),
            surface=surface,
            audience=Audience.STORE_BEST if interest.empty else Audience.PERSONAL,
            items=self._explained(chosen, people, pool, otherwise=scope.otherwise),
            store_id=scope.where.store_id,
            cause_event_id=people[0].last_event_id if people else None,
            generated_ms=now_ms,
            experiment=arm.experiment,
            arm=arm.arm,
        )

    async def _scope(self, surface: Surface, *, mall_id: str | None, store_id: str | None) -> Scope:
        """Where the items must be in stock, what to fall back on, and the reason when nothing is known."""
        if store_id is not None:
            in_stock, deals = await self._in_stock(), await self._deals()
            stocked = in_stock.get(store_id, ())
            store = self._catalog.stores.get(store_id)
            return Scope(
                VectorFilter(store_id=store_id),
                list(stocked[:BEST_SELLERS]),
                "本店热销",
                mall_id=store.mall_id if store else None,
                picks=tuple((await self._staff_picks()).get(store_id, ())),
                stocked=frozenset(stocked) if self._knows_stock else None,
                deals=self._store_deals(store_id, in_stock, deals),
            )
        if mall_id is not None:
            otherwise = "下次来逛逛" if surface == Surface.EXIT else "本场热门"
            in_stock, picks, deals = await self._in_stock(), await self._staff_picks(), await self._deals()
            cached = self._mall_scopes.get(mall_id)
            if cached is not None and cached[0] is in_stock and cached[1] is picks and cached[2] is deals:
                return replace(cached[3], otherwise=otherwise)
            stores = self._stores_by_mall.get(mall_id, ())
            products = self._catalog.products
            tops = (in_stock.get(store, ())[:BEST_SELLERS] for store in stores)
            mall_stock = {sku for top in tops for sku in top if sku in products}
            best = sorted(mall_stock, key=lambda sku: (-products[sku].popularity, sku))
            mall_picks = tuple(sku for store in stores for sku in picks.get(store, ()))
            by_store = (self._store_deals(store, in_stock, deals) for store in stores)
            strongest: dict[str, tuple[str, float, str]] = {}
            for sku, strength, text in (item for items in by_store for item in items):
                if strength > strongest.get(sku, (sku, -1.0, ""))[1]:
                    strongest[sku] = (sku, strength, text)
            scope = Scope(
                VectorFilter(store_ids=stores),
                best[:BEST_SELLERS],
                otherwise,
                mall_id=mall_id,
                picks=mall_picks,
                deals=tuple(sorted(strongest.values(), key=lambda d: (-d[1], d[0]))[:DEAL_ITEMS]),
            )
            self._mall_scopes[mall_id] = (in_stock, picks, deals, scope)
            return scope
        return Scope(VectorFilter(), self._popular.best[:BEST_SELLERS], "大家都在买")

    def _store_deals(
        self, store_id: str, in_stock: Mapping[str, Sequence[str]], deals: Mapping[str, Deal]
    ) -> tuple[tuple[str, float, str], ...]:
        deal = deals.get(store_id)
        if deal is None:
            return ()
        cached = self._deal_items.get(store_id)
        if cached is not None and cached[0] is in_stock and cached[1] is deals:
            return cached[2]
        products = self._catalog.products
        prices = {sku: products[sku].price_fen for sku in in_stock.get(store_id, ()) if sku in products}
        strengths = deal_strengths(prices, deal, top=DEAL_ITEMS)
        items = tuple((sku, strength, f"可用券：{deal.title}") for sku, strength in strengths.items())
        self._deal_items[store_id] = (in_stock, deals, items)
        return items

    async def _trending(self, scope: Scope) -> dict[str, float]:
        if scope.mall_id is None:
            return {}
        return await self._features.trending(scope.mall_id, top=BEST_SELLERS)

    def _pool(self, best: Sequence[str], scope: Scope, trending: Mapping[str, float]) -> Pool:
        pool = Pool()
        pool.add(Source.POPULAR, by_rank(best))
        allowed = scope.stocked
        pool.add(
            Source.TRENDING, by_share({s: v for s, v in trending.items() if allowed is None or s in allowed})
        )
        pool.add(Source.STAFF_PICK, by_rank(list(dict.fromkeys(scope.picks))[:STAFF_PICKS]))
        for sku, strength, text in scope.deals:
            pool.add(Source.DEAL, {sku: strength}, text=text)
        return pool

    async def _after_purchase(
        self, member_id: str, *, store_id: str, bought: Sequence[str], limit: int
    ) -> RecList:
        now_ms = int(time.time() * 1000)
        day = keys.local_day(now_ms)
        (people, history), partners, (_, best, _) = await asyncio.gather(
            self._features.audience([member_subject(member_id)], surface=Surface.PAY_SUCCESS.value, day=day),
            self._features.co_purchased(bought, per_sku=CANDIDATES),
            self._features.store_context(
                store_id,
                since_ms=now_ms,
                people=1,
                best=BEST_SELLERS,
                surface=Surface.PAY_SUCCESS.value,
                day=day,
            ),
        )
        interest = blend_interest(people, now_ms=now_ms, half_life_s=self._half_life_s)
        bought_products = [p for sku in bought if (p := self._catalog.products.get(sku)) is not None]
        bought_categories = {p.category for p in bought_products}
        strongest = max(partners.values(), default=0.0) or 1.0
        weights = self._weights_for(Surface.PAY_SUCCESS)
        ranked = [
            (p, score(p, 0.0, interest, self._max_popularity, weights) + partners.get(sku, 0.0) / strongest)
            for sku in dict.fromkeys([*partners, *best])
            if (p := self._catalog.products.get(sku)) is not None and p.category not in bought_categories
        ]
        ranked.sort(key=lambda pair: pair[1], reverse=True)
        arm = assignment(member_id)
        not_bought = drop_bought(ranked, set(history.bought) | set(bought), arm.rules)
        chosen = diversify(drop_capped(not_bought, history.shown_today, arm.rules), limit, arm.rules)
        anchor = bought_products[0].name if bought_products else "你刚买的"
        items = [
            RecItem(
                product=p,
                score=round(s, 4),
                reason=f"买了{anchor}的人也买了" if p.id in partners else f"和{anchor}很搭",
            )
            for p, s in chosen
        ]
        return RecList(
            rec_id=new_rec_id(),
            surface=Surface.PAY_SUCCESS,
            audience=Audience.PERSONAL,
            items=items,
            store_id=store_id,
            experiment=arm.experiment,
            arm=arm.arm,
            generated_ms=now_ms,
        )

    async def _rank(
        self,
        where: VectorFilter,
        interest: Interest,
        pool: Pool,
        history: ShopperHistory,
        limit: int,
        *,
        now_ms: int,
        surface: Surface,
        rules: RuleConfig | None = None,
    ) -> list[tuple[CatalogProduct, float]]:
        rules = rules or self._rules
        hits = await self._candidates(where, interest) if not interest.empty else []
        ranked = self._score(hits, pool, interest, season_of(now_ms), self._weights_for(surface))
        ranked = drop_capped(drop_bought(ranked, set(history.bought), rules), history.shown_today, rules)
        return diversify(ranked, limit, rules)

    def _weights_for(self, surface: Surface) -> Weights:
        return self._surface_weights.get(surface.value, self._weights)

    def _explained(
        self,
        chosen: Sequence[tuple[CatalogProduct, float]],
        audience: Sequence[SubjectFeatures],
        pool: Pool,
        *,
        otherwise: str,
    ) -> list[RecItem]:
        """The most specific reason: what the shopper did, else what vouches for the item, else
        `otherwise`."""
        zones = self._catalog.zones
        return [
            RecItem(
                product=p,
                score=round(s, 4),
                reason=reason(p, audience, zones, otherwise="") or pool.reason(p.id) or otherwise,
            )
            for p, s in chosen
        ]

    async def _candidates(self, where: VectorFilter, interest: Interest) -> list[VectorHit]:
        """Nearest items to the taste vector (and, in one store, nearest among its top categories too):
        candidates to rank, so a narrower graph search (SEARCH_EF) is worth its speed and no payload is
        read. Across a mall or the catalog the category-filtered search costs more than the plain one
        (1.8 against 1.2 ms at 50k items here), and the plain one already sits in the top categories."""
        vector = query_vector(interest, self._catalog.centroids)
        if vector is None:
            return []
        top_categories = sorted(interest.categories, key=interest.categories.__getitem__, reverse=True)[:3]
        queries = [VectorQuery(vector.tolist(), where, CANDIDATES, with_payload=False, hnsw_ef=SEARCH_EF)]
        if where.store_id:
            queries.append(
                VectorQuery(
                    vector.tolist(),
                    replace(where, categories=top_categories),
                    CANDIDATES,
                    with_payload=False,
                    hnsw_ef=SEARCH_EF,
                )
            )
        results = self._vectors.search_many(queries)
        return [hit for result in results for hit in result]

    def _score(
        self, hits: list[VectorHit], pool: Pool, interest: Interest, season: str, w: Weights
    ) -> list[tuple[CatalogProduct, float]]:
        similarity: dict[str, float] = {}
        for hit in hits:
            product = self._catalog.by_point.get(hit.id)
            if product is not None:
                similarity[product.id] = max(similarity.get(product.id, 0.0), hit.score)
        ranked = []
        for sku in dict.fromkeys([*similarity, *pool.skus]):
            product = self._catalog.products.get(sku)
            if product is None:
                continue
            value = (
                score(product, similarity.get(sku, 0.0), interest, self._max_popularity, w)
                + w.trending * pool.strength(sku, Source.TRENDING)
                + w.staff_pick * pool.strength(sku, Source.STAFF_PICK)
                + w.deal * pool.strength(sku, Source.DEAL)
                + w.season * season_fit(product, season)
                + self._brand_boosts.get(product.brand_id, 0.0)
            )
            ranked.append((product, value))
        ranked.sort(key=lambda pair: pair[1], reverse=True)
        return ranked
