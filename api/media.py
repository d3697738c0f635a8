"""Generated media: article covers (the seed has no images)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.services import AppServices
from guang.content.cover import render_cover

router = APIRouter()
COVER_MAX_AGE_S = 300


@router.get("/media/covers/{article_id}.svg", summary="An article's generated cover (SVG)")
async def article_cover(article_id: str, request: Request) -> Response:
    services: AppServices = request.app.state.services
    found = await services.content.cover(article_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no article {article_id!r}")
    title, category = found
    return Response(
        render_cover(article_id=article_id, title=title, category=category),
        media_type="image/svg+xml",
        headers={"Cache-Control": f"public, max-age={COVER_MAX_AGE_S}"},
    )
