"""Device tokens: derived from the secret key, stored only as hashes, checked in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac

from guang.adapters.ports import DocumentStore
from guang.domain.models import Device


def issue_token(secret: str, device_id: str) -> str:
    digest = hmac.new(secret.encode(), f"device:{device_id}".encode(), hashlib.sha256).digest()
    return "dev_" + base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DeviceRegistry:
    """Devices by id and by token hash, loaded once from the document store."""

    def __init__(self, devices: list[Device]) -> None:
        self._by_id = {d.id: d for d in devices}
        self._by_hash = {d.token_hash: d for d in devices if d.token_hash}

    @classmethod
    async def load(cls, documents: DocumentStore) -> DeviceRegistry:
        return cls([Device.model_validate(doc) for doc in await documents.find("devices")])

    def get(self, device_id: str) -> Device | None:
        return self._by_id.get(device_id)

    def authenticate(self, authorization: str | None) -> Device | None:
        """The device behind an `Authorization: Bearer <token>` header, or None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        digest = token_hash(authorization.removeprefix("Bearer ").strip())
        device = self._by_hash.get(digest)
        if device is None or not hmac.compare_digest(device.token_hash, digest):
            return None
        return device

    def __len__(self) -> int:
        return len(self._by_id)
