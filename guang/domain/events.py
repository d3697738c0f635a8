"""Event schemas of DESIGN §4, defined once for producers (edge, API) and consumers (dataflow).

Parsing happens at the edge of the system: `parse_event` turns untrusted JSON into a typed event
or raises `EventRejected` with a reason precise enough for a device developer to fix the producer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

SCHEMA_VERSION = 1
MAX_ID_LEN = 128

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LEN, pattern=r"^[A-Za-z0-9_.:\-]+$")]
EpochMs = Annotated[int, Field(ge=1_000_000_000_000, le=99_999_999_999_999)]


class EventRejected(ValueError):
    """A single event that cannot be accepted, with the reason."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


def member_subject(member_id: str) -> str:
    """The feature subject of a member: `u:<member>` (visitors are `v:<visitor>`); the two never collide."""
    return f"u:{member_id}"


class BaseEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    v: Literal[1] = 1
    event_id: Id
    ts_ms: EpochMs
    mall_id: Id | None = None
    store_id: Id | None = None
    device_id: Id | None = None
    user_id: Id | None = None
    visitor_id: Id | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> BaseEvent:
        if (self.user_id is None) == (self.visitor_id is None):
            raise ValueError("exactly one of user_id or visitor_id is required")
        return self

    @property
    def subject_id(self) -> str:
        """`u:<member>` or `v:<visitor>`: members and anonymous visitors never collide."""
        return member_subject(self.user_id) if self.user_id is not None else f"v:{self.visitor_id}"


class LocationEvent(BaseEvent):
    type: Literal["location"]
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(ge=0, le=100_000)
    source: Literal["gps", "wifi", "parking_gate"]


class FaceEvent(BaseEvent):
    type: Literal["face"]
    action: Literal["enter", "seen", "exit"]
    zone_id: Id | None = None
    match_score: float | None = Field(default=None, ge=-1, le=1)

    @model_validator(mode="after")
    def _score_only_for_members(self) -> FaceEvent:
        if self.match_score is not None and self.user_id is None:
            raise ValueError("match_score is only allowed with the user_id of a consented member")
        if self.store_id is None:
            raise ValueError("store_id is required for face events")
        return self


class DwellEvent(BaseEvent):
    type: Literal["dwell"]
    zone_id: Id
    sku_ids: list[Id] = Field(default_factory=list, max_length=500)
    dwell_ms: int = Field(ge=0, le=6 * 3600 * 1000)

    @model_validator(mode="after")
    def _needs_store(self) -> DwellEvent:
        if self.store_id is None:
            raise ValueError("store_id is required for dwell events")
        return self


class PaymentItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sku_id: Id
    qty: int = Field(ge=1, le=10_000)
    price_fen: int = Field(ge=0)


class PaymentEvent(BaseEvent):
    type: Literal["payment"]
    order_id: Id
    amount_fen: int = Field(ge=0)
    items: list[PaymentItem] = Field(min_length=1, max_length=1000)
    channel: Literal["wechatpay", "pos"]
    guide_id: Id | None = None
    coupon_ids: list[Id] = Field(default_factory=list, max_length=50)


class InteractionEvent(BaseEvent):
    type: Literal["interaction"]
    action: Literal["impression", "click", "like", "share", "follow", "claim", "consult"]
    target_type: Literal["product", "article", "coupon", "store", "staff", "post"]
    target_id: Id
    surface: Literal["FEED", "SCREEN", "ARRIVAL", "PARKING", "PAY_SUCCESS", "EXIT", "GUIDE"]
    rec_id: Id | None = None


Event = Annotated[
    LocationEvent | FaceEvent | DwellEvent | PaymentEvent | InteractionEvent,
    Field(discriminator="type"),
]
EVENT_TYPES = ("location", "face", "dwell", "payment", "interaction")
_event_adapter: TypeAdapter[Event] = TypeAdapter(Event)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in item["loc"] if p not in EVENT_TYPES)
        msg = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def parse_event(raw: Any) -> Event:
    """Validate one untrusted JSON object into a typed event."""
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        raise EventRejected(f"an event must be a JSON object, got {type(raw).__name__}")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise EventRejected(
            f"type: must be one of {', '.join(EVENT_TYPES)}, got {kind!r}",
            event_id if isinstance(event_id, str) else None,
        )
    try:
        return _event_adapter.validate_python(raw)
    except ValidationError as error:
        raise EventRejected(_describe(error), event_id if isinstance(event_id, str) else None) from None


def event_from_json(data: str | bytes) -> Event:
    """Decode an event that was already validated once (read back from the bus)."""
    return _event_adapter.validate_json(data)


def event_to_json(event: BaseEvent) -> str:
    return event.model_dump_json(exclude_none=True)
