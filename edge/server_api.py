"""The agent's calls to the guang server other than event delivery (that is the outbox's forwarder)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from edge.zones import ZoneArea, ZoneMap, strips


class ServerRefused(RuntimeError):
    """The server answered with an error; `status` and its message say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Setup:
    device_id: str
    store_id: str
    mall_id: str
    zones: list[dict[str, Any]]

    def zone_map(
        self, *, width: int, height: int, polygons: dict[str, list[list[float]]] | None = None
    ) -> ZoneMap:
        """The shelf zones as this camera sees them: configured polygons, else equal vertical strips."""
        shelves = [z for z in self.zones if z.get("kind", "shelf") == "shelf"]
        if not polygons:
            return ZoneMap(
                strips([(z["zone_id"], z["sku_ids"], z["name"]) for z in shelves], width=width, height=height)
            )
        by_id = {z["zone_id"]: z for z in self.zones}
        unknown = sorted(set(polygons) - set(by_id))
        if unknown:
            raise ValueError(f"polygons name zones this store does not have: {', '.join(unknown)}")
        return ZoneMap(
            [
                ZoneArea(
                    zone_id=zone_id,
                    polygon=tuple((float(x), float(y)) for x, y in corners),
                    sku_ids=tuple(by_id[zone_id]["sku_ids"]),
                    name=by_id[zone_id]["name"],
                )
                for zone_id, corners in polygons.items()
            ]
        )


class ServerApi:
    def __init__(self, client: httpx.AsyncClient, *, token: str) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = await self._client.request(method, path, json=body, headers=self._headers)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("error") or response.text)
            except ValueError:
                message = response.text
            raise ServerRefused(response.status_code, message)
        answer: dict[str, Any] = response.json()
        return answer

    async def setup(self) -> Setup:
        body = await self._call("GET", "/edge/setup")
        return Setup(
            device_id=body["device_id"],
            store_id=body["store_id"],
            mall_id=body["mall_id"],
            zones=body["zones"],
        )

    async def sync(self, *, members: list[str], version: int) -> list[str]:
        """Members the gallery must delete now (their face consent is no longer active)."""
        body = await self._call("POST", "/edge/sync", {"members": members, "version": version})
        return [str(member) for member in body["remove"]]

    async def redeem(self, code: str) -> str:
        """The member an enrolment code belongs to (the code is used up)."""
        body = await self._call("POST", "/edge/enrolments", {"code": code})
        return str(body["member_id"])
