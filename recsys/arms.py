"""What each arm of the live ranking experiment changes. The arm of a shopper comes from
`guang.domain.experiments.assign_arm`, so the dataflow that counts CTR per arm agrees with the ranker.

`ranker-v1` tests more variety: after a single shelf visit the control list is often one category of one
brand (interest outweighs the diversity penalties); the treatment penalises repeats twice as hard."""

from __future__ import annotations

from dataclasses import dataclass

from guang.domain.events import member_subject
from guang.domain.experiments import DEFAULT_EXPERIMENTS, Experiment, assign_arm
from recsys.rules import RuleConfig

LIVE = DEFAULT_EXPERIMENTS[0]
ARM_RULES: dict[str, RuleConfig] = {
    "control": RuleConfig(),
    "treatment": RuleConfig(category_penalty=0.24, brand_penalty=0.16),
}


@dataclass(frozen=True)
class Assignment:
    experiment: str
    arm: str
    rules: RuleConfig


def assignment(member_id: str, experiment: Experiment = LIVE) -> Assignment:
    arm = assign_arm(experiment, member_subject(member_id))
    return Assignment(experiment.name, arm, ARM_RULES.get(arm, ARM_RULES["control"]))
