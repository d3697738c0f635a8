"""Recommendations in-process and warm (DESIGN §7: 100k items / 10k users, p99 ≤ 10 ms).

Own embedded Valkey and Qdrant edge shard in a temp dir; a synthetic catalog (Pareto popularity, 200
stores of ~500 in-stock items, 512-d vectors clustered by category); subjects present in stores, best
sellers, staff picks and a live coupon per store, some members' purchases and impressions today. Times
each surface as the API asks for it (a store's SCREEN list; a member's FEED, ARRIVAL in a mall, GUIDE at
a store, PAY_SUCCESS after two items) against floors from the same run: a bare Redis PING and one bare
filtered Qdrant query (limit 60)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import redis.asyncio as aioredis

from guang.adapters.engines import start_valkey
from guang.adapters.ports import VectorFilter, VectorPoint, VectorQuery
from guang.adapters.qdrant_edge_vectors import EdgeVectorIndex
from guang.adapters.redis_features import RedisFeatureStore, RedisFeatureWriter
from guang.bench.report import machine_facts, percentiles_ms, write_report
from guang.domain import keys
from guang.domain.events import member_subject
from guang.domain.features import LastDwell, SubjectFeatures
from guang.domain.writes import Put
from guang.runtime import progress_bar
from guang.seed.loader import BEST_PER_STORE
from guang.services.catalog import Catalog, CatalogProduct, CatalogStore, CatalogZone
from guang.settings import Settings
from recsys.candidates import Deal
from recsys.models import RecList, Surface
from recsys.service import CANDIDATES, Recommender

BUDGET_P99_MS = 10.0
DIM = 512
NOISE = 0.06  # per dimension: an item's cosine to its category centroid is ≈ 0.6
CATEGORIES = (
    "牛仔裤", "外套", "卫衣", "衬衫", "连衣裙", "运动鞋", "皮鞋", "包袋", "配饰", "内衣",
    "T恤", "毛衣", "羽绒服", "西装", "半身裙", "短裤", "运动服", "童装", "袜子", "帽子",
    "围巾", "手表", "眼镜", "首饰", "香水", "口红", "精华", "面霜", "洁面", "防晒",
    "咖啡豆", "茶叶", "坚果礼盒", "零食", "饮料", "玩具", "家居", "床品", "厨具", "数码配件",
)  # fmt: skip
SEASONS = ("spring", "summer", "autumn", "winter")
BRANDS, STORES, MALLS, STOCK_PER_STORE, ZONES_PER_STORE = 60, 200, 10, 500, 8
MEMBER_SHARE, HISTORY_SHARE = 0.3, 0.4  # of subjects; of members: purchases and impressions today
WARMUP, LIMIT, CHUNK, SEED = 200, 8, 1000, 7
SURFACES = (Surface.SCREEN, Surface.FEED, Surface.ARRIVAL, Surface.GUIDE, Surface.PAY_SUCCESS)
PICKS_PER_STORE = 6
A = TypeVar("A")
T = TypeVar("T")
Shelves = dict[str, dict[str, list[str]]]  # store → category → SKUs in stock there


@contextlib.contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    phases[name] = round(time.perf_counter() - started, 2)


def _catalog(items: int, rng: np.random.Generator) -> tuple[Catalog, np.ndarray, Shelves]:
    """Products, stores, zones (each store's biggest categories) and centroids; vectors; shelves."""
    cats = rng.integers(len(CATEGORIES), size=items)
    brands = rng.integers(BRANDS, size=items)
    popularity = np.minimum((rng.pareto(1.2, size=items) + 1.0) * 10, 1_000_000).astype(np.int64)
    prices = rng.integers(29, 2_999, size=items) * 100
    centres = rng.standard_normal((len(CATEGORIES), DIM)).astype(np.float32)
    vectors = centres[cats] / np.sqrt(DIM) + NOISE * rng.standard_normal((items, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    products = [
        CatalogProduct(
            f"sku-{row + 1:06d}", row + 1, f"品牌{brands[row]:02d} {CATEGORIES[cats[row]]}",
            CATEGORIES[cats[row]], f"brand-{brands[row]:02d}", f"品牌{brands[row]:02d}",
            SEASONS[row % len(SEASONS)], int(prices[row]), int(popularity[row]),
        )
        for row in range(items)
    ]  # fmt: skip
    weights = np.sqrt(popularity.astype(np.float64))
    weights /= weights.sum()
    stores: list[CatalogStore] = []
    zones: list[CatalogZone] = []
    shelves: Shelves = {}
    for n in range(STORES):
        store_id = f"store-{n:03d}"
        stores.append(
            CatalogStore(store_id, f"门店{n:03d}", f"brand-{n % BRANDS:02d}", f"mall-{n % MALLS:02d}")
        )
        shelf: dict[str, list[str]] = defaultdict(list)
        for row in rng.choice(items, min(STOCK_PER_STORE, items), replace=False, p=weights):
            shelf[products[row].category].append(products[row].id)
        shelves[store_id] = shelf
        biggest = sorted(shelf, key=lambda c: len(shelf[c]), reverse=True)[:ZONES_PER_STORE]
        zones += [CatalogZone(f"{store_id}-z{z}", store_id, f"{c}区", c) for z, c in enumerate(biggest)]
    centroids = {name: vectors[cats == c].mean(axis=0) for c, name in enumerate(CATEGORIES)}
    centroids = {name: (v / (np.linalg.norm(v) or 1.0)).astype(np.float32) for name, v in centroids.items()}
    return Catalog(products, stores, zones, centroids), vectors, shelves


def _upsert(index: EdgeVectorIndex, catalog: Catalog, vectors: np.ndarray, shelves: Shelves) -> None:
    """Payload as the seed loader writes it (`store_ids`: where the item is in stock)."""
    store_ids: dict[str, list[str]] = defaultdict(list)
    for store_id, shelf in shelves.items():
        for sku in chain(*shelf.values()):
            store_ids[sku].append(store_id)
    products = list(catalog.products.values())
    index.ensure_collection(DIM)
    with progress_bar("向量 upsert vectors", len(products)) as advance:
        for start in range(0, len(products), 10 * CHUNK):  # bounded memory: lists of Python floats
            fields = ("category", "brand_id", "price_fen", "popularity")
            points = [
                VectorPoint(p.point_id, vectors[row].tolist(), {
                    "sku_id": p.id, "store_ids": store_ids.get(p.id, []), **{f: getattr(p, f) for f in fields}
                })
                for row, p in enumerate(products[start : start + 10 * CHUNK], start)
            ]  # fmt: skip
            index.upsert(points, advance)


def _subject(
    n: int, rng: random.Random, now_ms: int, zones: list[CatalogZone], shelf: dict[str, list[str]]
) -> tuple[SubjectFeatures, list[Put]]:
    """Someone who dwelt at a few zones of one store in the last 30 s; for some members, a few nearby
    items bought yesterday and today's impressions of others on each surface (some over the cap)."""
    picked = rng.sample(zones, rng.randint(2, min(4, len(zones))))
    nearby = [sku for z in picked for sku in shelf[z.category]]
    seen, zone = rng.sample(nearby, min(len(nearby), rng.randint(1, 3))), picked[0]
    member = rng.random() < MEMBER_SHARE
    features = SubjectFeatures(
        subject_id=member_subject(f"m{n:06d}") if member else f"v{n:06d}",
        ts_ms=now_ms - rng.randrange(30_000),
        category_scores={z.category: round(rng.uniform(0.5, 5.0), 3) for z in picked},
        sku_scores={sku: round(rng.uniform(0.5, 3.0), 3) for sku in seen},
        last_dwell=LastDwell(zone.store_id, zone.id, zone.category, rng.randrange(3_000, 120_000)),
        store_id=zone.store_id,
        last_event_id=f"bench-{n:06d}",
    )
    if not member or len(nearby) < 4 or rng.random() >= HISTORY_SHARE:
        return features, []
    subject, freq = features.subject_id, keys.subject_freq_key(features.subject_id, keys.local_day(now_ms))
    writes = [Put(keys.subject_bought(subject), now_ms - keys.DAY_MS, field=s) for s in rng.sample(nearby, 3)]
    writes += [
        Put(freq, rng.randint(1, 4), keys.freq_field(surface.value, "product", s))
        for surface in SURFACES
        for s in rng.sample(nearby, 4)
    ]
    return features, writes


async def _features(
    store: RedisFeatureStore, catalog: Catalog, shelves: Shelves, users: int
) -> tuple[int, list[str]]:
    """Write subjects (members with face consent) and store best sellers; return how many members have
    purchases and impressions, and the member ids."""
    rng = random.Random(SEED + 1)
    zones: dict[str, list[CatalogZone]] = defaultdict(list)
    for zone in catalog.zones.values():
        zones[zone.store_id].append(zone)
    stores, now_ms, with_history, members = list(catalog.stores), int(time.time() * 1000), 0, []
    writer = RedisFeatureWriter(store.url)
    try:
        with progress_bar("特征 write features", users) as advance:
            for start in range(0, users, CHUNK):
                batch: list[SubjectFeatures] = []
                writes: list[Put] = []
                for n in range(start, min(start + CHUNK, users)):
                    store_id = rng.choice(stores)
                    features, history = _subject(n, rng, now_ms, zones[store_id], shelves[store_id])
                    batch.append(features)
                    if features.subject_id.startswith(member_subject("")):
                        members.append(features.subject_id.removeprefix(member_subject("")))
                    writes += history
                    with_history += bool(history)
                writer.write(batch)
                writer.apply(writes)
                advance(len(batch))
    finally:
        writer.close()
    popularity = {sku: float(p.popularity) for sku, p in catalog.products.items()}
    best: dict[str, dict[str, float]] = {}
    for store_id, shelf in shelves.items():
        ranked = sorted(chain(*shelf.values()), key=popularity.__getitem__, reverse=True)[:BEST_PER_STORE]
        best[store_id] = {sku: popularity[sku] for sku in ranked}
    await store.set_store_best(best)
    await store.replace_face_consents(members)
    return with_history, members


async def _timed(args: Sequence[A], call: Callable[[A], Awaitable[T]]) -> tuple[list[float], list[T]]:
    """Await `call(arg)` for each arg in sequence; time all but the first WARMUP."""
    samples: list[float] = []
    results: list[T] = []
    for i, arg in enumerate(args):
        started = time.perf_counter()
        result = await call(arg)
        if i >= WARMUP:
            samples.append(time.perf_counter() - started)
            results.append(result)
    return samples, results


Ask = tuple[str, str]
"""(member id, store id) of one request."""


def _surface_calls(
    recommender: Recommender, catalog: Catalog, stocked: dict[str, list[str]], rng: random.Random
) -> dict[Surface, Callable[[Ask], Awaitable[RecList]]]:
    """How each surface is asked for, as the API asks: the store's list, or one member's in a scope."""

    async def screen(ask: Ask) -> RecList:
        return await recommender.for_store(ask[1], limit=LIMIT, surface=Surface.SCREEN)

    async def feed(ask: Ask) -> RecList:
        return await recommender.for_member(ask[0], limit=LIMIT, surface=Surface.FEED)

    async def arrival(ask: Ask) -> RecList:
        mall = catalog.stores[ask[1]].mall_id
        return await recommender.for_member(ask[0], limit=LIMIT, surface=Surface.ARRIVAL, mall_id=mall)

    async def guide(ask: Ask) -> RecList:
        return await recommender.for_member(ask[0], limit=LIMIT, surface=Surface.GUIDE, store_id=ask[1])

    async def pay_success(ask: Ask) -> RecList:
        bought = rng.sample(stocked[ask[1]][:50], 2)
        return await recommender.after_purchase(ask[0], store_id=ask[1], bought=bought, limit=LIMIT)

    return {
        Surface.SCREEN: screen, Surface.FEED: feed, Surface.ARRIVAL: arrival, Surface.GUIDE: guide,
        Surface.PAY_SUCCESS: pay_success,
    }  # fmt: skip


async def _measure(
    url: str, index: EdgeVectorIndex, catalog: Catalog, shelves: Shelves, users: int, requests: int,
    phases: dict[str, float],
) -> tuple[dict[str, list[float]], dict[str, Any]]:  # fmt: skip
    rng = random.Random(SEED + 2)
    stores = [rng.choice(list(catalog.stores)) for _ in range(WARMUP + requests)]
    centroids = list(catalog.centroids.values())
    queries = [VectorQuery(rng.choice(centroids).tolist(), VectorFilter(s), CANDIDATES) for s in stores]
    features, client, settings = RedisFeatureStore(url), aioredis.Redis.from_url(url), Settings()
    popularity = {sku: p.popularity for sku, p in catalog.products.items()}
    stocked = {
        store: sorted(chain(*shelf.values()), key=lambda sku: (-popularity[sku], sku))
        for store, shelf in shelves.items()
    }
    picks = {store: rng.sample(skus, PICKS_PER_STORE) for store, skus in stocked.items()}

    async def in_stock() -> dict[str, list[str]]:
        return stocked

    async def staff_picks() -> dict[str, list[str]]:
        return picks

    coupons = {store: Deal(title="满300减50", min_spend_fen=30_000, discount_fen=5_000) for store in stocked}

    async def deals() -> dict[str, Deal]:
        return coupons

    recommender = Recommender(
        catalog=catalog, features=features, vectors=index,
        half_life_s=settings.interest_half_life_s, presence_window_s=settings.presence_window_s,
        in_stock=in_stock, staff_picks=staff_picks, deals=deals,
    )  # fmt: skip

    async def qdrant(query: VectorQuery) -> int:
        return len(index.search_many([query])[0])

    try:
        outcomes: dict[str, Any] = {}
        with _phase(phases, "features_s"):
            outcomes["members_with_history"], members = await _features(features, catalog, shelves, users)
        asks = [(rng.choice(members), store) for store in stores]
        with _phase(phases, "measure_s"):
            samples = {
                "redis_ping": (await _timed(stores, lambda _: client.ping()))[0],
                "qdrant_query": (await _timed(queries, qdrant))[0],
            }
            calls = _surface_calls(recommender, catalog, stocked, rng)
            for surface in SURFACES:
                samples[surface.value], lists = await _timed(asks, calls[surface])
                outcomes[surface.value] = {
                    "audiences": dict(Counter(r.audience.value for r in lists)),
                    "mean_items": round(sum(len(r.items) for r in lists) / max(1, len(lists)), 2),
                }
        return samples, outcomes
    finally:
        await client.aclose()
        await features.close()


def main(*, json_path: Path, items: int, users: int, requests: int) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    with _phase(phases, "catalog_s"):
        catalog, vectors, shelves = _catalog(items, np.random.default_rng(SEED))
    with tempfile.TemporaryDirectory(prefix="recs-", dir=json_path.parent, ignore_cleanup_errors=True) as tmp:
        valkey, url = start_valkey(Path(tmp) / "valkey")
        index = EdgeVectorIndex(Path(tmp) / "vectors")
        try:
            with _phase(phases, "upsert_s"):
                _upsert(index, catalog, vectors, shelves)
            del vectors
            with _phase(phases, "optimize_s"):
                index.optimize()
            samples, outcomes = asyncio.run(_measure(url, index, catalog, shelves, users, requests, phases))
        finally:
            index.close()
            valkey.stop()
    figures = {name: percentiles_ms(s) for name, s in samples.items()}
    floors = {name: figures.pop(name) for name in ("redis_ping", "qdrant_query")}
    surfaces = {
        name: {
            **figs,
            **{f"p99_over_{floor}": round(figs["p99_ms"] / floors[floor]["p99_ms"], 1) for floor in floors},
            **outcomes[name],
        }
        for name, figs in figures.items()
    }
    met = all(s["p99_ms"] <= BUDGET_P99_MS for s in surfaces.values())
    headline = ", ".join(f"{name} p99 {s['p99_ms']} ms" for name, s in surfaces.items())
    report: dict[str, Any] = {
        "benchmark": "recs: every surface in-process, warm, vs bare Redis PING and Qdrant query",
        "headline": f"{headline} ({items:,} items, {users:,} users)",
        "budget": {"p99_ms": BUDGET_P99_MS, "items": items, "users": users},
        **{"items": items, "users": users, "stores": STORES, "stock_per_store": STOCK_PER_STORE},
        **{"requests_per_surface": requests, "warmup": WARMUP, "limit": LIMIT},
        "members_with_history": outcomes["members_with_history"],
        **{"phases_s": phases, "floors": floors, "surfaces": surfaces},
        **{"met": met, "machine": machine_facts()},
    }

    def cells(f: dict[str, Any]) -> str:
        return f"{f['p50_ms']} / {f['p95_ms']} / {f['p99_ms']} / {f['max_ms']}"

    rows = [
        ("items / users / stores", f"{items:,} / {users:,} / {STORES}"),
        ("seed s: catalog / upsert / optimize", " / ".join(str(phases[k]) for k in list(phases)[:3])),
        ("seconds: features / measuring", f"{phases['features_s']} / {phases['measure_s']}"),
        ("floor: Redis PING p50/p95/p99/max ms", cells(floors["redis_ping"])),
        (f"floor: Qdrant store-filtered top-{CANDIDATES} ms", cells(floors["qdrant_query"])),
        *((f"{name} p50/p95/p99/max ms", cells(s)) for name, s in surfaces.items()),
        *((f"{name} p99 ÷ floors (Redis / Qdrant)",
           f"{s['p99_over_redis_ping']}x / {s['p99_over_qdrant_query']}x") for name, s in surfaces.items()),
        (f"budget p99 ≤ {BUDGET_P99_MS:g} ms", "met" if met else "NOT met"),
    ]  # fmt: skip
    write_report(json_path, report, rows, f"recommendations in-process ({requests} requests per surface)")
