"""Pure, deterministic seed-data generator: the same seed, scale and now_ms give identical output."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, fields
from itertools import accumulate
from typing import Literal, cast

from guang.accounts.models import Account, Role
from guang.domain.models import (
    Activity,
    Article,
    Brand,
    City,
    Consents,
    Coupon,
    Device,
    GeoPoint,
    Mall,
    Member,
    Order,
    OrderItem,
    Product,
    Staff,
    StaffPost,
    StockLevel,
    Store,
    Zone,
)
from guang.seed import vocab

DEFAULT_NOW_MS = 1_790_000_000_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SKUS_PER_STORE = (400, 500)
ZONE_SKUS = 12
MAX_POPULARITY = 10_000
METRES_PER_DEG_LAT = 111_320.0
SERVICES: tuple[Literal["pickup", "appointment", "delivery"], ...] = ("pickup", "appointment", "delivery")
Season = Literal["spring", "summer", "autumn", "winter", "all"]
# Orders per member, 0..10; mean ≈ 4.2.
ORDER_COUNT_WEIGHTS = (10, 12, 12, 12, 11, 10, 9, 8, 6, 5, 5)


@dataclass
class SeedData:
    """Everything `generate` produces, as domain models."""

    cities: list[City]
    malls: list[Mall]
    brands: list[Brand]
    stores: list[Store]
    zones: list[Zone]
    products: list[Product]
    articles: list[Article]
    staff: list[Staff]
    staff_posts: list[StaffPost]
    coupons: list[Coupon]
    members: list[Member]
    orders: list[Order]
    devices: list[Device]
    accounts: list[Account]
    activities: list[Activity]

    def counts(self) -> dict[str, int]:
        """Number of items per collection name."""
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class _Sizes:
    """How many of each thing to generate at a given scale."""

    cities: int
    malls: int
    brands: int
    stores: int
    products_per_brand: int
    articles: int
    staff_posts: int
    coupons: int
    members: int


@dataclass
class _Catalog:
    """Lookups shared by the later generation steps."""

    brand_by_id: dict[str, Brand]
    mall_by_id: dict[str, Mall]
    carried: dict[str, list[tuple[Product, int]]]  # store id -> (product, qty)
    staff_by_store: dict[str, list[Staff]]


def _scaled(base: int, scale: float, floor: int) -> int:
    """`base * scale` rounded, but at least `floor`."""
    return max(floor, round(base * scale))


def _sizes(scale: float) -> _Sizes:
    """Counts for `scale`; 1.0 is the full demo data set."""
    cities = min(len(vocab.CITIES), _scaled(3, scale, 2))
    malls = min(sum(len(c.malls) for c in vocab.CITIES[:cities]), _scaled(10, scale, 2))
    brands = min(len(vocab.BRANDS), _scaled(30, scale, 3))
    return _Sizes(
        cities=cities,
        malls=malls,
        brands=brands,
        stores=_scaled(200, scale, 4),
        products_per_brand=max(SKUS_PER_STORE[1], round(20_000 * scale / brands)),
        articles=_scaled(500, scale, 5),
        staff_posts=_scaled(2_000, scale, 10),
        coupons=_scaled(300, scale, 4),
        members=_scaled(5_000, scale, 50),
    )


def _near(rng: random.Random, lat: float, lng: float, metres: float) -> GeoPoint:
    """A point up to `metres` east/north of (lat, lng) in each axis."""
    dy, dx = rng.uniform(-metres, metres), rng.uniform(-metres, metres)
    d_lat = dy / METRES_PER_DEG_LAT
    d_lng = dx / (METRES_PER_DEG_LAT * math.cos(math.radians(lat)))
    return GeoPoint.at(lat=round(lat + d_lat, 6), lng=round(lng + d_lng, 6))


def _cities_and_malls(n_cities: int, n_malls: int) -> tuple[list[City], list[Mall]]:
    """The first cities, and malls taken round-robin across them so every city gets one."""
    specs = vocab.CITIES[:n_cities]
    cities = [City(id=f"city-{c.code}", name=c.name) for c in specs]
    order = [
        (c, m) for i in range(max(len(c.malls) for c in specs)) for c in specs for m in c.malls[i : i + 1]
    ]
    malls = [
        Mall(
            id=f"mall-{i:02d}",
            name=m.name,
            city_id=f"city-{c.code}",
            district=m.district,
            location=GeoPoint.at(lat=m.lat, lng=m.lng),
        )
        for i, (c, m) in enumerate(order[:n_malls], start=1)
    ]
    return cities, malls


def _brands(rng: random.Random, n: int) -> list[Brand]:
    """`n` brands, interleaved by sector so small data sets still span several sectors."""
    rank: dict[str, int] = {}
    keyed = []
    for spec in vocab.BRANDS:
        rank[spec.sector] = rank.get(spec.sector, -1) + 1
        keyed.append((rank[spec.sector], vocab.SECTORS.index(spec.sector), spec))
    specs = [spec for _, _, spec in sorted(keyed, key=lambda k: (k[0], k[1]))][:n]
    return [
        Brand(
            id=f"brand-{i:02d}",
            name=spec.name,
            sector=spec.sector,
            mini_program_app_id=f"wx{rng.getrandbits(64):016x}",
            guide_commission_rate=rng.choice(vocab.GUIDE_COMMISSION_RATES),
        )
        for i, spec in enumerate(specs, start=1)
    ]


def _product_name(rng: random.Random, sector: str, cat: vocab.Category) -> tuple[str, str, str, str]:
    """(name, adjective, material, noun) such as ("修身直筒水洗牛仔裤 深蓝", "修身直筒", "水洗", "牛仔裤")."""
    adj = "".join(rng.sample(vocab.SECTOR_ADJECTIVES[sector], rng.choice((1, 1, 2))))
    material, noun = rng.choice(cat.materials), rng.choice(cat.nouns)
    return f"{adj}{material}{noun} {rng.choice(cat.variants)}", adj, material, noun


def _price_fen(rng: random.Random, cat: vocab.Category) -> int:
    """A shelf price in fen ending in 9 yuan, e.g. 29900."""
    yuan = max(cat.min_yuan, rng.randint(cat.min_yuan, cat.max_yuan) // 10 * 10 + 9)
    return min(yuan, cat.max_yuan) * 100


def _product(rng: random.Random, n: int, brand: Brand) -> Product:
    """One SKU of `brand` with a vocabulary-built name and a Pareto-skewed popularity."""
    cat = rng.choice(vocab.CATEGORIES[brand.sector])
    name, adj, material, noun = _product_name(rng, brand.sector, cat)
    season = cast(Season, rng.choice(cat.seasons))
    description = rng.choice(vocab.DESCRIPTION_TEMPLATES).format(
        noun=noun,
        adj=adj,
        material=material,
        point=rng.choice(vocab.SELLING_POINTS[brand.sector]),
        scene=rng.choice(vocab.SCENES[brand.sector]),
        season=vocab.SEASON_CN[season],
    )
    return Product(
        id=f"sku-{n:06d}",
        name=name,
        brand_id=brand.id,
        category=cat.name,
        season=season,
        price_fen=_price_fen(rng, cat),
        description=description,
        popularity=min(MAX_POPULARITY, int(10 * rng.paretovariate(1.5)) - 10),
    )


def _products(rng: random.Random, brands: list[Brand], per_brand: int) -> dict[str, list[Product]]:
    """`per_brand` products for each brand, keyed by brand id; ids run across brands."""
    flat = [_product(rng, n + 1, brands[n // per_brand]) for n in range(per_brand * len(brands))]
    return {b.id: flat[i * per_brand : (i + 1) * per_brand] for i, b in enumerate(brands)}


def _stores(rng: random.Random, n: int, brands: list[Brand], malls: list[Mall]) -> list[Store]:
    """`n` stores; brands take turns, each brand spreading over malls before repeating one."""
    stores = []
    for i in range(n):
        brand = brands[i % len(brands)]
        mall = malls[(i % len(brands) + i // len(brands)) % len(malls)]
        services = [s for s in SERVICES if rng.random() < 0.6] or ["pickup"]
        stores.append(
            Store(
                id=f"store-{i + 1:03d}",
                name=f"{brand.name}（{mall.name}店）",
                brand_id=brand.id,
                mall_id=mall.id,
                floor=rng.choice(vocab.STORE_FLOORS),
                location=_near(rng, mall.location.coordinates[1], mall.location.coordinates[0], 60.0),
                services=services,
                delivery_radius_m=rng.choice((3000, 3000, 5000)),
            )
        )
    return stores


def _stock(rng: random.Random, store: Store, products: list[Product]) -> list[tuple[Product, int]]:
    """Put 400–500 of the brand's products in `store` (about 10% at zero) and return them."""
    k = min(len(products), rng.randint(*SKUS_PER_STORE))
    carried = []
    for product in sorted(rng.sample(products, k), key=lambda p: p.id):
        qty = 0 if rng.random() < 0.1 else rng.randint(1, 50)
        product.stock.append(StockLevel(store_id=store.id, qty=qty))
        carried.append((product, qty))
    return carried


