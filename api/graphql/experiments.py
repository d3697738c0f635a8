"""Ranking experiments: how each arm does, per surface, from the dataflow's counts."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import require, services
from api.graphql.recommendations import Surface
from guang.accounts.models import Role
from guang.domain import keys
from guang.domain.errors import NotFound
from guang.domain.experiments import DEFAULT_EXPERIMENTS
from recsys.models import Surface as SurfaceEnum


@strawberry.type(description="One arm on one surface: what was shown, tapped and converted (claim, consult)")
class ArmResult:
    arm: str
    surface: Surface  # type: ignore[valid-type]
    impressions: int
    clicks: int
    conversions: int
    ctr: float
    conversion_rate: float = strawberry.field(description="Conversions per impression")


@strawberry.type
class ExperimentResults:
    name: str
    arms: list[str]
    results: list[ArmResult] = strawberry.field(description="Every arm × surface that has impressions")


@strawberry.type
class Query:
    @strawberry.field(
        description="Brand admins and mall operators: per-arm CTR and conversion of an experiment"
    )
    async def experiment_results(self, info: Info[Any, Any], name: str = "ranker-v1") -> ExperimentResults:
        require(info, Role.BRAND_ADMIN, Role.MALL_OPERATOR)
        experiment = next((e for e in DEFAULT_EXPERIMENTS if e.name == name), None)
        if experiment is None:
            known = ", ".join(e.name for e in DEFAULT_EXPERIMENTS)
            raise NotFound(f"no experiment {name!r} (running: {known})")
        cells = [(arm, surface) for arm in experiment.arms for surface in SurfaceEnum]
        groups = [keys.ctr_arm_group(experiment.name, arm, surface.value) for arm, surface in cells]
        counts = await services(info).container.features.ctr_counts(groups)
        results = []
        for (arm, surface), group in zip(cells, groups, strict=True):
            found = counts.get(group, {})
            impressions = int(found.get("impressions", 0))
            if not impressions:
                continue
            conversions = int(found.get("conversions", 0))
            results.append(
                ArmResult(
                    arm=arm, surface=surface, impressions=impressions, clicks=int(found.get("clicks", 0)),
                    conversions=conversions, ctr=found.get("ctr", 0.0),
                    conversion_rate=round(conversions / impressions, 6),
                )
            )  # fmt: skip
        return ExperimentResults(name=experiment.name, arms=list(experiment.arms), results=results)
