"""The ASGI app, assembled from services built by the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.coupons_rest import router as coupons_router
from api.media import router as media_router
from api.rest import router
from api.schema import schema
from api.services import AppServices
from api.webhooks import router as webhooks_router


def create_app(services: AppServices) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.hub.start()
        try:
            yield
        finally:
            await services.hub.stop()

    async def graphql_context(request: Request = None) -> dict[str, Any]:  # type: ignore[assignment]
        return {"services": services}

    app = FastAPI(title="逛 guang", version="0.1.0", lifespan=lifespan)
    app.state.services = services
    app.include_router(router)
    app.include_router(media_router)
    app.include_router(coupons_router)
    app.include_router(webhooks_router)
    app.include_router(
        GraphQLRouter(
            schema,
            context_getter=graphql_context,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        ),
        prefix="/graphql",
    )
    return app
