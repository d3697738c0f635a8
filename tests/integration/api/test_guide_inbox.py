"""The guide inbox against the real stores: signals as the dataflow writes them, the GraphQL subscription
and the recent-alerts query, for staff of seeded stores and brand-new shoppers."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.schema import schema
from guang.domain.features import LastDwell, SubjectFeatures
from guang.domain.models import Staff
from guang.domain.signals import Signal
from tests.integration.api.conftest import ApiStack, GraphQLFailed

CONSULT = "mutation($s: String!) { consultStaff(staffId: $s, source: PROFILE) { state } }"
CONSENT = "mutation($k: ConsentKind!) { setConsent(kind: $k, granted: true) { id } }"
ALERT_FIELDS = """id memberId nickname how signal mallName storeId storeName atMs eventId topCategories
  lookedAt { zoneName category dwellS } recommendation { recId surface items { reason product { id } } }"""
INBOX = f"subscription {{ guideInbox {{ staffId alert {{ {ALERT_FIELDS} }} }} }}"
RECENT = f"query($n: Int!) {{ guideAlerts(first: $n) {{ nodes {{ {ALERT_FIELDS} }} }} }}"


class Inbox:
    """One staff phone's guideInbox subscription, run through the real schema and resolvers."""

    def __init__(self, stream: AsyncIterator[Any]) -> None:
        self._stream = stream

    async def next_alert(self) -> dict[str, Any]:
        result = await anext(self._stream)
        assert not result.errors, result.errors
        update: dict[str, Any] = result.data["guideInbox"]
        while update["alert"] is None:
            update = (await anext(self._stream)).data["guideInbox"]
        return update["alert"]


async def open_inbox(api: ApiStack, token: str | None) -> Any:
    params = {"authorization": f"Bearer {token}"} if token else {}
    context = {"services": api.services, "request": None, "connection_params": params}
    return await schema.subscribe(INBOX, context_value=context)


async def subscribed(api: ApiStack, token: str) -> Inbox:
    stream = await open_inbox(api, token)
    first = await anext(stream)
    assert first.data["guideInbox"]["alert"] is None, "the first update says the inbox is live"
    return Inbox(stream)


@pytest.fixture
async def hub(api: ApiStack) -> AsyncIterator[None]:
    """The app starts the hub with its lifespan; the in-process test client does not run that."""
    await api.services.guide.start()
    try:
        yield
    finally:
        await api.services.guide.stop()


def arrive(api: ApiStack, member_id: str, kind: str = "member_arrival", *, store_id: str | None,
           mall_id: str) -> str:  # fmt: skip
    """Append a signal the way the dataflow does."""
    event_id = f"it-{uuid.uuid4().hex}"
    writer = api.services.container.signals()
    try:
        signal = Signal(kind, f"u:{member_id}", mall_id, store_id, int(time.time() * 1000), event_id)  # type: ignore[arg-type]
        writer.write([signal])
    finally:
        writer.close()
    return event_id


async def client_of(api: ApiStack, staff: Staff, *consents: str) -> tuple[str, str]:
    token = await api.new_shopper()
    await api.gql(CONSULT, {"s": staff.id}, token=token)
    for kind in consents:
        await api.gql(CONSENT, {"k": kind}, token=token)
    return token, await api.subject_of(token)


def staff_login(staff: Staff) -> str:
    return f"staff-openid-{staff.id}"


def mall_of(api: ApiStack, store_id: str) -> str:
    return next(s.mall_id for s in api.data.stores if s.id == store_id)


async def test_a_client_recognised_in_the_store_alerts_their_advisor_with_what_to_show(
    api: ApiStack, hub: None
) -> None:
    anna = api.data.staff[0]
    zone = next(z for z in api.data.zones if z.store_id == anna.store_id and z.kind == "shelf")
    _, member = await client_of(api, anna, "FACE")
    writer = api.services.container.feature_writer()
    writer.write([SubjectFeatures(
        f"u:{member}", int(time.time() * 1000), category_scores={zone.category: 5.0},
        last_dwell=LastDwell(anna.store_id, zone.id, zone.category, 40_000), present=False,
    )])  # fmt: skip
    writer.close()
    inbox = await subscribed(api, await api.login(staff_login(anna)))

    event_id = arrive(api, member, store_id=anna.store_id, mall_id=mall_of(api, anna.store_id))
    alert = await inbox.next_alert()

    nickname = (await api.services.container.documents.find_one("members", {"_id": member}) or {})["nickname"]
    assert (alert["memberId"], alert["nickname"], alert["how"]) == (member, nickname, "FACE")
    assert alert["eventId"] == event_id and alert["storeId"] == anna.store_id and alert["storeName"]
    assert alert["lookedAt"] == {"zoneName": zone.name, "category": zone.category, "dwellS": 40}
    assert alert["topCategories"][0] == zone.category
    stocked = {
        p.id for p in api.data.products if any(s.store_id == anna.store_id and s.qty > 0 for s in p.stock)
    }
    items = alert["recommendation"]["items"]
    assert alert["recommendation"]["surface"] == "GUIDE" and items
    assert {i["product"]["id"] for i in items} <= stocked
    recent = (await api.gql(RECENT, {"n": 5}, token=await api.login(staff_login(anna))))["guideAlerts"][
        "nodes"
    ]
    assert recent[0] == alert


