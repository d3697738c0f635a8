"""What the recommender returns (DESIGN §5): a list with a recId, items with a score and a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from guang.services.catalog import CatalogProduct


class Surface(StrEnum):
    FEED = "FEED"
    SCREEN = "SCREEN"
    ARRIVAL = "ARRIVAL"
    PARKING = "PARKING"
    PAY_SUCCESS = "PAY_SUCCESS"
    EXIT = "EXIT"
    GUIDE = "GUIDE"


class Audience(StrEnum):
    PERSONAL = "PERSONAL"
    GROUP = "GROUP"
    STORE_BEST = "STORE_BEST"


@dataclass(frozen=True)
class RecItem:
    product: CatalogProduct
    score: float
    reason: str


@dataclass(frozen=True)
class RecList:
    rec_id: str
    surface: Surface
    audience: Audience
    items: list[RecItem] = field(default_factory=list)
    store_id: str | None = None
    cause_event_id: str | None = None
    generated_ms: int = 0
    experiment: str | None = None
    arm: str | None = None
    """The ranking experiment and arm of a personal list (store-wide lists are shared: no arm)."""
    degraded: bool = False
    """Served from memory because live features or vectors did not answer (DESIGN §5)."""
