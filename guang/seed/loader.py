"""Load generated data into the stores: documents, item vectors, store best sellers, demo credentials."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from guang.adapters.ports import DocumentStore, FeatureStore, Progress, TextEncoder, VectorIndex, VectorPoint
from guang.seed.generator import SeedData
from guang.services.catalog import point_id
from guang.services.devices import issue_token, token_hash

SEED_META = "seed"
BEST_PER_STORE = 50
DEMO_STORES = 3
DEMO_SHOPPERS = 5

ProgressFactory = Callable[[str, int], AbstractContextManager[Progress]]
"""(description, total) -> a context manager yielding an advance(n) callback."""


def _docs(models: list[Any]) -> list[dict[str, Any]]:
    return [{"_id": m.id, **m.model_dump(mode="json")} for m in models]


async def is_seeded(documents: DocumentStore) -> bool:
    return await documents.find_one("meta", {"_id": SEED_META}) is not None


def _vector_points(data: SeedData, vectors: np.ndarray) -> list[VectorPoint]:
    return [
        VectorPoint(
            id=point_id(product.id),
            vector=vector.tolist(),
            payload={
                "sku_id": product.id,
                "category": product.category,
                "brand_id": product.brand_id,
                "store_ids": [s.store_id for s in product.stock if s.qty > 0],
                "price_fen": product.price_fen,
                "popularity": product.popularity,
            },
        )
        for product, vector in zip(data.products, vectors, strict=True)
    ]


def category_centroids(data: SeedData, vectors: np.ndarray) -> dict[str, list[float]]:
    by_category: dict[str, list[int]] = defaultdict(list)
    for row, product in enumerate(data.products):
        by_category[product.category].append(row)
    centroids = {}
    for category, rows in by_category.items():
        mean = vectors[rows].mean(axis=0)
        centroids[category] = (mean / (np.linalg.norm(mean) or 1.0)).tolist()
    return centroids


def store_best_sellers(data: SeedData) -> dict[str, dict[str, float]]:
    best: dict[str, dict[str, float]] = defaultdict(dict)
    for product in data.products:
        for level in product.stock:
            if level.qty > 0:
                best[level.store_id][product.id] = float(product.popularity)
    return {
        store: dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:BEST_PER_STORE])
        for store, scores in best.items()
    }


async def load(
    data: SeedData,
    *,
    documents: DocumentStore,
    vectors: VectorIndex,
    features: FeatureStore,
    encoder: TextEncoder,
    secret: str,
    progress: ProgressFactory,
    meta: dict[str, Any],
) -> None:
    for device in data.devices:
        device.token_hash = token_hash(issue_token(secret, device.id))
    collections: dict[str, list[BaseModel]] = {
        name: getattr(data, name) for name in data.counts() if name != "products"
    }
    with progress("文档 documents", sum(data.counts().values())) as advance:
        for name, models in collections.items():
            await documents.insert_many(name, _docs(models))
            advance(len(models))
        await documents.insert_many("products", _docs(data.products))
        advance(len(data.products))
    await _create_indexes(documents)
    with progress(f"向量 embeddings ({encoder.name})", len(data.products)) as advance:
        matrix = encoder.encode([p.text for p in data.products], advance)
    vectors.ensure_collection(encoder.dim)
    with progress("索引 vector index", len(data.products)) as advance:
        vectors.upsert(_vector_points(data, matrix), advance)
        vectors.optimize()
    centroids = category_centroids(data, matrix)
    await documents.insert_many("categories", [{"_id": c, "centroid": v} for c, v in centroids.items()])
    await features.set_store_best(store_best_sellers(data))
    await features.replace_face_consents([m.id for m in data.members if m.consents.face_ms is not None])
    await documents.upsert(
        "meta", SEED_META, {**meta, "counts": data.counts(), "loaded_ms": int(time.time() * 1000)}
    )


async def _create_indexes(documents: DocumentStore) -> None:
    await documents.create_index("malls", [("location", "2dsphere")])
    await documents.create_index("stores", [("location", "2dsphere")])
    await documents.create_index("stores", [("mall_id", 1)])
    await documents.create_index("zones", [("store_id", 1)])
    await documents.create_index("devices", [("store_id", 1)])
    await documents.create_index("orders", [("member_id", 1)])
    await documents.create_index("members", [("openid", 1)], unique=True)
    await documents.create_index("members", [("id", 1)], unique=True)


async def demo_credentials(documents: DocumentStore, secret: str, base_url: str) -> dict[str, Any]:
    """What a newcomer needs to try the demo by hand: shopper codes, device tokens, zones, staff ids."""
    stores = await documents.find("stores", sort=[("id", 1)], limit=DEMO_STORES)
    members = await documents.find("members", sort=[("id", 1)], limit=DEMO_SHOPPERS)

    async def store_entry(store: dict[str, Any]) -> dict[str, Any]:
        zones = await documents.find("zones", {"store_id": store["id"]}, sort=[("id", 1)])
        devices = await documents.find("devices", {"store_id": store["id"]}, sort=[("id", 1)])
        staff = await documents.find("staff", {"store_id": store["id"]}, projection={"id": 1})
        entries = []
        for device in devices:
            token = issue_token(secret, device["id"])
            entry = {"device_id": device["id"], "kind": device["kind"], "token": token}
            if device["kind"] == "screen":
                entry["screen_url"] = f"{base_url}/screen/{device['id']}?token={token}"
            entries.append(entry)
        return {
            "store_id": store["id"],
            "name": store["name"],
            "mall_id": store["mall_id"],
            "zones": [
                {"zone_id": z["id"], "name": z["name"], "category": z["category"]}
                for z in zones
                if z.get("kind", "shelf") == "shelf"
            ],
            "till_zone_id": next((z["id"] for z in zones if z.get("kind") == "till"), None),
            "devices": entries,
            "staff_ids": [s["id"] for s in staff],
        }

    first_store = stores[0] if stores else {}
    staff_logins = await documents.find(
        "accounts", {"role": "staff", "store_id": first_store.get("id")}, limit=2
    )
    admins = await documents.find(
        "accounts", {"role": "brand_admin", "brand_id": first_store.get("brand_id")}
    )
    operators = await documents.find(
        "accounts", {"role": "mall_operator", "mall_id": first_store.get("mall_id")}
    )
    return {
        "base_url": base_url,
        "shoppers": [{"login_code": f"demo:{m['openid']}", "member_id": m["id"]} for m in members],
        "staff": [{"login_code": f"demo:{a['_id']}", "staff_id": a["staff_id"]} for a in staff_logins],
        "brand_admins": [{"login_code": f"demo:{a['_id']}", "brand_id": a["brand_id"]} for a in admins],
        "mall_operators": [{"login_code": f"demo:{a['_id']}", "mall_id": a["mall_id"]} for a in operators],
        "stores": [await store_entry(store) for store in stores],
        "mall_positions": [
            {
                "mall_id": m["id"],
                "lat": m["location"]["coordinates"][1],
                "lng": m["location"]["coordinates"][0],
            }
            for m in await documents.find("malls", {"id": {"$in": sorted({s["mall_id"] for s in stores})}})
        ],
    }


def write_credentials(path: Path, credentials: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, ensure_ascii=False, indent=2))
    path.chmod(0o600)
