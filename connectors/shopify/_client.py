"""The Shopify connector's GraphQL client: ``graphql`` sends one document and returns its ``data``;
GraphQL errors raise (ACCESS_DENIED as an auth error), as do failed bulk operations.

``ShopifyClient`` is the base of the pull (``_pull``), push (``_push``) and erase (``_erase``) halves
mixed into ``ShopifyConnector`` (``_connector``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from connectors._http import ConnectorAuthError, ConnectorHttpClient, describe_vendor_error, secret_env_var
from core.connector import ConnectorSpec
from core.errors import ProfileSyncError

from . import _documents as docs
from ._mapping import SOURCE

CREDENTIAL: Final = "shopify_access_token"


class ShopifyGraphQLError(ProfileSyncError):
    """Shopify answered with GraphQL errors (HTTP 200 and ``errors[]``): the request is wrong or not
    allowed, and sending it again will not help. ``codes`` holds the ``extensions.code`` values."""

    def __init__(self, operation: str, message: str, codes: frozenset[str] = frozenset()) -> None:
        shown = f" [{', '.join(sorted(codes))}]" if codes else ""
        super().__init__(f"shopify: {operation} was refused: {message}{shown}")
        self.operation = operation
        self.codes = codes


class ShopifyBulkOperationError(ProfileSyncError):
    """A bulk operation could not be started or did not complete."""


class ShopifyClient:
    """The shop's GraphQL client: the base of the pull, push and erase halves mixed into
    ``ShopifyConnector`` (connectors.shopify._connector), which sets these attributes."""

    spec: ConnectorSpec
    calls: Counter[str]
    _client: ConnectorHttpClient

    # --- GraphQL ------------------------------------------------------------------------------------
    def graphql(
        self,
        operation: str,
        document: str,
        variables: Mapping[str, Any],
        *,
        cost: float,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Send one document and return its ``data``; GraphQL errors raise (ACCESS_DENIED: an auth error)."""
        self.calls[operation] += 1
        response, body = self._client.exchange_json(
            "POST",
            docs.GRAPHQL_PATH,
            json={"query": document, "variables": dict(variables)},
            cost=cost,
            idempotent=idempotent,
        )
        self._answered(response.headers)
        if not isinstance(body, dict):
            raise ShopifyGraphQLError(operation, "the response is not a JSON object")
        errors = body.get("errors")
        if errors:
            raise self._error(operation, errors)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ShopifyGraphQLError(operation, "the response has no data")
        return data

    def _answered(self, headers: Mapping[str, str]) -> None:
        """Called with the headers of every answer (the pull reads the shop's clock from its
        ``Date``: connectors.tool_clock)."""

    @staticmethod
    def _error(operation: str, errors: Any) -> Exception:
        message = describe_vendor_error({"errors": errors})
        codes = frozenset(
            str(e["extensions"]["code"])
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code")
        )
        if "ACCESS_DENIED" in codes:
            # Shopify answers a missing scope with HTTP 200 and ACCESS_DENIED, not a 403.
            return ConnectorAuthError(
                SOURCE, 403, credential_hint=secret_env_var(CREDENTIAL), vendor_message=message
            )
        return ShopifyGraphQLError(operation, message, codes)