def _zones(rng: random.Random, store: Store, carried: list[tuple[Product, int]]) -> list[Zone]:
    """4–6 shelf zones, one per category carried in stock, each listing its most popular in-stock SKUs,
    and the till, where a camera can tie an anonymous visit to the member who pays."""
    by_cat: dict[str, list[Product]] = {}
    for product, qty in carried:
        if qty > 0:
            by_cat.setdefault(product.category, []).append(product)
    cats = list(by_cat)
    chosen = rng.sample(cats, min(len(cats), rng.randint(4, 6)))
    return [
        Zone(
            id=f"z-{store.id}-{n}",
            store_id=store.id,
            name=f"{cat}区",
            category=cat,
            sku_ids=[p.id for p in sorted(by_cat[cat], key=lambda p: (-p.popularity, p.id))[:ZONE_SKUS]],
        )
        for n, cat in enumerate(sorted(chosen, key=cats.index), start=1)
    ] + [
        Zone(id=f"z-{store.id}-till", store_id=store.id, name="收银台", category="", sku_ids=[], kind="till")
    ]


def _staff(rng: random.Random, stores: list[Store]) -> list[Staff]:
    """2–4 staff per store; the first one is the store manager."""
    staff: list[Staff] = []
    for store in stores:
        for k in range(rng.randint(2, 4)):
            sid = f"staff-{len(staff) + 1:04d}"
            title = vocab.STORE_MANAGER_TITLE if k == 0 else rng.choice(vocab.STAFF_TITLES)
            name, wecom = rng.choice(vocab.SURNAMES) + rng.choice(vocab.GIVEN_NAMES), f"wecom-{sid}"
            staff.append(Staff(id=sid, name=name, store_id=store.id, title=title, wecom_user_id=wecom))
    return staff


