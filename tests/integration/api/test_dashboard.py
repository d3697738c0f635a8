"""The live store dashboard reads the dataflow's windowed figures exactly, for the people who run the
store."""

from __future__ import annotations

import time

import pytest

from guang.dashboard.service import BUCKET_MS
from guang.domain import keys
from guang.domain.writes import Put, Write, ZPut
from stream.store_stats import StatsConfig
from tests.integration.api.conftest import ApiStack, GraphQLFailed

DASHBOARD = """query($s: String!, $h: Float!) { storeDashboard(storeId: $s, hours: $h) {
  storeName visitors payers redemptions bucketMs
  buckets { startMs visitors payers redemptions conversion }
  zones { zoneId name dwellS visits share } trending { skuId name score }
  guides { staffId orders salesFen commissionFen } } }"""


def test_the_dashboard_buckets_are_the_dataflows() -> None:
    assert StatsConfig().bucket_ms == BUCKET_MS


async def test_a_store_dashboard_shows_the_windowed_figures_to_its_own_people(api: ApiStack) -> None:
    store = api.data.stores[1]
    shelves = [z for z in api.data.zones if z.store_id == store.id and z.kind == "shelf"][:2]
    staff = next(s for s in api.data.staff if s.store_id == store.id)
    now = int(time.time() * 1000)
    current = now - now % BUCKET_MS
    earlier = current - BUCKET_MS
    sku = api.data.products[0].id
    writes: list[Write] = [
        Put(keys.footfall_key(store.id), 10, field=str(earlier)),
        Put(keys.footfall_key(store.id), 4, field=str(current)),
        Put(keys.conversion_key(store.id, earlier), 3, field="payers"),
        Put(keys.redemptions_key(store.id), 2, field=str(earlier)),
        Put(keys.dwell_key(store.id, earlier), 30_000, field=shelves[0].id),
        Put(keys.dwell_key(store.id, current), 10_000, field=shelves[1].id),
        Put(keys.dwell_count_key(store.id, earlier), 3, field=shelves[0].id),
        ZPut(keys.trending_key(store.mall_id), sku, 7.5),
        Put(keys.guide_totals(staff.id), 2, field="orders"),
        Put(keys.guide_totals(staff.id), 59_800, field="sales_fen"),
        Put(keys.guide_totals(staff.id), 1_794, field="commission_fen"),
    ]
    writer = api.services.container.feature_writer()
    try:
        writer.apply(writes)
    finally:
        writer.close()

    token = await api.login(f"staff-openid-{staff.id}")
    view = (await api.gql(DASHBOARD, {"s": store.id, "h": 0.5}, token=token))["storeDashboard"]
    assert (view["storeName"], view["bucketMs"], len(view["buckets"])) == (store.name, BUCKET_MS, 6)
    by_start = {b.pop("startMs"): b for b in view["buckets"]}  # a new bucket may open meanwhile
    assert by_start[earlier] == {"visitors": 10, "payers": 3, "redemptions": 2, "conversion": 0.3}
    assert by_start[current] == {"visitors": 4, "payers": 0, "redemptions": 0, "conversion": 0.0}
    assert (view["visitors"], view["payers"], view["redemptions"]) == (14, 3, 2)
    assert view["zones"][:2] == [
        {"zoneId": shelves[0].id, "name": shelves[0].name, "dwellS": 30.0, "visits": 3, "share": 0.75},
        {"zoneId": shelves[1].id, "name": shelves[1].name, "dwellS": 10.0, "visits": 0, "share": 0.25},
    ]
    assert {"skuId": sku, "name": api.data.products[0].name, "score": 7.5} in view["trending"]
    assert view["guides"][0] == {"staffId": staff.id, "orders": 2, "salesFen": 59_800, "commissionFen": 1_794}

    admin = await api.login(f"brand-openid-{store.brand_id}")
    operator = await api.login(f"mall-openid-{store.mall_id}")
    for allowed in (admin, operator):
        seen = (await api.gql(DASHBOARD, {"s": store.id, "h": 2}, token=allowed))["storeDashboard"]
        assert seen["visitors"] == 14
    other_brand = next(b.id for b in api.data.brands if b.id != store.brand_id)
    refusals = [
        (await api.login(f"brand-openid-{other_brand}"), store.id, 2, "FORBIDDEN"),
        (await api.new_shopper(), store.id, 2, "FORBIDDEN"),
        (token, store.id, 0, "INVALID_ARGUMENT"),
        (token, "store-nope", 2, "NOT_FOUND"),
    ]
    for caller, store_id, hours, code in refusals:
        with pytest.raises(GraphQLFailed) as refused:
            await api.gql(DASHBOARD, {"s": store_id, "h": hours}, token=caller)
        assert refused.value.codes == [code]
