"""Scaffolding: being filled in (issue #4)."""

from __future__ import annotations

from guang.adapters.ports import DocumentStore
from guang.services.app_events import AppEvents
from guang.services.catalog import Catalog
from guang.settings import Settings


class Places:
    def __init__(
        self, *, documents: DocumentStore, events: AppEvents, catalog: Catalog, settings: Settings
    ) -> None:
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
