"""Domain types. Documents in the store are these models dumped with `model_dump()`; ids are strings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Domain(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GeoPoint(Domain):
    """GeoJSON point; stored as-is so `$geoNear` can use a 2dsphere index."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]  # (lng, lat)

    @classmethod
    def at(cls, *, lat: float, lng: float) -> GeoPoint:
        return cls(coordinates=(lng, lat))


class City(Domain):
    id: str
    name: str


class Mall(Domain):
    id: str
    name: str
    city_id: str
    district: str
    location: GeoPoint
    radius_m: float = 250.0


class Brand(Domain):
    id: str
    name: str
    sector: str
    mini_program_app_id: str
    guide_commission_rate: float = 0.03


class Store(Domain):
    id: str
    name: str
    brand_id: str
    mall_id: str
    floor: str
    location: GeoPoint
    services: list[Literal["pickup", "appointment", "delivery"]] = Field(default_factory=list)
    delivery_radius_m: int = 3000


class Zone(Domain):
    """An area of a store watched by a camera: a shelf (the unit of dwell) or the till."""

    id: str
    store_id: str
    name: str
    category: str
    sku_ids: list[str]
    kind: Literal["shelf", "till"] = "shelf"


class StockLevel(Domain):
    store_id: str
    qty: int


class Product(Domain):
    """One SKU. `stock` lists the stores that carry it."""

    id: str
    name: str
    brand_id: str
    category: str
    season: Literal["spring", "summer", "autumn", "winter", "all"]
    price_fen: int
    description: str
    popularity: int = 0
    stock: list[StockLevel] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """What the text encoder sees."""
        return f"{self.name} {self.category} {self.description}"


class Article(Domain):
    id: str
    title: str
    body: str
    author_staff_id: str | None
    brand_id: str
    product_ids: list[str]
    published_ms: int
    """When it was (last) published; 0 for a draft never published."""
    status: Literal["draft", "published"] = "published"
    hidden: bool = False
    """Hidden by a mall operator (moderation); hidden articles are not shown to shoppers."""
    hidden_reason: str | None = None
    cover_url: str | None = None
    """An uploaded cover; None = the generated one served under /media/covers/."""
    created_ms: int = 0
    updated_ms: int = 0


class Staff(Domain):
    id: str
    name: str
    store_id: str
    title: str
    wecom_user_id: str


class StaffPost(Domain):
    id: str
    staff_id: str
    store_id: str
    mall_id: str
    brand_id: str
    text: str
    product_ids: list[str]
    published_ms: int
    """When it was published (its creation time while still a draft)."""
    status: Literal["draft", "published"] = "published"
    hidden: bool = False
    """Hidden by the mall operator (moderation); hidden posts are not shown to shoppers."""
    hidden_reason: str | None = None
    updated_ms: int | None = None
    moderated_ms: int | None = None


class Coupon(Domain):
    id: str
    title: str
    brand_id: str
    store_id: str | None
    mall_id: str | None
    discount_fen: int
    min_spend_fen: int
    radius_m: int
    starts_ms: int
    ends_ms: int
    per_user_quota: int = 1
    total_stock: int = 1000
    kind: Literal["standard", "exit"] = "standard"
    """`exit`: a 回来再逛 coupon offered as a shopper leaves the mall, not listed as nearby."""
    claimed: int = 0
    """Claims so far: the stock counter, only ever moved by conditional `$inc` updates."""


class Consents(Domain):
    location_ms: int | None = None
    marketing_ms: int | None = None
    face_ms: int | None = None


class MemberCard(Domain):
    brand_id: str
    card_no: str
    bound_ms: int


class Member(Domain):
    id: str
    openid: str
    nickname: str
    city_id: str
    consents: Consents = Field(default_factory=Consents)
    cards: list[MemberCard] = Field(default_factory=list)
    created_ms: int = 0


class OrderItem(Domain):
    sku_id: str
    qty: int
    price_fen: int


class Order(Domain):
    id: str
    member_id: str
    store_id: str
    items: list[OrderItem]
    amount_fen: int
    paid_ms: int
    guide_id: str | None = None


class Device(Domain):
    id: str
    kind: Literal["screen", "camera", "pos"]
    store_id: str
    mall_id: str
    zone_id: str | None = None
    token_hash: str = ""


class Activity(Domain):
    """Something happening in a mall (a pop-up, a show, a workshop), for mall mode's 今日活动."""

    id: str
    mall_id: str
    title: str
    description: str
    starts_ms: int
    ends_ms: int
    location: str