def _copy_fields(rng: random.Random, cat: _Catalog, store: Store, product: Product) -> dict[str, str]:
    """Template fields describing `product` as sold in `store`."""
    brand, mall = cat.brand_by_id[store.brand_id], cat.mall_by_id[store.mall_id]
    return {
        "brand": brand.name,
        "mall": mall.name,
        "district": mall.district,
        "floor": store.floor,
        "product": product.name.split(" ")[0],
        "category": product.category,
        "price": f"{product.price_fen // 100}",
        "point": rng.choice(vocab.SELLING_POINTS[brand.sector]),
        "scene": rng.choice(vocab.SCENES[brand.sector]),
        "season": vocab.SEASON_CN[product.season],
    }


def _in_stock(cat: _Catalog, store_id: str) -> list[Product]:
    """Products with qty > 0 in the store."""
    return [p for p, qty in cat.carried[store_id] if qty > 0]


def _staff_posts(
    rng: random.Random, n: int, cat: _Catalog, staff: list[Staff], stores: dict[str, Store], now_ms: int
) -> list[StaffPost]:
    """店员说 posts by random staff about 1–3 in-stock products of their store, within the last 30 days."""
    posts = []
    for i in range(1, n + 1):
        person = rng.choice(staff)
        store = stores[person.store_id]
        picks = rng.sample(_in_stock(cat, store.id), rng.randint(1, 3))
        text = rng.choice(vocab.STAFF_POSTS).format(
            staff=person.name, **_copy_fields(rng, cat, store, picks[0])
        )
        posts.append(
            StaffPost(
                id=f"post-{i:04d}",
                staff_id=person.id,
                store_id=store.id,
                mall_id=store.mall_id,
                brand_id=store.brand_id,
                text=text,
                product_ids=[p.id for p in picks],
                published_ms=now_ms - rng.randint(0, 30 * DAY_MS),
            )
        )
    return posts


