"""What the parts of the Shopify sandbox share: Shopify's timestamps, GraphQL errors, the parsed request,
numeric ids of GIDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ._graphql import Field, Operation


def stamp(moment: datetime) -> str:
    """A Shopify DateTime: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GraphQLFailureError(Exception):
    """Errors that end a GraphQL request before (or instead of) data: Shopify's ``errors[]``."""

    def __init__(self, errors: list[dict[str, Any]], extensions: dict[str, Any] | None = None) -> None:
        super().__init__(errors[0].get("message", "error") if errors else "error")
        self.errors = errors
        self.extensions = extensions


def _error(message: str, code: str | None = None, node: Field | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if node is not None:
        error["locations"] = [{"line": node.line, "column": node.column}]
    if code is not None:
        error["extensions"] = {"code": code, **extra}
    return error


@dataclass
class _Prepared:
    """A parsed request: its operation, variables and requested cost, or the answer to give instead."""

    operation: Operation | None = None
    fragments: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    requested: int = 0
    answer: httpx.Response | None = None
    reserved: float = 0.0
    settled: bool = False
    bulk: bool = False


def _num(value: Any) -> int:
    """The numeric id of a GID (or -1 when it is not one)."""
    text = str(value or "")
    tail = text.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
