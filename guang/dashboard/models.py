"""What a store's live dashboard shows: the dataflow's windowed figures, named for people."""

from __future__ import annotations

from dataclasses import dataclass, field


def conversion(payers: int, visitors: int) -> float:
    """Visitors who paid, 0–1 (4 decimals); 0 without visitors."""
    return round(payers / visitors, 4) if visitors else 0.0


@dataclass(frozen=True)
class StoreWindowStats:
    """Raw figures for some 5-minute buckets of one store, as the dataflow wrote them."""

    footfall: dict[int, int] = field(default_factory=dict)
    """Bucket start (epoch ms) → unique visitors."""
    payers: dict[int, int] = field(default_factory=dict)
    redemptions: dict[int, int] = field(default_factory=dict)
    dwell_ms: dict[str, int] = field(default_factory=dict)
    """Zone id → dwell summed over the buckets."""
    dwell_events: dict[str, int] = field(default_factory=dict)
    trending: dict[str, float] = field(default_factory=dict)
    """The mall's trending SKUs → score (sliding hour)."""
    guides: dict[str, dict[str, int]] = field(default_factory=dict)
    """Staff id → `orders`, `sales_fen`, `commission_fen` (all time)."""


@dataclass(frozen=True)
class Bucket:
    start_ms: int
    visitors: int
    payers: int
    redemptions: int

    @property
    def conversion(self) -> float:
        return conversion(self.payers, self.visitors)


@dataclass(frozen=True)
class ZoneHeat:
    zone_id: str
    name: str
    category: str
    dwell_s: float
    visits: int
    share: float
    """Of the store's dwell in the window, 0–1: the heat of the zone on the floor plan."""


@dataclass(frozen=True)
class TrendingItem:
    sku_id: str
    name: str
    score: float


@dataclass(frozen=True)
class GuideFigures:
    """One staff member's performance; see guang/dashboard/staff_kpis.py for what each figure measures."""

    staff_id: str
    name: str
    orders: int
    sales_fen: int
    commission_fen: int
    share_links: int = 0
    posts: int = 0
    clients: int = 0
    share_rate: float = 0.0
    conversion: float = 0.0


@dataclass(frozen=True)
class Rect:
    """In plan units, origin at the back-left corner, y growing towards the entrance."""

    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Rect) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


@dataclass(frozen=True)
class PlanArea:
    zone_id: str
    name: str
    kind: str
    rect: Rect


@dataclass(frozen=True)
class FloorPlan:
    width: float
    depth: float
    door: Rect
    areas: list[PlanArea]


@dataclass(frozen=True)
class StoreDashboard:
    store_id: str
    store_name: str
    mall_id: str
    bucket_ms: int
    buckets: list[Bucket]
    zones: list[ZoneHeat]
    trending: list[TrendingItem]
    guides: list[GuideFigures]
    generated_ms: int
    floor_plan: FloorPlan | None = None

    @property
    def visitors(self) -> int:
        """Sum of per-bucket unique visitors (someone staying across buckets counts in each)."""
        return sum(b.visitors for b in self.buckets)

    @property
    def payers(self) -> int:
        return sum(b.payers for b in self.buckets)

    @property
    def redemptions(self) -> int:
        return sum(b.redemptions for b in self.buckets)


@dataclass(frozen=True)
class StoreTotals:
    """Raw per-bucket figures of one store of a mall (bucket start → count)."""

    footfall: dict[int, int] = field(default_factory=dict)
    payers: dict[int, int] = field(default_factory=dict)
    redemptions: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MallStoreRow:
    store_id: str
    name: str
    brand_id: str
    brand_name: str
    visitors: int
    payers: int
    redemptions: int

    @property
    def conversion(self) -> float:
        return conversion(self.payers, self.visitors)


@dataclass(frozen=True)
class MallDashboard:
    mall_id: str
    mall_name: str
    bucket_ms: int
    buckets: list[Bucket]
    """The shown stores' figures summed per bucket."""
    stores: list[MallStoreRow]
    trending: list[TrendingItem]
    generated_ms: int

    @property
    def visitors(self) -> int:
        """Store visits: someone walking through two stores counts in both."""
        return sum(s.visitors for s in self.stores)

    @property
    def payers(self) -> int:
        return sum(s.payers for s in self.stores)

    @property
    def redemptions(self) -> int:
        return sum(s.redemptions for s in self.stores)

    @property
    def conversion(self) -> float:
        return conversion(self.payers, self.visitors)