def _articles(rng: random.Random, n: int, cat: _Catalog, stores: list[Store], now_ms: int) -> list[Article]:
    """种草 articles about 2–4 in-stock products of one category in one store; most are by its staff."""
    articles = []
    for i in range(1, n + 1):
        store = rng.choice(stores)
        stocked = _in_stock(cat, store.id)
        anchor = rng.choice(stocked)
        same = [p for p in stocked if p.category == anchor.category and p.id != anchor.id]
        picks = [anchor, *rng.sample(same, min(len(same), rng.randint(1, 3)))]
        fields_ = _copy_fields(rng, cat, store, picks[0])
        team = cat.staff_by_store.get(store.id, [])
        author = rng.choice(team).id if team and rng.random() < 0.7 else None
        articles.append(
            Article(
                id=f"art-{i:04d}",
                title=rng.choice(vocab.ARTICLE_TITLES).format(n=len(picks), **fields_),
                body=rng.choice(vocab.ARTICLE_BODIES).format(**fields_),
                author_staff_id=author,
                brand_id=store.brand_id,
                product_ids=[p.id for p in picks],
                published_ms=now_ms - rng.randint(0, 30 * DAY_MS),
            )
        )
    return articles


def _coupons(rng: random.Random, n: int, cat: _Catalog, stores: list[Store], now_ms: int) -> list[Coupon]:
    """Geo-targeted store- or mall-level coupons valid around `now_ms`; every other mall-level one is an
    exit (回来再逛) coupon. The kind uses no random draws, so the rest of the data set is unchanged."""
    coupons = []
    mall_level = 0
    for i in range(1, n + 1):
        store = rng.choice(stores)
        brand, mall = cat.brand_by_id[store.brand_id], cat.mall_by_id[store.mall_id]
        min_yuan, off_yuan = rng.choice(vocab.COUPON_TIERS)
        title = rng.choice(vocab.COUPON_TITLES).format(
            brand=brand.name, mall=mall.name, district=mall.district, min=min_yuan, off=off_yuan
        )
        store_id = store.id if rng.random() < 0.6 else None
        exit_kind = store_id is None and mall_level % 2 == 0
        mall_level += store_id is None
        if exit_kind:
            title = f"回来再逛 {mall.name}{brand.name}满{min_yuan}减{off_yuan}"
        coupons.append(
            Coupon(
                id=f"cpn-{i:04d}",
                title=title,
                brand_id=brand.id,
                store_id=store_id,
                mall_id=mall.id,
                discount_fen=off_yuan * 100,
                min_spend_fen=min_yuan * 100,
                radius_m=rng.randint(3000, 5000),
                starts_ms=now_ms - rng.randint(0, 7 * DAY_MS),
                ends_ms=now_ms + rng.randint(1 * DAY_MS, 21 * DAY_MS),
                per_user_quota=rng.choice((1, 1, 2)),
                total_stock=rng.choice((200, 500, 1000, 2000)),
                kind="exit" if exit_kind else "standard",
            )
        )
    return coupons


