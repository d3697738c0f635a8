"""The H5 mini-program mock (`miniprogram-mock/`), served as static files at `/mp/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

MP_DIR = Path(__file__).resolve().parent.parent / "miniprogram-mock"


def mount_miniprogram(app: FastAPI, directory: Path = MP_DIR) -> None:
    """`/mp/` is the app; `/mp` redirects there so relative module imports resolve."""

    @app.get("/mp", include_in_schema=False)
    async def miniprogram_root() -> RedirectResponse:
        return RedirectResponse("/mp/")

    app.mount("/mp/", StaticFiles(directory=directory, html=True, check_dir=False), name="miniprogram")
