"""The ASGI app, assembled from services built by the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from api.coupons_rest import router as coupons_router
from api.dashboard_pages import router as dashboard_pages_router
from api.edge_rest import router as edge_router
from api.graphql.endpoint import GraphQLEndpoint
from api.guide_page import router as guide_page_router
from api.media import router as media_router
from api.mp import mount_miniprogram
from api.rest import router
from api.services import AppServices
from api.webhooks import router as webhooks_router


def create_app(services: AppServices) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.hub.start()
        await services.guide.start()
        try:
            yield
        finally:
            await services.guide.stop()
            await services.hub.stop()

    app = FastAPI(title="逛 guang", version="0.1.0", lifespan=lifespan)
    app.state.services = services
    # Without a listed origin a browser gets no CORS grant (a preflight is refused with a reason); tokens
    # travel in headers, never cookies, so no credentials are allowed cross-origin.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=services.container.settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    app.include_router(router)
    app.include_router(media_router)
    app.include_router(coupons_router)
    app.include_router(edge_router)
    app.include_router(webhooks_router)
    app.include_router(dashboard_pages_router)
    app.include_router(guide_page_router)
    graphql = GraphQLEndpoint(services)
    app.router.routes.append(Route("/graphql", graphql, methods=["GET", "POST"]))
    app.router.routes.append(WebSocketRoute("/graphql", graphql))
    mount_miniprogram(app)
    return app
