"""The GraphQL schema, assembled from one module per domain (api/graphql/)."""

from __future__ import annotations

from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.tools import merge_types

from api.graphql import (
    accounts,
    clienteling,
    content,
    coupons,
    dashboard,
    experiments,
    guide,
    payments,
    places,
    recommendations,
    signals,
    staff,
)
from api.graphql.errors import ErrorCodes, Schema
from api.graphql.limits import MAX_TOKENS, DepthAndAliasLimits

QUERIES: tuple[type, ...] = (
    recommendations.Query,
    accounts.Query,
    staff.Query,
    clienteling.Query,
    coupons.Query,
    places.Query,
    payments.Query,
    content.Query,
    experiments.Query,
    dashboard.Query,
    guide.Query,
)
MUTATIONS: tuple[type, ...] = (
    accounts.Mutation,
    staff.Mutation,
    clienteling.Mutation,
    coupons.Mutation,
    places.Mutation,
    payments.Mutation,
    content.Mutation,
    signals.Mutation,
)

SUBSCRIPTIONS: tuple[type, ...] = (recommendations.Subscription, dashboard.Subscription, guide.Subscription)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)
Subscription = merge_types("Subscription", SUBSCRIPTIONS)

schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        ErrorCodes,
        lambda: ParserCache(maxsize=256),
        DepthAndAliasLimits,
        lambda: ValidationCache(maxsize=256),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ],
)
