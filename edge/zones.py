"""Shelf zones of one camera's view: polygons in frame pixels, each a zone of the store (DESIGN §4 dwell)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class ZoneArea:
    """A store zone as this camera sees it; `sku_ids` is what is on that shelf."""

    zone_id: str
    polygon: tuple[Point, ...]
    sku_ids: tuple[str, ...] = ()
    name: str = ""

    def contains(self, point: Point) -> bool:
        """Even-odd ray casting; a point on an edge may fall either side."""
        x, y = point
        inside = False
        corners = self.polygon
        for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1], strict=True):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside


class ZoneMap:
    """Which zone a point of the frame is in; the first listed wins where polygons overlap."""

    def __init__(self, areas: Sequence[ZoneArea]) -> None:
        for area in areas:
            if len(area.polygon) < 3:
                raise ValueError(f"zone {area.zone_id}: a polygon needs at least 3 corners")
        self.areas = tuple(areas)
        self._by_id = {area.zone_id: area for area in areas}

    def zone_at(self, point: Point) -> ZoneArea | None:
        return next((area for area in self.areas if area.contains(point)), None)

    def get(self, zone_id: str) -> ZoneArea | None:
        return self._by_id.get(zone_id)


def strips(zones: Sequence[tuple[str, Sequence[str], str]], *, width: int, height: int) -> list[ZoneArea]:
    """A default layout when a camera has no polygons configured: the frame cut into equal vertical
    strips, one per `(zone_id, sku_ids, name)` in order, left to right."""
    if not zones:
        return []
    step = width / len(zones)
    bottom = float(height)
    return [
        ZoneArea(
            zone_id=zone_id,
            polygon=((i * step, 0.0), ((i + 1) * step, 0.0), ((i + 1) * step, bottom), (i * step, bottom)),
            sku_ids=tuple(sku_ids),
            name=name,
        )
        for i, (zone_id, sku_ids, name) in enumerate(zones)
    ]
