"""`/guide/`: the guide inbox H5 page for a staff member's phone, and its script."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

STATIC = Path(__file__).parent / "static"
router = APIRouter()


@router.get("/guide", include_in_schema=False)
async def guide_root() -> RedirectResponse:
    return RedirectResponse("/guide/")


@router.get("/guide/", response_class=HTMLResponse, summary="The guide inbox (H5, for staff phones)")
async def guide_page() -> HTMLResponse:
    return HTMLResponse((STATIC / "guide.html").read_text(encoding="utf-8"))


@router.get("/guide/guide.js", include_in_schema=False)
async def guide_script() -> FileResponse:
    return FileResponse(STATIC / "guide.js", media_type="text/javascript; charset=utf-8")
