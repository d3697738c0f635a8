"""Face enrolment codes, edge gallery sync and the face-match audit log, over the real API and stores."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from guang.services.devices import issue_token
from tests.integration.api.conftest import ApiStack, GraphQLFailed

CODE = "mutation { faceEnrolmentCode { code expiresAtMs } }"
CONSENT = "mutation($g: Boolean!) { setConsent(kind: FACE, granted: $g) { id } }"
STORE = "store-002"


def _camera(api: ApiStack, store: str = STORE) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(api.services.container.secret_key, f'dev-cam-{store}')}"}


async def _consenting(api: ApiStack) -> tuple[str, str]:
    token = await api.new_shopper()
    await api.gql(CONSENT, {"g": True}, token=token)
    return token, await api.subject_of(token)


async def _redeem(api: ApiStack, code: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = await api.client.post("/edge/enrolments", json={"code": code}, headers=headers)
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def test_a_code_needs_face_consent_and_enrols_once_on_a_camera_only(api: ApiStack) -> None:
    without = await api.new_shopper()
    with pytest.raises(GraphQLFailed) as refused:
        await api.gql(CODE, token=without)
    assert refused.value.codes == ["FORBIDDEN"]

    token, member = await _consenting(api)
    issued = (await api.gql(CODE, token=token))["faceEnrolmentCode"]
    assert len(issued["code"]) == 8 and issued["expiresAtMs"] > time.time() * 1000

    screen = {"Authorization": f"Bearer {issue_token(api.services.container.secret_key, f'dev-scr-{STORE}')}"}
    assert (await _redeem(api, issued["code"], {"Authorization": "Bearer dev_forged"}))[0] == 401
    assert (await _redeem(api, issued["code"], screen))[0] == 403
    assert (await _redeem(api, "code-with-too-many-characters", _camera(api)))[0] == 400
    status, body = await _redeem(api, issued["code"].lower(), _camera(api))
    assert (status, body["member_id"]) == (200, member)
    status, body = await _redeem(api, issued["code"], _camera(api))
    assert status == 404 and "already used" in body["error"]


async def test_a_withdrawn_member_is_named_in_the_next_gallery_sync(api: ApiStack) -> None:
    token, member = await _consenting(api)
    code = (await api.gql(CODE, token=token))["faceEnrolmentCode"]["code"]
    assert (await _redeem(api, code, _camera(api)))[0] == 200
    never = f"m-{uuid.uuid4().hex[:12]}"

    async def sync(members: list[str]) -> list[str]:
        response = await api.client.post(
            "/edge/sync", json={"members": members, "version": 3}, headers=_camera(api)
        )
        assert response.status_code == 200, response.text
        remove: list[str] = response.json()["remove"]
        return remove

    assert await sync([member, never]) == [never]
    await api.gql(CONSENT, {"g": False}, token=token)
    assert await sync([member]) == [member]
    bad = await api.client.post("/edge/sync", json={"members": "all"}, headers=_camera(api))
    assert bad.status_code == 422


async def test_every_reported_match_is_audit_logged_and_goes_with_the_member(api: ApiStack) -> None:
    token, member = await _consenting(api)
    now = int(time.time() * 1000)
    seen = {"event_id": f"t-{uuid.uuid4().hex}", "type": "face", "ts_ms": now, "store_id": STORE,
            "user_id": member, "action": "enter", "match_score": 0.71}  # fmt: skip
    anonymous = {**seen, "event_id": f"t-{uuid.uuid4().hex}", "user_id": None, "visitor_id": "v-1",
                 "match_score": None}  # fmt: skip
    posted = await api.client.post("/events", json=[seen, anonymous], headers=_camera(api))
    assert posted.json()["accepted"] == 2
    again = await api.client.post("/events", json=[seen], headers=_camera(api))
    assert again.json()["duplicate"] == 1

    exported = json.loads((await api.gql("{ exportMyData { json } }", token=token))["exportMyData"]["json"])
    (logged,) = exported["face_matches"]
    assert (logged["event_id"], logged["score"], logged["device_id"]) == (
        seen["event_id"],
        0.71,
        f"dev-cam-{STORE}",
    )
    deleted = await api.gql(
        'mutation { deleteMyData(confirm: "DELETE") { counts { name count } } }', token=token
    )
    counts = {c["name"]: c["count"] for c in deleted["deleteMyData"]["counts"]}
    assert counts["face_matches"] == 1
