"""GraphQL over HTTP against a running stack, as a client would call it (e2e and browser tests)."""

from __future__ import annotations

from typing import Any

import httpx


async def gql(client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any) -> Any:
    """`data` of the answer; fails the test with the whole answer when it has errors."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = (
        await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    ).json()
    assert not body.get("errors"), body
    return body["data"]
