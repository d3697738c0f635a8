"""One seeded embedded stack (Valkey, SecantusDB, qdrant-edge, m3e-small) and the ASGI app, per session.

API tests talk to it over HTTP in-process (httpx ASGITransport), exactly as a client would."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio

from api.app import create_app
from api.services import AppServices
from guang.bootstrap import Container
from guang.seed import loader
from guang.seed.generator import SeedData, generate
from guang.settings import Settings

SEED = 7
SCALE = 0.02
NOW_MS = int(time.time() * 1000) // 86_400_000 * 86_400_000


class GraphQLFailed(AssertionError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code", "") for e in self.errors]


@dataclass
class ApiStack:
    client: httpx.AsyncClient
    services: AppServices
    settings: Settings
    data: SeedData
    app: Any = None

    def client_from(self, ip: str) -> httpx.AsyncClient:
        """Another client of the same app, as seen from address `ip`."""
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://guang.test")

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        """`data` of a GraphQL call; raises GraphQLFailed (with the error codes) when it has errors."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        if body.get("errors"):
            raise GraphQLFailed(body["errors"])
        assert response.status_code == 200, body
        return body["data"]

    async def login(self, openid: str) -> str:
        data = await self.gql("mutation($c: String!) { login(code: $c) { token } }", {"c": f"demo:{openid}"})
        token: str = data["login"]["token"]
        return token

    async def shopper(self, index: int = 0) -> str:
        """A session for a seeded member."""
        return await self.login(self.data.members[index].openid)

    async def subject_of(self, token: str) -> str:
        """`viewer.subjectId` of a session: the member id of a shopper's."""
        subject: str = (await self.gql("{ viewer { subjectId } }", token=token))["viewer"]["subjectId"]
        return subject

    async def bus_events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every event published on the bus so far (of one `type` if given), oldest first."""
        client = redis.asyncio.Redis.from_url(self.settings.bus_url)
        try:
            entries = await client.xrange(self.settings.events_stream)
        finally:
            await client.aclose()
        events = [json.loads(fields[b"e"]) for _, fields in entries]
        return [e for e in events if kind is None or e.get("type") == kind]

    async def new_shopper(self) -> str:
        """A session for a brand-new member, so tests do not share a 我的."""
        return await self.login(f"t-{uuid.uuid4().hex[:12]}")


class QueryCount:
    """Counts the document reads the API makes (the real store; the calls are only counted)."""

    READS = ("find", "find_one", "count", "aggregate")

    def __init__(self, api: ApiStack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        documents = api.services.container.documents
        for name in self.READS:
            monkeypatch.setattr(documents, name, self._counting(name, getattr(documents, name)))

    def _counting(self, name: str, real: Any) -> Any:
        async def counted(collection: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(f"{name} {collection}")
            return await real(collection, *args, **kwargs)

        return counted


def api_settings(valkey_url: str, mongo_uri: str, data_dir: Path) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return Settings(
        kv_mode="server",
        kv_url=valkey_url,
        bus_mode="server",
        bus_url=valkey_url,
        documents_mode="server",
        documents_uri=mongo_uri,
        documents_db=f"api{tag}",
        data_dir=data_dir,
        demo=True,
        login_rate_per_min=100_000,
        secret_key="api-test-secret",
        events_stream=f"test:api:{tag}",
        dead_letter_stream=f"test:api:dead:{tag}",
        signals_stream=f"test:api:signals:{tag}",
    )


@pytest.fixture(scope="session")
async def api(
    valkey_url: str, mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiStack]:
    settings = api_settings(valkey_url, mongo_uri, tmp_path_factory.mktemp("api"))
    container = Container(settings)
    data = generate(seed=SEED, scale=SCALE, now_ms=NOW_MS)
    await loader.load(
        data,
        documents=container.documents,
        vectors=container.vectors,
        features=container.features,
        encoder=container.encoder,
        secret=container.secret_key,
        progress=lambda _description, _total: _no_progress(),
        meta={"seed": SEED, "scale": SCALE},
    )
    container.release_encoder()
    services = await AppServices.build(container)
    app = create_app(services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://guang.test"
    ) as client:
        yield ApiStack(client=client, services=services, settings=settings, data=data, app=app)
    await container.documents.drop_database()
    await container.aclose()


class _no_progress:
    def __enter__(self) -> Any:
        return lambda _n: None

    def __exit__(self, *_exc: object) -> None:
        return None
