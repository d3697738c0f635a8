"""The composition root: the one place that turns settings into adapters.

API, dataflow, CLI, benchmarks and tests all start here. Embedded engines are started by
`start_engines`; everything downstream only ever sees URLs, so server mode is a settings change.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import SecretStr

from guang.adapters.engines import start_secantus, start_valkey
from guang.adapters.mongo_documents import MongoDocumentStore
from guang.adapters.ports import (
    DocumentStore,
    EventBus,
    FeatureStore,
    FeatureWriter,
    RateLimiter,
    TextEncoder,
    VectorIndex,
)
from guang.adapters.processes import ChildProcess
from guang.adapters.redis_bus import RedisDeadLetters, RedisSignals, RedisStreamBus, RedisStreamReader
from guang.adapters.redis_features import RedisConsentView, RedisFeatureStore, RedisFeatureWriter
from guang.adapters.redis_guide_inbox import RedisAlertLog, RedisSignalFeed
from guang.adapters.redis_limits import RedisRateLimiter
from guang.adapters.redis_store_stats import RedisStoreStats
from guang.settings import Settings


@dataclass
class Engines:
    """Embedded engine processes this process started; `settings` points at them as servers."""

    settings: Settings
    processes: list[ChildProcess] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()

    def pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.processes if p.pid is not None}


def start_engines(settings: Settings) -> Engines:
    """Start Valkey and SecantusDB where the settings say `embedded`; return server-mode settings for them."""
    engines = Engines(settings=settings)
    updates: dict[str, str] = {}
    try:
        if "embedded" in (settings.kv_mode, settings.bus_mode):
            valkey, url = start_valkey(settings.data_dir / "valkey")
            engines.processes.append(valkey)
            if settings.kv_mode == "embedded":
                updates |= {"kv_mode": "server", "kv_url": url}
            if settings.bus_mode == "embedded":
                updates |= {"bus_mode": "server", "bus_url": url}
        if settings.documents_mode == "embedded":
            secantus, uri = start_secantus(
                settings.data_dir / "secantus", oplog_retention_s=settings.documents_oplog_retention_s
            )
            engines.processes.append(secantus)
            updates |= {"documents_mode": "server", "documents_uri": uri}
    except BaseException:
        engines.stop()
        raise
    engines.settings = settings.model_copy(update=updates)
    return engines


def secret_key(settings: Settings) -> str:
    """The signing secret: from settings, else generated once and kept in the data dir."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.path("secret.key")
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def child_environment(settings: Settings) -> dict[str, str]:
    """GUANG_* variables that make a child process see exactly these settings (lists and mappings as
    JSON, which is how pydantic-settings reads them back)."""
    env = {}
    for name, value in settings.model_dump().items():
        plain = _plain(value)
        env[f"GUANG_{name.upper()}"] = json.dumps(plain) if isinstance(plain, dict | list) else str(plain)
    return env


class Container:
    """Adapters built from (server-mode) settings. Creating it opens no connection yet."""

    def __init__(self, settings: Settings) -> None:
        if "embedded" in (settings.kv_mode, settings.bus_mode, settings.documents_mode):
            raise ValueError("start_engines() first: a Container needs reachable servers")
        self.settings = settings

    @cached_property
    def limiter(self) -> RateLimiter:
        return RedisRateLimiter(self.settings.kv_url)

    @cached_property
    def store_stats(self) -> RedisStoreStats:
        """The dataflow's windowed store figures, for dashboards."""
        return RedisStoreStats(self.settings.kv_url)

    @cached_property
    def features(self) -> FeatureStore:
        return RedisFeatureStore(self.settings.kv_url)

    @cached_property
    def bus(self) -> EventBus:
        s = self.settings
        return RedisStreamBus(
            s.bus_url,
            stream=s.events_stream,
            maxlen=s.events_stream_maxlen,
            dedupe_ttl_s=s.event_dedupe_ttl_s,
        )

    @cached_property
    def documents(self) -> DocumentStore:
        return MongoDocumentStore(self.settings.documents_uri, self.settings.documents_db)

    @cached_property
    def vectors(self) -> VectorIndex:
        if self.settings.vectors_mode == "embedded":
            from guang.adapters.qdrant_edge_vectors import EdgeVectorIndex

            return EdgeVectorIndex(self.settings.data_dir.resolve() / "vectors" / "items")
        from guang.adapters.qdrant_server_vectors import ServerVectorIndex

        return ServerVectorIndex.from_url(self.settings.vectors_url)

    @cached_property
    def encoder(self) -> TextEncoder:
        """Loading the model takes seconds; only seeding and new items need it."""
        from guang.adapters.text_encoder import CachedEncoder, SentenceTransformerEncoder

        model = SentenceTransformerEncoder(
            self.settings.resolved_text_model_path, self.settings.text_model_name
        )
        return CachedEncoder(model, self.settings.data_dir / "cache")

    def release_encoder(self) -> None:
        """Free the model's memory once the bulk embedding is done."""
        self.__dict__.pop("encoder", None)

    def feature_writer(self) -> FeatureWriter:
        return RedisFeatureWriter(self.settings.kv_url)

    def dead_letters(self) -> RedisDeadLetters:
        s = self.settings
        return RedisDeadLetters(
            s.bus_url,
            stream=s.dead_letter_stream,
            maxlen=s.derived_stream_maxlen,
            once_ttl_s=s.derived_once_ttl_s,
        )

    def consent_view(self) -> RedisConsentView:
        return RedisConsentView(self.settings.kv_url)

    def signals(self) -> RedisSignals:
        s = self.settings
        return RedisSignals(
            s.bus_url,
            stream=s.signals_stream,
            maxlen=s.derived_stream_maxlen,
            once_ttl_s=s.derived_once_ttl_s,
        )

    def guide_signal_feed(self) -> RedisSignalFeed:
        """A reader of the dataflow's signals for the guide inbox (one per API process)."""
        return RedisSignalFeed(self.settings.bus_url, stream=self.settings.signals_stream)

    def guide_alert_log(self, *, keep: int, ttl_s: int) -> RedisAlertLog:
        """Each staff member's recent guide-inbox alerts."""
        s = self.settings
        return RedisAlertLog(s.kv_url, prefix=s.signals_stream, keep=keep, ttl_s=ttl_s)

    def event_reader(self) -> RedisStreamReader:
        s = self.settings
        return RedisStreamReader(s.bus_url, stream=s.events_stream, retention_s=s.events_stream_retention_s)

    @property
    def secret_key(self) -> str:
        return secret_key(self.settings)

    async def aclose(self) -> None:
        for name in ("features", "bus", "documents", "limiter", "store_stats"):
            if name in self.__dict__:
                await getattr(self, name).close()
        if "vectors" in self.__dict__:
            await asyncio.to_thread(self.vectors.close)
