"""A child process (the dataflow, the demo camera) must see exactly the parent's settings."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from guang.bootstrap import child_environment
from guang.settings import Settings


def test_every_kind_of_setting_survives_the_trip_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent = Settings(
        kv_mode="server", bus_mode="server", documents_mode="server", port=8123, demo=True,
        secret_key="s3cret", previous_secret_keys=[SecretStr("old-1"), SecretStr("old-2")],
        cors_origins=["https://shop.example.com"], retention_days={"face_matches": 30},
        ranking_weights={"SCREEN": {"popularity": 0.2}}, brand_boosts={"b1": 0.5}, interest_half_life_s=900.5,
    )  # fmt: skip
    for name, value in child_environment(parent).items():
        monkeypatch.setenv(name, value)

    child = Settings()

    assert child.model_dump(exclude={"previous_secret_keys"}) == parent.model_dump(
        exclude={"previous_secret_keys"}
    )
    assert [k.get_secret_value() for k in child.previous_secret_keys] == ["old-1", "old-2"]
