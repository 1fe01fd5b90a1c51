"""The Mailchimp connector's audience: its HTTP client, its path and the GET every part uses.

``MailchimpAudience`` is the base of the pull (connectors.mailchimp._pull) and push
(connectors.mailchimp._push) halves mixed into ``MailchimpConnector``, which sets its attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from connectors._http import ConnectorHttpClient, ConnectorRequestError, PaginationError
from core.errors import ConnectorConfigError

#: ``count`` is at most 1000 on list endpoints (the spec's ``maximum``, and the reference page).
PAGE_SIZE: Final = 1000


class MailchimpAudience:
    """One audience's client and path; mixed into ``MailchimpConnector`` (which sets them)."""

    list_id: str
    max_connections: int
    _client: ConnectorHttpClient
    _list_path: str

    def _list_missing(self, error: ConnectorRequestError) -> ConnectorConfigError:
        return ConnectorConfigError(
            f"mailchimp: audience {self.list_id!r} was not found ({error.vendor_message or 'HTTP 404'}): "
            "set the list_id option to the audience id (Audience > Settings > Audience name and defaults)"
        )

    def _get(self, path: str, params: Mapping[str, Any], *, list_scoped: bool = True) -> dict[str, Any]:
        """GET a JSON object; a 404 on an audience-wide path means the audience does not exist."""
        return self._answer(path, params, list_scoped=list_scoped)[1]

    def _answer(
        self, path: str, params: Mapping[str, Any], *, list_scoped: bool = True
    ) -> tuple[Mapping[str, str], dict[str, Any]]:
        """``_get``, with the headers of the answer (its ``Date``: connectors.tool_clock)."""
        try:
            response, body = self._client.exchange_json("GET", path, params=params)
        except ConnectorRequestError as error:
            if error.status == 404 and list_scoped:
                raise self._list_missing(error) from None
            raise
        if not isinstance(body, dict):
            raise PaginationError(f"mailchimp: GET {path} answered {type(body).__name__}, not an object")
        return response.headers, body

    def _check_list(self) -> None:
        """Raise a config error if the audience itself does not exist (a 404 is then not 'absent')."""
        self._get(self._list_path, {"fields": "id"})
