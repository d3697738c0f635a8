"""The camera agent with the real face model against a running `guang demo`: enrolment at the kiosk,
recognition, withdrawal, and a scan of everything that left the agent or was stored server-side.

Frames come from the synthetic store video of the face photos the installed packages ship."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
import redis
from pymongo import MongoClient

from edge.face_images import Person, shipped_people
from edge.kiosk import Kiosk, kiosk_app
from edge.runner import EdgeBox, RunReport
from edge.server_api import ServerApi
from edge.settings import EdgeSettings
from edge.sources import SourceStats, paced
from edge.synthetic import Stop, SyntheticCamera, Visit, sharp_people
from guang.adapters.face_model import InsightFaceModel
from guang.bench.stack import DemoStack
from tests import graphql_http

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::FutureWarning:insightface.utils.face_align"),
]
SIZE = (640, 480)
FPS = 5.0


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> InsightFaceModel:
    return InsightFaceModel(root=tmp_path_factory.mktemp("insightface"))


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return sharp_people(shipped_people())


@dataclass
class Wire:
    """Every request the agent made and every answer it got, as bytes on the wire."""

    sent: list[bytes] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    async def on_request(self, request: httpx.Request) -> None:
        body = request.read()
        self.sent.append(request.url.path.encode() + b" " + body)
        if request.url.path == "/events":
            self.events += json.loads(body)


@dataclass
class Camera:
    box: EdgeBox
    wire: Wire
    client: httpx.AsyncClient


@pytest.fixture
async def camera(stack: DemoStack, model: InsightFaceModel, tmp_path: Path) -> AsyncIterator[Camera]:
    store = [s for s in stack.credentials["stores"] if s["zones"]][-1]  # the walking skeleton uses the first
    token = next(d["token"] for d in store["devices"] if d["kind"] == "camera")
    settings = EdgeSettings(
        api_url=stack.base_url, token=token, data_dir=tmp_path / "edge", sync_interval_s=0.3
    )
    wire = Wire()
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=10.0, event_hooks={"request": [wire.on_request]}
    ) as client:
        setup = await ServerApi(client, token=token).setup()
        zones = setup.zone_map(width=SIZE[0], height=SIZE[1])
        box = EdgeBox(settings=settings, model=model, client=client, setup=setup, zones=zones)
        yield Camera(box=box, wire=wire, client=client)
        box.close()


async def gql(stack: DemoStack, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10.0) as client:
        data: dict[str, Any] = await graphql_http.gql(client, query, token, **variables)
    return data


async def consenting_shopper(stack: DemoStack) -> tuple[str, str]:
    login = await gql(stack, "mutation($c: String!) { login(code: $c) { token viewer { subjectId } } }",
                      c=f"demo:edge-{uuid.uuid4().hex[:8]}")  # fmt: skip
    token, member = login["login"]["token"], login["login"]["viewer"]["subjectId"]
    await gql(stack, "mutation { setConsent(kind: FACE, granted: true) { id } }", token)
    return token, member


async def kiosk_enrol(camera: Camera, person: Person, code: str) -> httpx.Response:
    kiosk = kiosk_app(Kiosk(model=camera.box.model, gallery=camera.box.gallery, server=camera.box.server))
    photo = cv2.imencode(".jpg", person.image)[1].tobytes()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=kiosk), base_url="http://kiosk") as client:
        assert "录入" in (await client.get("/")).text
        return await client.post("/enrol", params={"code": code}, content=photo)


def video(camera: Camera, visits: list[Visit], seconds: float) -> list[tuple[float, np.ndarray]]:
    frames = SyntheticCamera(
        camera.box.zones, visits, width=SIZE[0], height=SIZE[1], fps=FPS, seconds=seconds
    )
    return [(frame.ts_s, frame.image) for frame in frames]


def standing(
    camera: Camera, person: Person, seconds: float, *, shelf: int = 0
) -> list[tuple[float, np.ndarray]]:
    """The person walks in, stands at a shelf, and takes their time walking out (the last 3.5 s)."""
    zone = camera.box.zones.areas[shelf].zone_id
    return video(
        camera,
        [Visit(person=person, enter_s=0.0, leave_s=seconds, stops=(Stop(zone, 1.5, seconds - 3.5),))],
        seconds,
    )


async def run(camera: Camera, media: list[tuple[float, np.ndarray]], *, realtime: bool) -> RunReport:
    frames = paced(iter(media), max_fps=FPS, realtime=realtime, stats=SourceStats())
    return await camera.box.run(frames, stop=lambda: False)


async def my_data(stack: DemoStack, token: str) -> dict[str, Any]:
    export = await gql(stack, "{ exportMyData { json } }", token)
    document: dict[str, Any] = json.loads(export["exportMyData"]["json"])
    return document


async def test_enrolled_recognised_then_withdrawn_becomes_anonymous_everywhere(
    stack: DemoStack, camera: Camera, people: list[Person]
) -> None:
    token, member = await consenting_shopper(stack)
    code = (await gql(stack, "mutation { faceEnrolmentCode { code } }", token))["faceEnrolmentCode"]["code"]
    enrolled = await kiosk_enrol(camera, people[0], code)
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["member_id"] == member and camera.box.gallery.members() == [member]
    assert (await kiosk_enrol(camera, people[0], code)).status_code == 404  # one-time code

    await run(camera, standing(camera, people[0], 9.0), realtime=False)
    recognised = [e for e in camera.wire.events if e.get("user_id") == member]
    assert {e["type"] for e in recognised} == {"face", "dwell"}
    assert all(e["match_score"] >= camera.box.agent._threshold for e in recognised if e["type"] == "face")
    mine = [i for i, e in enumerate(camera.wire.events) if e.get("user_id") == member]
    named = mine[0]
    assert len(mine) == mine[-1] - named + 1, "once named, the member stays named while in view"
    before_named = camera.wire.events[:named]
    assert {e["type"] for e in before_named} == {"face"} and len({e["visitor_id"] for e in before_named}) == 1
    deadline = time.monotonic() + 10
    while not (await my_data(stack, token))["features"]["keys"] and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    before = await my_data(stack, token)
    (dwelled,) = before["features"]["keys"].values()
    assert dwelled["last_dwell"]["zone_id"] == camera.box.zones.areas[0].zone_id
    assert [m["member_id"] for m in before["face_matches"]] and before["face_enrolments"]

    await gql(stack, "mutation { setConsent(kind: FACE, granted: false) { id } }", token)
    camera.wire.events.clear()
    report = await run(camera, standing(camera, people[0], 8.0), realtime=True)

    assert report.removed_from_gallery == [member] and camera.box.gallery.members() == []
    first_anonymous = next(i for i, e in enumerate(camera.wire.events) if "visitor_id" in e)
    assert all("user_id" not in e and "match_score" not in e for e in camera.wire.events[first_anonymous:])
    assert [e for e in camera.wire.events if e["type"] == "face" and e["action"] == "seen"]
    after = await my_data(stack, token)
    assert after["features"]["face_consent_active"] is False
    assert after["features"]["present_in_stores"] == {}
    assert not [f for f in after["features"]["keys"].values() if "last_dwell" in f or "category_scores" in f]
    assert after["face_enrolments"] == []


def _needles(vector: np.ndarray, photo: bytes, frame: np.ndarray) -> dict[str, list[bytes]]:
    """Byte patterns that would betray a face embedding or an image if they were anywhere."""
    floats = vector.astype(np.float32)
    return {
        "embedding as float32": [floats[:16].tobytes(), floats[100:116].tobytes()],
        "embedding as float64": [floats[:8].astype(np.float64).tobytes()],
        "embedding as text": [repr(float(v)).encode()[:9] for v in floats[:4] if abs(v) > 0.01],
        "photo bytes": [photo[600:664], photo[-128:-64]],
        "frame pixels": [frame[240, 200:232].tobytes()],
    }


def _found(blob: bytes, needles: dict[str, list[bytes]]) -> list[str]:
    return [what for what, patterns in needles.items() if any(p and p in blob for p in patterns)]


def redis_contents(url: str) -> list[bytes]:
    """Every key and value in Redis, whatever its type."""
    kv: Any = redis.Redis.from_url(url)
    stored: list[bytes] = []
    for key in kv.scan_iter(count=1000):
        kind = kv.type(key)
        stored.append(key)
        if kind == b"string":
            stored.append(kv.get(key) or b"")
        elif kind == b"hash":
            stored += [k + b"=" + v for k, v in kv.hgetall(key).items()]
        elif kind == b"set":
            stored += list(kv.smembers(key))
        elif kind == b"zset":
            stored += kv.zrange(key, 0, -1)
        elif kind == b"list":
            stored += kv.lrange(key, 0, -1)
        elif kind == b"stream":
            stored += [b" ".join(k + b"=" + v for k, v in fields.items()) for _, fields in kv.xrange(key)]
    kv.close()
    return stored


async def test_no_image_or_embedding_leaves_the_agent_or_is_stored_by_the_server(
    stack: DemoStack,
    camera: Camera,
    people: list[Person],
    model: InsightFaceModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token, member = await consenting_shopper(stack)
    person = people[1]
    code = (await gql(stack, "mutation { faceEnrolmentCode { code } }", token))["faceEnrolmentCode"]["code"]
    assert (await kiosk_enrol(camera, person, code)).status_code == 200
    media = standing(camera, person, 6.0)
    media += [(ts + 6.0, image) for ts, image in standing(camera, people[2], 6.0, shelf=-1)]
    await run(camera, media, realtime=False)
    assert [e for e in camera.wire.events if e.get("user_id") == member]
    assert [e for e in camera.wire.events if "visitor_id" in e]

    photo = cv2.imencode(".jpg", person.image)[1].tobytes()
    frame = media[len(media) // 4][1]
    vector = model.detect(person.image)[0].embedding
    needles = _needles(vector, photo, frame)
    assert _found(photo + vector.astype(np.float32).tobytes() + frame.tobytes(), needles) == [
        "embedding as float32", "photo bytes", "frame pixels",
    ]  # the scan would see them  # fmt: skip

    # what left the agent: every request body, and the outbox it keeps
    assert _found(b"\n".join(camera.wire.sent), needles) == []
    outbox = camera.box.outbox.path
    for file in (outbox, outbox.with_name(outbox.name + "-wal")):
        assert _found(file.read_bytes() if file.exists() else b"", needles) == []
    # what the server keeps: every Redis key and value, every document, every file in its data dir
    assert _found(b"\n".join(redis_contents(stack.run_info["kv_url"])), needles) == []
    mongo: MongoClient[dict[str, Any]] = MongoClient(stack.run_info["documents_uri"])
    db = mongo["guang"]
    documents = [
        json.dumps(doc, default=str).encode()
        for name in db.list_collection_names()
        for doc in db[name].find()
    ]
    mongo.close()
    assert _found(b"\n".join(documents), needles) == []
    for file in stack.data_dir.rglob("*"):
        if file.is_file() and file.stat().st_size < 512 * 1024 * 1024:
            assert _found(file.read_bytes(), needles) == [], file
    assert _found(stack.log.read_bytes(), needles) == []
    assert caplog.records and _found(caplog.text.encode(), needles) == []  # the agent's own log
