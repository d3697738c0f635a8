"""What a shopper's phone reports: impressions and clicks on lists, and (demo) a simulated shelf visit."""

from __future__ import annotations

from dataclasses import asdict
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import limit, require_member, services
from guang.services.signals import Interaction
from recsys.models import Surface


@strawberry.enum(description="What the shopper did with an item of a list")
class InteractionAction(Enum):
    IMPRESSION = "impression"
    CLICK = "click"
    LIKE = "like"
    SHARE = "share"
    FOLLOW = "follow"
    CLAIM = "claim"
    CONSULT = "consult"


@strawberry.enum(description="What kind of item it was")
class InteractionTarget(Enum):
    PRODUCT = "product"
    ARTICLE = "article"
    COUPON = "coupon"
    STORE = "store"
    STAFF = "staff"
    POST = "post"


@strawberry.input(description="One impression, click … on an item; recId names the list it came from")
class InteractionInput:
    action: InteractionAction
    target_type: InteractionTarget
    target_id: str
    surface: Surface
    rec_id: str | None = None
    event_id: str | None = strawberry.field(
        default=None, description="The phone's own id (8–64 of A-Z a-z 0-9 - _): a resent one counts once"
    )


@strawberry.type
class RefusedInteraction:
    index: int
    reason: str


@strawberry.type
class InteractionLog:
    accepted: int
    refused: list[RefusedInteraction]


@strawberry.type(description="The dwell event a store camera would have sent")
class SimulatedDwell:
    event_id: str
    store_id: str
    zone_id: str
    zone_name: str
    category: str
    dwell_ms: int


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Log what the shopper saw and tapped (at most 50 at a time); every valid one is kept, each "
            "invalid one is refused with its index and reason"
        )
    )
    async def log_interactions(self, info: Info[Any, Any], events: list[InteractionInput]) -> InteractionLog:
        member_id = require_member(info)
        await limit(info, "interactions", per_min=services(info).container.settings.events_rate_per_min)
        accepted, refused = await services(info).signals.log_interactions(
            member_id=member_id,
            interactions=[
                Interaction(
                    action=e.action.value,
                    target_type=e.target_type.value,
                    target_id=e.target_id,
                    surface=e.surface.value,
                    rec_id=e.rec_id,
                    client_event_id=e.event_id,
                )
                for e in events
            ],
        )
        return InteractionLog(
            accepted=accepted, refused=[RefusedInteraction(index=r.index, reason=r.reason) for r in refused]
        )

    @strawberry.mutation(
        description=(
            "Demo mode only: the store's camera reports that you stood `seconds` at one of its shelves "
            "(zoneId, or a random one); needs your face-recognition consent, as a real camera would"
        )
    )
    async def simulate_dwell(
        self, info: Info[Any, Any], store_id: str, seconds: int = 40, zone_id: str | None = None
    ) -> SimulatedDwell:
        member_id = require_member(info)
        dwell = await services(info).signals.simulate_dwell(
            member_id=member_id, store_id=store_id, seconds=seconds, zone_id=zone_id
        )
        return SimulatedDwell(**asdict(dwell))
