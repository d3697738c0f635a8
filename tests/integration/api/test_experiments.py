"""The live ranking experiment: each shopper's lists carry their stable arm, and per-arm results are
readable by brand admins and mall operators."""

from __future__ import annotations

import uuid

import pytest

from guang.domain import keys
from guang.domain.events import member_subject
from guang.domain.experiments import DEFAULT_EXPERIMENTS, assign_arm
from guang.domain.writes import Put
from tests.integration.api.conftest import ApiStack, GraphQLFailed

FEED = "{ recommendations(surface: FEED, limit: 4) { experiment arm items { product { id } } } }"
RESULTS = """query($n: String!) { experimentResults(name: $n) {
  name arms results { arm surface impressions clicks conversions ctr conversionRate } } }"""


async def test_a_shoppers_lists_carry_the_same_arm_the_dataflow_counts_them_under(api: ApiStack) -> None:
    experiment = DEFAULT_EXPERIMENTS[0]
    seen_arms = set()
    for _ in range(8):
        token = await api.new_shopper()
        member = await api.subject_of(token)
        first, again = [(await api.gql(FEED, token=token))["recommendations"] for _ in range(2)]
        assert first["experiment"] == experiment.name
        assert first["arm"] == again["arm"] == assign_arm(experiment, member_subject(member))
        seen_arms.add(first["arm"])
    assert seen_arms == set(experiment.arms), "eight shoppers land in both arms (p of one arm = 1/128)"


async def test_per_arm_results_for_brand_admins_and_mall_operators_only(api: ApiStack) -> None:
    name = f"t{uuid.uuid4().hex[:6]}"
    experiment = DEFAULT_EXPERIMENTS[0]
    control = keys.ctr_key(keys.ctr_arm_group(experiment.name, "control", "FEED"))
    counts = {"impressions": 400, "clicks": 30, "conversions": 8, "ctr": 0.075}
    writer = api.services.container.feature_writer()
    try:
        writer.apply([Put(control, value, field=field) for field, value in counts.items()])
    finally:
        writer.close()
    admin = await api.login(f"brand-openid-{api.data.brands[0].id}")
    results = (await api.gql(RESULTS, {"n": experiment.name}, token=admin))["experimentResults"]
    assert results["arms"] == list(experiment.arms)
    [feed_control] = [r for r in results["results"] if (r["arm"], r["surface"]) == ("control", "FEED")]
    assert feed_control == {
        "arm": "control", "surface": "FEED", "impressions": 400, "clicks": 30, "conversions": 8,
        "ctr": 0.075, "conversionRate": 0.02,
    }  # fmt: skip

    operator = await api.login(f"mall-openid-{api.data.malls[0].id}")
    assert (await api.gql(RESULTS, {"n": experiment.name}, token=operator))["experimentResults"]["results"]
    for token, code in ((await api.new_shopper(), "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        with pytest.raises(GraphQLFailed) as refused:
            await api.gql(RESULTS, {"n": experiment.name}, token=token)
        assert refused.value.codes == [code]
    with pytest.raises(GraphQLFailed) as unknown:
        await api.gql(RESULTS, {"n": name}, token=admin)
    assert unknown.value.codes == ["NOT_FOUND"]