def _activities(rng: random.Random, malls: list[Mall], now_ms: int) -> list[Activity]:
    """2–4 activities per mall around `now_ms`: some running now, some later today or in the next days."""
    out: list[Activity] = []
    for mall in malls:
        for title, description, location in rng.sample(vocab.ACTIVITIES, rng.randint(2, 4)):
            starts = now_ms + rng.randint(-36, 36) * HOUR_MS
            fields_ = {"mall": mall.name, "district": mall.district}
            out.append(
                Activity(
                    id=f"act-{len(out) + 1:04d}",
                    mall_id=mall.id,
                    title=title.format(**fields_),
                    description=description.format(**fields_),
                    starts_ms=starts,
                    ends_ms=starts + rng.choice(vocab.ACTIVITY_HOURS) * HOUR_MS,
                    location=location,
                )
            )
    return out


def _nickname(rng: random.Random) -> str:
    """A WeChat-style nickname such as 爱逛街的小鹿 or 欣怡酱."""
    if rng.random() < 0.6:
        return rng.choice(vocab.NICKNAME_PREFIXES) + rng.choice(vocab.NICKNAME_NOUNS)
    return rng.choice(vocab.GIVEN_NAMES) + rng.choice(vocab.NICKNAME_SUFFIXES)


def _members(rng: random.Random, n: int, cities: list[City], now_ms: int) -> list[Member]:
    """Members with consents: ~90% location, ~60% marketing, ~20% face."""

    def when(p: float) -> int | None:
        """A past consent timestamp with probability `p`."""
        return now_ms - rng.randint(DAY_MS, 365 * DAY_MS) if rng.random() < p else None

    return [
        Member(
            id=f"m-{i:05d}",
            openid=f"demo-openid-{i:05d}",
            nickname=_nickname(rng),
            city_id=rng.choice(cities).id,
            consents=Consents(location_ms=when(0.9), marketing_ms=when(0.6), face_ms=when(0.2)),
        )
        for i in range(1, n + 1)
    ]


def _orders(
    rng: random.Random, members: list[Member], stores: list[Store], cat: _Catalog, now_ms: int
) -> list[Order]:
    """0–10 past orders per member, mostly at favourite stores in their city; ids run in pay-time order."""
    city_of_mall = {m.id: m.city_id for m in cat.mall_by_id.values()}
    local: dict[str, list[Store]] = {}
    for store in stores:
        local.setdefault(city_of_mall[store.mall_id], []).append(store)
    cum = {s.id: list(accumulate(1 + math.sqrt(p.popularity) for p, _ in cat.carried[s.id])) for s in stores}
    drafts: list[tuple[int, str, Store, list[OrderItem], str | None]] = []
    for member in members:
        nearby = local.get(member.city_id, stores)
        favourites = rng.sample(nearby, min(len(nearby), rng.randint(1, 3)))
        for _ in range(rng.choices(range(len(ORDER_COUNT_WEIGHTS)), weights=ORDER_COUNT_WEIGHTS)[0]):
            store = rng.choice(favourites) if rng.random() < 0.8 else rng.choice(nearby)
            carried = [p for p, _ in cat.carried[store.id]]
            picks = rng.choices(carried, cum_weights=cum[store.id], k=rng.choice((1, 1, 1, 2, 2, 3, 4)))
            unique = {p.id: p for p in picks}
            items = [
                OrderItem(sku_id=p.id, qty=rng.choice((1, 1, 1, 2, 3)), price_fen=p.price_fen)
                for p in unique.values()
            ]
            team = cat.staff_by_store.get(store.id, [])
            guide = rng.choice(team).id if team and rng.random() < 0.4 else None
            paid = now_ms - rng.randint(HOUR_MS, 365 * DAY_MS)
            drafts.append((paid, member.id, store, items, guide))
    drafts.sort(key=lambda d: (d[0], d[1]))
    return [
        Order(
            id=f"o-{i:06d}",
            member_id=member_id,
            store_id=store.id,
            items=items,
            amount_fen=sum(it.qty * it.price_fen for it in items),
            paid_ms=paid,
            guide_id=guide,
        )
        for i, (paid, member_id, store, items, guide) in enumerate(drafts, start=1)
    ]


