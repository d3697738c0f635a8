"""The mall view, staff performance and the live dashboard subscriptions, on scripted figures written the
way the dataflow writes them, against the real Valkey and SecantusDB of the API test stack."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import redis.asyncio

from api.schema import schema
from guang.adapters.redis_features import STORE_UPDATES_CHANNEL
from guang.dashboard.service import BUCKET_MS
from guang.domain import keys
from guang.domain.models import Store
from guang.domain.writes import Put, Write, ZPut
from tests.integration.api.conftest import ApiStack, GraphQLFailed

MALL = """query($m: String!) { mallDashboard(mallId: $m, hours: 1) {
  mallName visitors payers redemptions conversion buckets { startMs visitors }
  stores { storeId brandId visitors payers redemptions conversion } trending { skuId score } } }"""
GUIDES = """query($s: String!) { storeDashboard(storeId: $s) {
  guides { staffId name orders salesFen commissionFen shareLinks posts clients shareRate conversion }
  floorPlan { width depth areas { zoneId kind rect { x y w h } } } } }"""
STORE_LIVE = """subscription($s: String!) { storeDashboardUpdates(storeId: $s, hours: 1) { visitors } }"""
MALL_LIVE = """subscription($m: String!) { mallDashboardUpdates(mallId: $m, hours: 1) {
  stores { storeId visitors } } }"""


def write(api: ApiStack, writes: list[Write]) -> None:
    writer = api.services.container.feature_writer()
    try:
        writer.apply(writes)
    finally:
        writer.close()


def current_bucket() -> int:
    now = int(time.time() * 1000)
    return now - now % BUCKET_MS


def busy_mall(api: ApiStack) -> tuple[str, list[Store]]:
    """A mall with stores of at least two brands."""
    by_mall: dict[str, list[Store]] = {}
    for store in api.data.stores:
        by_mall.setdefault(store.mall_id, []).append(store)
    mall_id, stores = next((m, s) for m, s in sorted(by_mall.items()) if len({x.brand_id for x in s}) >= 2)
    return mall_id, stores


async def test_the_mall_view_sums_its_stores_for_operators_and_shows_brand_admins_their_own(
    api: ApiStack,
) -> None:
    mall_id, stores = busy_mall(api)
    first, second = stores[0], next(s for s in stores if s.brand_id != stores[0].brand_id)
    now = current_bucket()
    earlier = now - BUCKET_MS
    sku = api.data.products[3].id
    write(api, [
        Put(keys.footfall_key(first.id), 12, field=str(earlier)),
        Put(keys.footfall_key(first.id), 8, field=str(now)),
        Put(keys.conversion_key(first.id, earlier), 3, field="payers"),
        Put(keys.conversion_key(first.id, now), 2, field="payers"),
        Put(keys.redemptions_key(first.id), 1, field=str(now)),
        Put(keys.footfall_key(second.id), 5, field=str(now)),
        Put(keys.conversion_key(second.id, now), 1, field="payers"),
        Put(keys.footfall_key(second.id), 40, field=str(now - 13 * BUCKET_MS)),  # outside the hour
        ZPut(keys.trending_key(mall_id), sku, 9.5),
    ])  # fmt: skip

    operator = await api.login(f"mall-openid-{mall_id}")
    view = (await api.gql(MALL, {"m": mall_id}, token=operator))["mallDashboard"]
    rows = {r["storeId"]: r for r in view["stores"]}
    assert set(rows) == {s.id for s in stores}
    assert rows[first.id] == {
        "storeId": first.id, "brandId": first.brand_id, "visitors": 20, "payers": 5, "redemptions": 1,
        "conversion": 0.25,
    }  # fmt: skip
    assert rows[second.id] == {
        "storeId": second.id, "brandId": second.brand_id, "visitors": 5, "payers": 1, "redemptions": 0,
        "conversion": 0.2,
    }  # fmt: skip
    assert view["visitors"] == sum(r["visitors"] for r in view["stores"])
    assert view["payers"] == sum(r["payers"] for r in view["stores"])
    assert view["redemptions"] == sum(r["redemptions"] for r in view["stores"])
    assert sum(b["visitors"] for b in view["buckets"]) == view["visitors"]
    assert len(view["buckets"]) == 12
    assert {"skuId": sku, "score": 9.5} in view["trending"]
    assert [r["visitors"] for r in view["stores"]] == sorted(
        (r["visitors"] for r in view["stores"]), reverse=True
    )

    admin = await api.login(f"brand-openid-{second.brand_id}")
    own = (await api.gql(MALL, {"m": mall_id}, token=admin))["mallDashboard"]
    assert {r["storeId"] for r in own["stores"]} == {s.id for s in stores if s.brand_id == second.brand_id}
    assert {r["brandId"] for r in own["stores"]} == {second.brand_id}

    elsewhere = next(m.id for m in api.data.malls if m.id != mall_id)
    absent = next(b.id for b in api.data.brands if all(s.brand_id != b.id for s in stores))
    staff = next(p for p in api.data.staff if p.store_id == first.id)
    refusals = [
        (await api.login(f"staff-openid-{staff.id}"), mall_id, "FORBIDDEN"),
        (await api.login(f"mall-openid-{elsewhere}"), mall_id, "FORBIDDEN"),
        (await api.login(f"brand-openid-{absent}"), mall_id, "FORBIDDEN"),
        (await api.new_shopper(), mall_id, "FORBIDDEN"),
        (operator, "mall-nope", "NOT_FOUND"),
    ]
    for caller, target, code in refusals:
        with pytest.raises(GraphQLFailed) as refused:
            await api.gql(MALL, {"m": target}, token=caller)
        assert refused.value.codes == [code]


async def test_staff_performance_counts_links_posts_clients_and_the_ledger_exactly(api: ApiStack) -> None:
    store = api.data.stores[2]
    documents = api.services.container.documents
    guide, quiet = (f"staff-dash-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for staff_id, name in ((guide, "周敏"), (quiet, "吴静")):
        await documents.insert_one("staff", {
            "_id": staff_id, "id": staff_id, "name": name, "store_id": store.id, "title": "导购",
            "wecom_user_id": f"wecom-{staff_id}",
        })  # fmt: skip
    await api.services.places.directories.refresh()
    article = api.data.articles[0].id
    for n in range(4):
        await documents.insert_one("share_links", {
            "_id": f"{guide}-link-{n}", "target_type": "article", "target_id": article, "staff_id": guide,
            "member_id": None, "created_ms": 1,
        })  # fmt: skip
    for n in range(5):
        member = api.data.members[n].id
        await documents.insert_one("advisors", {
            "_id": f"{member}:{guide}", "member_id": member, "staff_id": guide, "since_ms": 1,
            "source": "post",
        })  # fmt: skip
    post = {"store_id": store.id, "mall_id": store.mall_id, "brand_id": store.brand_id, "text": "新品到店",
            "product_ids": [], "published_ms": 1}  # fmt: skip
    extras: list[dict[str, Any]] = [{}, {"status": "published"}, {"status": "draft"}, {"hidden": True}]
    for n, extra in enumerate(extras):
        await documents.insert_one("staff_posts", {"_id": f"{guide}-post-{n}", "id": f"{guide}-post-{n}",
                                                   "staff_id": guide, **post, **extra})  # fmt: skip
    totals = keys.guide_totals(guide)
    write(api, [
        Put(totals, 3, field="orders"), Put(totals, 89_700, field="sales_fen"),
        Put(totals, 2_691, field="commission_fen"),
    ])  # fmt: skip

    manager = next(s for s in api.data.staff if s.store_id == store.id)
    token = await api.login(f"staff-openid-{manager.id}")
    view = (await api.gql(GUIDES, {"s": store.id}, token=token))["storeDashboard"]
    rows = {g["staffId"]: g for g in view["guides"]}
    assert rows[guide] == {
        "staffId": guide, "name": "周敏", "orders": 3, "salesFen": 89_700, "commissionFen": 2_691,
        "shareLinks": 4, "posts": 2, "clients": 5, "shareRate": 0.8, "conversion": 0.75,
    }  # fmt: skip
    assert rows[quiet] == {
        "staffId": quiet, "name": "吴静", "orders": 0, "salesFen": 0, "commissionFen": 0,
        "shareLinks": 0, "posts": 0, "clients": 0, "shareRate": 0.0, "conversion": 0.0,
    }  # fmt: skip
    zones = {z.id: z.kind for z in api.data.zones if z.store_id == store.id}
    plan = view["floorPlan"]
    assert {a["zoneId"]: a["kind"] for a in plan["areas"]} == zones
    assert all(
        a["rect"]["x"] + a["rect"]["w"] <= plan["width"] and a["rect"]["y"] + a["rect"]["h"] <= plan["depth"]
        for a in plan["areas"]
    )


async def subscribe(
    api: ApiStack, query: str, variables: dict[str, Any], token: str
) -> AsyncGenerator[Any, None]:
    context = {"services": api.services, "connection_params": {"authorization": f"Bearer {token}"}}
    results = await schema.subscribe(query, variable_values=variables, context_value=context)
    assert not hasattr(results, "errors"), results
    return results


async def announce_until(api: ApiStack, store_id: str, pending: asyncio.Future[Any]) -> Any:
    """Announce a change in the store, as the dataflow does, until the subscription answers (the hub's
    listener subscribes to the announcements in the background)."""
    client = redis.asyncio.Redis.from_url(api.settings.kv_url)
    try:
        for _ in range(100):
            message = {"store_id": store_id, "subject_id": "v-live", "event_id": uuid.uuid4().hex}
            await client.publish(STORE_UPDATES_CHANNEL, json.dumps(message))
            done, _ = await asyncio.wait({pending}, timeout=0.2)
            if done:
                return pending.result()
        raise AssertionError("no update after the store's announcements")
    finally:
        await client.aclose()


async def test_the_dashboards_update_live_when_the_dataflow_announces_a_change(api: ApiStack) -> None:
    mall_id, stores = busy_mall(api)
    store = stores[-1]
    staff = next(s for s in api.data.staff if s.store_id == store.id)
    token = await api.login(f"staff-openid-{staff.id}")
    operator = await api.login(f"mall-openid-{mall_id}")
    store_live = await subscribe(api, STORE_LIVE, {"s": store.id}, token)
    mall_live = await subscribe(api, MALL_LIVE, {"m": mall_id}, operator)
    try:
        before = (await anext(store_live)).data["storeDashboardUpdates"]["visitors"]
        mall_rows = (await anext(mall_live)).data["mallDashboardUpdates"]["stores"]
        in_mall = next(r["visitors"] for r in mall_rows if r["storeId"] == store.id)
        assert in_mall == before

        now = current_bucket()
        raw = await redis.asyncio.Redis.from_url(api.settings.kv_url).hget(
            keys.footfall_key(store.id), str(now)
        )
        write(api, [Put(keys.footfall_key(store.id), int(raw or 0) + 3, field=str(now))])
        store_view = await announce_until(api, store.id, asyncio.ensure_future(anext(store_live)))
        assert store_view.data["storeDashboardUpdates"]["visitors"] == before + 3
        mall_view = await announce_until(api, store.id, asyncio.ensure_future(anext(mall_live)))
        rows = {r["storeId"]: r["visitors"] for r in mall_view.data["mallDashboardUpdates"]["stores"]}
        assert rows[store.id] == before + 3
    finally:
        await store_live.aclose()
        await mall_live.aclose()
    assert api.services.dashboards.hub.watching == 0


async def test_the_live_dashboard_keeps_to_the_same_role_rules(api: ApiStack) -> None:
    store = api.data.stores[0]
    other_brand = next(b.id for b in api.data.brands if b.id != store.brand_id)
    token = await api.login(f"brand-openid-{other_brand}")
    refused = await subscribe(api, STORE_LIVE, {"s": store.id}, token)
    first = await anext(refused)
    assert [e.extensions["code"] for e in first.errors] == ["FORBIDDEN"]
    await refused.aclose()
    assert api.services.dashboards.hub.watching == 0


async def test_the_mall_page_is_served_for_known_malls_only(api: ApiStack) -> None:
    page = await api.client.get(f"/dashboard/mall/{api.data.malls[0].id}")
    assert page.status_code == 200 and "mallDashboardUpdates" in page.text
    assert (await api.client.get("/dashboard/mall/mall-nope")).status_code == 404
