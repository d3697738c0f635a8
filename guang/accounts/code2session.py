"""Exchanging a mini-program login code for an openid (WeChat `jscode2session`), or the demo stand-in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

import httpx

from guang.domain.errors import Unauthenticated

DEMO_PREFIX = "demo:"
MAX_OPENID = 64


@dataclass(frozen=True)
class WxSession:
    openid: str
    session_key: str
    """Server-side only: it decrypts the user's encrypted data and must never reach a client."""
    unionid: str | None = None


class Code2Session(Protocol):
    async def exchange(self, code: str) -> WxSession: ...


class DemoCode2Session:
    """Accepts `demo:<openid>` codes, so anyone can log in to the demo as any shopper."""

    async def exchange(self, code: str) -> WxSession:
        openid = code.removeprefix(DEMO_PREFIX).strip()
        if not code.startswith(DEMO_PREFIX) or not openid or len(openid) > MAX_OPENID:
            raise Unauthenticated(
                f"demo login codes look like '{DEMO_PREFIX}<openid>' (≤ {MAX_OPENID} chars)"
            )
        return WxSession(openid=openid, session_key=secrets.token_urlsafe(16))


class UnconfiguredCode2Session:
    """Outside demo mode with no WeChat app configured nobody can log in, rather than everybody."""

    async def exchange(self, code: str) -> WxSession:
        raise Unauthenticated(
            "WeChat login is not configured: set GUANG_WECHAT_APP_ID and GUANG_WECHAT_APP_SECRET "
            "(demo codes work only under `guang demo`)"
        )


class WeChatCode2Session:
    """The real endpoint: GET /sns/jscode2session with the app's id and secret."""

    def __init__(self, *, app_id: str, app_secret: str, base_url: str, timeout_s: float = 5.0) -> None:
        self._params = {"appid": app_id, "secret": app_secret, "grant_type": "authorization_code"}
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)

    async def exchange(self, code: str) -> WxSession:
        try:
            response = await self._client.get("/sns/jscode2session", params={**self._params, "js_code": code})
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise Unauthenticated(f"WeChat login is unreachable: {error}") from error
        if body.get("errcode") or "openid" not in body:
            raise Unauthenticated(f"WeChat refused the login code: {body.get('errmsg', 'no openid')}")
        return WxSession(openid=body["openid"], session_key=body["session_key"], unionid=body.get("unionid"))