async def test_staff_get_only_their_own_clients_alerts(api: ApiStack, hub: None) -> None:
    anna = api.data.staff[0]
    bo = next(p for p in api.data.staff if p.store_id != anna.store_id)
    _, annas = await client_of(api, anna, "FACE")
    _, bos = await client_of(api, bo, "FACE")
    anna_token, bo_token = await api.login(staff_login(anna)), await api.login(staff_login(bo))
    anna_inbox, bo_inbox = await subscribed(api, anna_token), await subscribed(api, bo_token)

    arrive(api, annas, store_id=anna.store_id, mall_id=mall_of(api, anna.store_id))
    arrive(api, annas, store_id=bo.store_id, mall_id=mall_of(api, bo.store_id))  # not Bo's client
    arrive(api, bos, store_id=anna.store_id, mall_id=mall_of(api, anna.store_id))  # Bo's, in another store
    arrive(api, bos, store_id=bo.store_id, mall_id=mall_of(api, bo.store_id))

    assert (await anna_inbox.next_alert())["memberId"] == annas
    first_for_bo = await bo_inbox.next_alert()
    assert (first_for_bo["memberId"], first_for_bo["storeId"]) == (bos, bo.store_id)
    bo_recent = (await api.gql(RECENT, {"n": 50}, token=bo_token))["guideAlerts"]["nodes"]
    assert {a["memberId"] for a in bo_recent} == {bos}


async def test_no_alert_without_the_consent_for_how_the_client_was_noticed(api: ApiStack, hub: None) -> None:
    anna = api.data.staff[0]
    mall = mall_of(api, anna.store_id)
    _, no_face = await client_of(api, anna, "LOCATION")
    _, face_only = await client_of(api, anna, "FACE")
    inbox = await subscribed(api, await api.login(staff_login(anna)))

    arrive(api, no_face, store_id=anna.store_id, mall_id=mall)
    arrive(api, face_only, "store_enter", store_id=anna.store_id, mall_id=mall)
    arrive(api, no_face, "store_enter", store_id=anna.store_id, mall_id=mall)

    alert = await inbox.next_alert()
    assert (alert["memberId"], alert["how"], alert["signal"]) == (no_face, "LOCATION", "store_enter")


async def test_one_alert_per_visit_and_a_mall_arrival_reaches_advisors_across_the_mall(
    api: ApiStack, hub: None
) -> None:
    anna = api.data.staff[0]
    mall = mall_of(api, anna.store_id)
    _, member = await client_of(api, anna, "FACE", "LOCATION")
    _, other = await client_of(api, anna, "FACE")
    inbox = await subscribed(api, await api.login(staff_login(anna)))

    arrive(api, member, "arrival", store_id=None, mall_id=mall)
    arrive(api, member, "store_enter", store_id=anna.store_id, mall_id=mall)
    arrive(api, member, store_id=anna.store_id, mall_id=mall)  # the camera sees them a moment later
    arrive(api, other, store_id=anna.store_id, mall_id=mall)

    at_mall, in_store, next_one = [await inbox.next_alert() for _ in range(3)]
    assert (at_mall["signal"], at_mall["storeId"], at_mall["lookedAt"]) == ("arrival", None, None)
    assert at_mall["recommendation"]["items"], "what to show them when they come by"
    assert (in_store["signal"], in_store["storeId"]) == ("store_enter", anna.store_id)
    assert next_one["memberId"] == other, "the camera's sighting of the same visit was not a new alert"


async def test_only_staff_may_open_an_inbox(api: ApiStack) -> None:
    shopper = await api.new_shopper()
    for token, code in ((None, "UNAUTHENTICATED"), (shopper, "FORBIDDEN")):
        stream = await open_inbox(api, token)
        result = await anext(stream)
        assert result.errors and result.errors[0].extensions["code"] == code
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql(RECENT, {"n": 5}, token=shopper)
    assert refused.value.codes == ["FORBIDDEN"]


async def test_a_client_who_deletes_their_data_leaves_no_alert_in_their_advisors_inbox(
    api: ApiStack, hub: None
) -> None:
    bea = api.data.staff[-1]
    shopper, member = await client_of(api, bea, "FACE")
    inbox = await subscribed(api, await api.login(staff_login(bea)))
    arrive(api, member, store_id=bea.store_id, mall_id=mall_of(api, bea.store_id))
    assert (await inbox.next_alert())["memberId"] == member

    deleted = await api.gql(
        'mutation { deleteMyData(confirm: "DELETE") { counts { name count } } }', token=shopper
    )
    assert {c["name"]: c["count"] for c in deleted["deleteMyData"]["counts"]}["guide_alerts"] == 1
    recent = (await api.gql(RECENT, {"n": 50}, token=await api.login(staff_login(bea))))["guideAlerts"][
        "nodes"
    ]
    assert member not in {a["memberId"] for a in recent}
