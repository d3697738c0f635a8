from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from guang.adapters.ports import PublishResult
from guang.domain.events import event_from_json
from guang.domain.models import Device
from guang.services.devices import DeviceRegistry, issue_token, token_hash
from guang.services.ingest import BatchRejected, ingest_batch

CAMERA = Device(id="cam-1", kind="camera", store_id="store-A", mall_id="mall-1")


async def nobody(member_ids: Sequence[str]) -> set[str]:
    return set()


class FakeBus:
    """Keeps published events; an event_id is appended once, like the real bus."""

    def __init__(self) -> None:
        self.events: dict[str, str] = {}

    async def publish(self, items: Iterable[tuple[str, str]]) -> list[PublishResult]:
        results = []
        for event_id, payload in items:
            results.append(PublishResult(event_id, event_id not in self.events))
            self.events.setdefault(event_id, payload)
        return results

    async def dataflow_alive(self) -> bool:
        return True

    async def lag(self) -> tuple[int, float]:
        return 0, 0.0

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


def dwell(event_id: str, store: str | None = "store-A") -> dict[str, Any]:
    raw = {"event_id": event_id, "type": "dwell", "ts_ms": 1_790_000_000_000, "visitor_id": "v1",
           "zone_id": "z1", "dwell_ms": 1000}  # fmt: skip
    return {**raw, "store_id": store} if store else raw


async def test_a_bad_event_is_reported_and_never_blocks_the_good_ones() -> None:
    bus = FakeBus()
    body = [dwell("e1"), {"type": "dwell"}, "junk", dwell("e2", store="store-B"), dwell("e3")]
    results = await ingest_batch(body, device=CAMERA, bus=bus, max_events=10, face_consented=nobody)
    assert [r.status for r in results] == ["accepted", "rejected", "rejected", "rejected", "accepted"]
    assert "belongs to store store-A" in (results[3].reason or "")
    assert sorted(bus.events) == ["store-A:e1", "store-A:e3"]


async def test_repeated_event_ids_are_accepted_once() -> None:
    bus = FakeBus()
    first = await ingest_batch(
        [dwell("e1"), dwell("e1")], device=CAMERA, bus=bus, max_events=10, face_consented=nobody
    )
    again = await ingest_batch([dwell("e1")], device=CAMERA, bus=bus, max_events=10, face_consented=nobody)
    assert [r.status for r in first + again] == ["accepted", "duplicate", "duplicate"]
    assert len(bus.events) == 1


async def test_the_device_fills_in_its_store_mall_and_id() -> None:
    bus = FakeBus()
    await ingest_batch(
        [dwell("e1", store=None)], device=CAMERA, bus=bus, max_events=10, face_consented=nobody
    )
    event = event_from_json(bus.events["store-A:e1"])
    assert (event.store_id, event.mall_id, event.device_id) == ("store-A", "mall-1", "cam-1")


@pytest.mark.parametrize("body", [{"event_id": "x"}, [dwell(f"e{i}") for i in range(11)]])
async def test_a_body_that_is_not_a_small_array_is_refused_whole(body: Any) -> None:
    with pytest.raises(BatchRejected):
        await ingest_batch(body, device=CAMERA, bus=FakeBus(), max_events=10, face_consented=nobody)


def test_device_tokens_authenticate_only_their_device() -> None:
    token = issue_token("secret", CAMERA.id)
    registry = DeviceRegistry([CAMERA.model_copy(update={"token_hash": token_hash(token)})])
    found = registry.authenticate(f"Bearer {token}")
    assert found is not None and found.id == CAMERA.id
    assert registry.authenticate(f"Bearer {issue_token('other-secret', CAMERA.id)}") is None
    assert registry.authenticate(token) is None
    assert registry.authenticate(None) is None


async def test_a_device_may_only_send_its_own_kinds_of_event_for_its_own_mall() -> None:
    bus = FakeBus()
    item = {"sku_id": "s", "qty": 1, "price_fen": 100}
    payment = {"event_id": "p1", "type": "payment", "ts_ms": 1_790_000_000_000, "user_id": "m1",
               "order_id": "o1", "amount_fen": 100, "items": [item], "channel": "pos"}  # fmt: skip
    other_mall = {**dwell("e2"), "mall_id": "mall-9"}
    results = await ingest_batch(
        [payment, other_mall, dwell("e3")], device=CAMERA, bus=bus, max_events=10, face_consented=nobody
    )
    assert [r.status for r in results] == ["rejected", "rejected", "accepted"]
    assert results[0].reason == "type: a camera device may not send payment events"
    assert "belongs to mall mall-1, not mall-9" in (results[1].reason or "")


def face(event_id: str, **subject: str) -> dict[str, Any]:
    return {"event_id": event_id, "type": "face", "ts_ms": 1_790_000_000_000, "action": "enter", **subject}


async def test_face_matches_of_members_without_consent_are_refused_and_never_published() -> None:
    bus = FakeBus()

    async def only_m1(member_ids: Sequence[str]) -> set[str]:
        return {m for m in member_ids if m == "m1"}

    body = [face("f1", user_id="m1"), face("f2", user_id="m2"), face("f3", visitor_id="v9"), dwell("d1")]
    results = await ingest_batch(body, device=CAMERA, bus=bus, max_events=10, face_consented=only_m1)
    assert [r.status for r in results] == ["accepted", "rejected", "accepted", "accepted"]
    assert "no active face-recognition consent" in (results[1].reason or "")
    published = {event_from_json(p).event_id for p in bus.events.values()}
    assert published == {"f1", "f3", "d1"}
