"""Every GraphQL error carries `extensions.code`; unexpected failures are masked, not leaked."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext

from guang.domain.errors import DomainError

log = logging.getLogger(__name__)
INTERNAL_MESSAGE = "internal error; it has been logged"


def _expected(error: GraphQLError) -> bool:
    """Refusals and malformed requests are answers to the client, not incidents worth a traceback."""
    original = error.original_error
    return original is None or isinstance(original, DomainError | GraphQLError | PermissionError | ValueError)


def _coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        code = "GRAPHQL_VALIDATION_FAILED"
        message = error.message
    elif isinstance(original, DomainError):
        code, message = original.code, original.message
    elif isinstance(original, PermissionError):
        code, message = "FORBIDDEN", error.message
    elif isinstance(original, ValueError):
        code, message = "INVALID_ARGUMENT", error.message
    else:
        code, message = "INTERNAL", INTERNAL_MESSAGE
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions={**(error.extensions or {}), "code": code},
    )


async def _coded_stream(results: StreamResult) -> AsyncGenerator[Any, None]:
    try:
        async for result in results:
            errors = getattr(result, "errors", None)
            if errors:
                result.errors = [_coded(e) for e in errors]  # type: ignore[union-attr]
            yield result
    finally:
        await results.aclose()  # closing the subscription closes its resolver (and what it watches)


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_coded(e) for e in result.errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [_coded(e) for e in pre]


class Schema(strawberry.Schema):
    """Logs only unexpected errors (with their traceback); expected ones are not logged at all. Streamed
    results (subscriptions over graphql-transport-ws) get the same `extensions.code` as queries: the
    ErrorCodes extension only sees an operation's single result."""

    async def stream(self, *args: Any, **kwargs: Any) -> StreamResult:
        return _coded_stream(await super().stream(*args, **kwargs))

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if not _expected(error):
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