def _devices(stores: list[Store]) -> list[Device]:
    """One screen, one camera and one POS till (coupon redemption, payments) per store."""
    out = []
    for s in stores:
        out.append(Device(id=f"dev-scr-{s.id}", kind="screen", store_id=s.id, mall_id=s.mall_id))
        out.append(Device(id=f"dev-cam-{s.id}", kind="camera", store_id=s.id, mall_id=s.mall_id))
        out.append(Device(id=f"dev-pos-{s.id}", kind="pos", store_id=s.id, mall_id=s.mall_id))
    return out


def _accounts(
    staff: list[Staff], stores: list[Store], brands: list[Brand], malls: list[Mall]
) -> list[Account]:
    """Logins for every staff member, one admin per brand and one operator per mall (demo openids)."""
    store_by_id = {s.id: s for s in stores}
    accounts = []
    for p in staff:
        store = store_by_id[p.store_id]
        accounts.append(
            Account(
                id=f"staff-openid-{p.id}",
                role=Role.STAFF,
                name=p.name,
                staff_id=p.id,
                store_id=store.id,
                brand_id=store.brand_id,
                mall_id=store.mall_id,
            )
        )
    for b in brands:
        admin = f"{b.name}品牌管理员"
        accounts.append(Account(id=f"brand-openid-{b.id}", role=Role.BRAND_ADMIN, name=admin, brand_id=b.id))
    for m in malls:
        operator = f"{m.name}运营"
        accounts.append(
            Account(id=f"mall-openid-{m.id}", role=Role.MALL_OPERATOR, name=operator, mall_id=m.id)
        )
    return accounts


def generate(*, seed: int = 42, scale: float = 1.0, now_ms: int | None = None) -> SeedData:
    """Build the whole demo data set from `random.Random(seed)`; `scale` 1.0 ≈ 20k products, 20k orders."""
    rng = random.Random(seed)
    now = DEFAULT_NOW_MS if now_ms is None else now_ms
    size = _sizes(scale)
    cities, malls = _cities_and_malls(size.cities, size.malls)
    brands = _brands(rng, size.brands)
    by_brand = _products(rng, brands, size.products_per_brand)
    stores = _stores(rng, size.stores, brands, malls)
    carried = {s.id: _stock(rng, s, by_brand[s.brand_id]) for s in stores}
    zones = [z for s in stores for z in _zones(rng, s, carried[s.id])]
    staff = _staff(rng, stores)
    staff_by_store: dict[str, list[Staff]] = {}
    for person in staff:
        staff_by_store.setdefault(person.store_id, []).append(person)
    cat = _Catalog({b.id: b for b in brands}, {m.id: m for m in malls}, carried, staff_by_store)
    store_by_id = {s.id: s for s in stores}
    members = _members(rng, size.members, cities, now)
    return SeedData(
        cities=cities,
        malls=malls,
        brands=brands,
        stores=stores,
        zones=zones,
        products=[p for b in brands for p in by_brand[b.id]],
        articles=_articles(rng, size.articles, cat, stores, now),
        staff=staff,
        staff_posts=_staff_posts(rng, size.staff_posts, cat, staff, store_by_id, now),
        coupons=_coupons(rng, size.coupons, cat, stores, now),
        members=members,
        orders=_orders(rng, members, stores, cat, now),
        devices=_devices(stores),
        accounts=_accounts(staff, stores, brands, malls),
        activities=_activities(random.Random(f"activities:{seed}"), malls, now),
    )
