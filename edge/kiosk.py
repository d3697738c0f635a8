"""The in-store enrolment kiosk, served by the edge box itself (never by the server).

Face consent is given separately in the mini-program, which then shows a one-time code. At the kiosk the
shopper reads the explanation, enters the code and takes one photo. The photo is decoded in memory, its
one face embedded, the code redeemed with the server, and the embedding stored in this box's gallery.
The photo and the embedding never leave the box and the photo is never written anywhere.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.bodies import TooLarge, read_capped
from edge.identity import Gallery
from edge.server_api import ServerApi, ServerRefused
from guang.adapters.face_model import FaceModel

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MIN_FACE_PX = 60
TOO_LARGE = "照片太大（最多 8 MB）"
PAGE = Path(__file__).parent / "kiosk.html"


class EnrolmentRefused(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Kiosk:
    def __init__(self, *, model: FaceModel, gallery: Gallery, server: ServerApi) -> None:
        self._model = model
        self._gallery = gallery
        self._server = server

    def _embedding(self, photo: bytes) -> np.ndarray:
        image = cv2.imdecode(np.frombuffer(photo, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise EnrolmentRefused(400, "照片无法识别：请用 JPEG 或 PNG 重新拍摄")
        boxes = self._model.locate(image)
        if not boxes:
            raise EnrolmentRefused(422, "没有检测到人脸：请正对镜头、光线充足时重拍")
        if len(boxes) > 1:
            raise EnrolmentRefused(422, "检测到不止一张脸：录入时请只让本人入镜")
        x1, y1, x2, y2 = boxes[0].bbox
        if min(x2 - x1, y2 - y1) < MIN_FACE_PX:
            raise EnrolmentRefused(422, "人脸太小：请靠近一些重拍")
        return self._model.embed(image, boxes[0])

    async def enrol(self, *, code: str, photo: bytes) -> str:
        """The member now enrolled on this box. The photo is checked before the one-time code is used."""
        if not photo:
            raise EnrolmentRefused(400, "请先拍一张照片")
        if len(photo) > MAX_PHOTO_BYTES:
            raise EnrolmentRefused(413, TOO_LARGE)
        embedding = await asyncio.to_thread(self._embedding, photo)
        try:
            member_id = await self._server.redeem(code)
        except ServerRefused as refused:
            raise EnrolmentRefused(refused.status, refused.message) from None
        self._gallery.enrol(member_id, embedding)
        return member_id


def kiosk_app(kiosk: Kiosk) -> FastAPI:
    app = FastAPI(title="guang kiosk", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.post("/enrol")
    async def enrol(request: Request, code: str = Query(max_length=32)) -> JSONResponse:
        try:
            photo = await read_capped(request, MAX_PHOTO_BYTES)
        except TooLarge:
            return JSONResponse({"error": TOO_LARGE}, status_code=413)
        except ValueError:
            return JSONResponse({"error": "请求无效：请重新拍照上传"}, status_code=400)
        try:
            member_id = await kiosk.enrol(code=code, photo=photo)
        except EnrolmentRefused as refused:
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        finally:
            del photo
        return JSONResponse(
            {"member_id": member_id, "message": "录入成功：本店设备将认出你，可随时在小程序里撤回"}
        )

    return app
