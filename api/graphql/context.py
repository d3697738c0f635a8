"""Who is calling and what they may use, read from the GraphQL context."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from api.services import AppServices
from guang.accounts.models import Principal, Role
from guang.domain.errors import Forbidden, RateLimited, Unauthenticated

PRINCIPAL = "principal"


def services(info: Info[Any, Any]) -> AppServices:
    app: AppServices = info.context["services"]
    return app


def _authorization(info: Info[Any, Any]) -> str | None:
    request = info.context.get("request")
    header = request.headers.get("authorization") if request is not None else None
    if header:
        return str(header)
    params = info.context.get("connection_params")
    value = params.get("authorization") if isinstance(params, dict) else None
    return str(value) if value else None


def principal(info: Info[Any, Any]) -> Principal | None:
    """The caller's verified session, or None for an anonymous call; a bad token is an error."""
    if PRINCIPAL not in info.context:
        info.context[PRINCIPAL] = services(info).accounts.tokens.from_header(_authorization(info))
    found: Principal | None = info.context[PRINCIPAL]
    return found


def client_ip(info: Info[Any, Any]) -> str:
    request = info.context.get("request")
    client = getattr(request, "client", None)
    return str(client.host) if client is not None else "unknown"


async def limit(info: Info[Any, Any], action: str, *, per_min: int) -> None:
    """Refuse (RATE_LIMITED) the caller's IP beyond `per_min` of `action` a minute."""
    wait = await services(info).container.limiter.hit(
        f"{action}:ip:{client_ip(info)}", limit=per_min, window_s=60
    )
    if wait is not None:
        raise RateLimited(f"too many {action} attempts from your address; retry in {wait:.0f} s", wait)


def require(info: Info[Any, Any], *roles: Role) -> Principal:
    """The caller, who must be logged in with one of `roles` (any role when none are given)."""
    who = principal(info)
    if who is None:
        raise Unauthenticated("log in first: Authorization: Bearer <session token from login>")
    if roles and who.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this needs the role {allowed}; you are {who.role.value}")
    return who


def require_member(info: Info[Any, Any]) -> str:
    """The calling shopper's member id."""
    who = require(info, Role.SHOPPER)
    assert who.member_id is not None
    return who.member_id
