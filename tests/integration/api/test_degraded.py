"""Redis dies under the recommender: lists still answer (popular, from memory), /readyz and /metrics say
so, and when Redis is back full service resumes without a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guang.adapters.engines import start_valkey
from guang.adapters.redis_features import RedisFeatureStore
from tests.integration.api.conftest import ApiStack

RECS = """query($s: Surface!, $store: String, $n: Int!) {
  recommendations(surface: $s, storeId: $store, limit: $n) { degraded items { reason product { id } } } }"""


async def _recs(api: ApiStack, surface: str, limit: int, *, store: str | None, token: str) -> dict[str, Any]:
    variables = {"s": surface, "store": store, "n": limit}
    found: dict[str, Any] = (await api.gql(RECS, variables, token=token))["recommendations"]
    return found


async def _serving(api: ApiStack) -> dict[str, Any]:
    serving: dict[str, Any] = (await api.client.get("/readyz")).json()["serving"]
    return serving


async def test_lists_degrade_while_redis_is_down_and_recover_without_a_restart(
    api: ApiStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    valkey, url = start_valkey(tmp_path / "valkey")
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    features = RedisFeatureStore(url)
    monkeypatch.setattr(api.services.recommender, "_features", features)
    monkeypatch.setattr(api.services.container, "features", features)
    store = api.data.stores[0]
    stocked = {p.id for p in api.data.products if any(s.store_id == store.id and s.qty > 0 for s in p.stock)}
    token = await api.new_shopper()
    restarted = None
    try:
        # Each phase asks for a different length, so no store list cached by an earlier phase answers it.
        assert (await _recs(api, "SCREEN", 6, store=store.id, token=token))["degraded"] is False
        assert (await _serving(api))["recommendations"] == "full"

        valkey.process.kill()
        valkey.process.wait()
        screen = await _recs(api, "SCREEN", 7, store=store.id, token=token)
        assert screen["degraded"] is True and len(screen["items"]) == 7
        assert {i["product"]["id"] for i in screen["items"]} <= stocked
        assert {i["reason"] for i in screen["items"]} == {"本店热销"}
        feed = await _recs(api, "FEED", 5, store=None, token=token)
        assert feed["degraded"] is True and len(feed["items"]) == 5
        serving = await _serving(api)
        assert serving["recommendations"] == "degraded" and "redis" in serving["reason"]
        assert "guang_recommendations_degraded 1.0" in (await api.client.get("/metrics")).text

        restarted, _ = start_valkey(tmp_path / "valkey", port=port)
        assert (await _recs(api, "SCREEN", 8, store=store.id, token=token))["degraded"] is False
        assert (await _recs(api, "FEED", 5, store=None, token=token))["degraded"] is False
        assert (await _serving(api))["recommendations"] == "full"
    finally:
        await features.close()
        for process in (valkey, restarted):
            if process is not None:
                process.stop()
