"""The GraphQL schema, assembled from one module per domain (api/graphql/)."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from api.graphql import accounts, recommendations
from api.graphql.errors import ErrorCodes

MAX_DEPTH = 8
MAX_ALIASES = 20
MAX_TOKENS = 2000

QUERIES: tuple[type, ...] = (recommendations.Query, accounts.Query)
MUTATIONS: tuple[type, ...] = (accounts.Mutation,)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=recommendations.Subscription,
    extensions=[
        ErrorCodes,
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ],
)
