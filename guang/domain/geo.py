"""Distances on the Earth's surface, for nearby lists and geo-targeted coupons."""

from __future__ import annotations

import math

from guang.domain.errors import Invalid
from guang.domain.models import GeoPoint

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_to(point: GeoPoint, *, lat: float, lng: float) -> float:
    lng2, lat2 = point.coordinates
    return distance_m(lat, lng, lat2, lng2)


def check_position(lat: float, lng: float) -> None:
    """Refuse coordinates that cannot be on Earth (NaN, out of range)."""
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise Invalid(f"not a position on Earth: lat={lat}, lng={lng}")


def position(lat: float | None, lng: float | None) -> tuple[float, float] | None:
    """An optional position: both coordinates (checked) or neither (None); half a position is refused."""
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise Invalid("give both lat and lng, or neither")
    check_position(lat, lng)
    return lat, lng
