"""Hostile or malformed GraphQL is refused with a reason and a code, and the API keeps serving."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from api.rest import MAX_BODY_BYTES
from guang.services.devices import issue_token
from tests.integration.api.conftest import ApiStack, GraphQLFailed

DEEP = (
    "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }"
)


async def test_depth_alias_and_token_bombs_are_refused_and_service_goes_on(api: ApiStack) -> None:
    assert DEEP.count("{") - 1 > MAX_DEPTH
    with pytest.raises(GraphQLFailed) as deep:
        await api.gql(DEEP)
    assert deep.value.codes[0] == "GRAPHQL_VALIDATION_FAILED"
    assert "depth" in deep.value.errors[0]["message"]
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + " }"
    with pytest.raises(GraphQLFailed) as aliased:
        await api.gql(aliases)
    assert "aliases" in aliased.value.errors[0]["message"]
    tokens = "{ " + " ".join("__typename" for _ in range(MAX_TOKENS)) + " }"
    with pytest.raises(GraphQLFailed) as long_query:
        await api.gql(tokens)
    assert "token" in long_query.value.errors[0]["message"].lower()
    assert await api.gql("{ __typename }") == {"__typename": "Query"}


async def test_unknown_fields_and_wrong_types_are_validation_errors(api: ApiStack) -> None:
    with pytest.raises(GraphQLFailed) as unknown:
        await api.gql("{ noSuchField }")
    assert unknown.value.codes == ["GRAPHQL_VALIDATION_FAILED"]
    with pytest.raises(GraphQLFailed) as wrong:
        query = 'query($n: Int!) { recommendations(surface: SCREEN, storeId: "x", limit: $n) { recId } }'
        await api.gql(query, {"n": "eight"})
    assert wrong.value.codes == ["GRAPHQL_VALIDATION_FAILED"]


async def test_domain_errors_carry_codes(api: ApiStack) -> None:
    with pytest.raises(GraphQLFailed) as missing:
        await api.gql('{ recommendations(surface: SCREEN, storeId: "no-such-store") { recId } }')
    assert missing.value.codes == ["NOT_FOUND"]
    store = api.data.stores[0].id
    with pytest.raises(GraphQLFailed) as too_many:
        query = "query($s: String!) { recommendations(surface: SCREEN, storeId: $s, limit: 500) { recId } }"
        await api.gql(query, {"s": store})
    assert too_many.value.codes == ["INVALID_ARGUMENT"]


async def test_malformed_http_bodies_get_a_4xx_not_a_crash(api: ApiStack) -> None:
    broken = await api.client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert 400 <= broken.status_code < 500
    empty = await api.client.post("/graphql", json={})
    assert 400 <= empty.status_code < 500
    assert (await api.client.get("/healthz")).status_code == 200


async def test_refusals_are_not_logged_as_errors(api: ApiStack, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(GraphQLFailed):
        await api.gql('{ recommendations(surface: SCREEN, storeId: "no-such-store") { recId } }')
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("offset", ["-5", "99999999999999999999", "x"])
async def test_forged_cursors_are_invalid_arguments(api: ApiStack, offset: str) -> None:
    token = await api.new_shopper()
    cursor = base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()
    with pytest.raises(GraphQLFailed) as forged:
        await api.gql("query($a: String) { myCoupons(first: 5, after: $a) { pageInfo { hasNextPage } } }",
                      {"a": cursor}, token=token)  # fmt: skip
    assert forged.value.codes == ["INVALID_ARGUMENT"]


async def test_logins_are_rate_limited_per_address(api: ApiStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.settings, "login_rate_per_min", 3)
    login = {"query": 'mutation { login(code: "demo:rate-limited-openid") { token } }'}
    async with api.client_from("10.1.2.3") as phone, api.client_from("10.1.2.4") as neighbour:
        answers = [(await phone.post("/graphql", json=login)).json() for _ in range(4)]
        assert all("errors" not in a for a in answers[:3])
        assert answers[3]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "retry in" in answers[3]["errors"][0]["message"]
        assert "errors" not in (await neighbour.post("/graphql", json=login)).json()


async def test_event_batches_are_rate_limited_per_device(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.settings, "events_rate_per_min", 2)
    camera = next(d for d in api.data.devices if d.kind == "camera")
    headers = {"Authorization": f"Bearer {issue_token(api.services.container.secret_key, camera.id)}"}
    async with api.client_from("10.1.2.5") as edge:
        statuses = [(await edge.post("/events", json=[], headers=headers)) for _ in range(3)]
    assert [s.status_code for s in statuses] == [202, 202, 429]
    assert int(statuses[2].headers["Retry-After"]) >= 1
    assert "nothing in this batch was accepted" in statuses[2].json()["error"]


async def test_oversized_event_batches_are_refused_without_being_read_whole(api: ApiStack) -> None:
    camera = next(d for d in api.data.devices if d.kind == "camera")
    headers = {"Authorization": f"Bearer {issue_token(api.services.container.secret_key, camera.id)}"}
    declared = await api.client.post(
        "/events", content=b"[]", headers={**headers, "Content-Length": str(MAX_BODY_BYTES + 1)}
    )
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65_536 + 2):
            yield b" " * 65_536

    streamed = await api.client.post("/events", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert "larger than" in streamed.json()["error"]


async def test_only_configured_origins_get_a_cors_grant(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed, foreign = "https://shop.example.com", "https://evil.example.net"
    settings = api.services.container.settings.model_copy(update={"cors_origins": [allowed]})
    monkeypatch.setattr(api.services.container, "settings", settings)
    transport = httpx.ASGITransport(app=create_app(api.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://guang.test") as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        granted = await client.options("/graphql", headers={"Origin": allowed, **preflight})
        refused = await client.options("/graphql", headers={"Origin": foreign, **preflight})
        query = {"query": "{ __typename }"}
        answered = await client.post("/graphql", json=query, headers={"Origin": foreign})

    assert granted.status_code == 200 and granted.headers["access-control-allow-origin"] == allowed
    assert "authorization" in granted.headers["access-control-allow-headers"].lower()
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert "origin" in refused.text.lower()
    assert answered.status_code == 200 and "access-control-allow-origin" not in answered.headers
