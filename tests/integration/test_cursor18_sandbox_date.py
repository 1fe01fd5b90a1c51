"""cursor18: every built-in sandbox answers with the ``Date`` header its real API sends (RFC 9110:
when it answered, by its own clock), on success and on refusal alike: what a cursor can read the
tool's clock from (``connectors.sdk.vendor_time``). Before, only the WooCommerce and Stripe
sandboxes sent it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tests.integration.test_attack4_pages_change_while_paged import PLUGINS, _connect
from tests.integration.test_attack11_sync_cursors import _sandbox


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_every_answer_carries_the_tools_clock_in_its_date_header(name: str) -> None:
    # GIVEN a sandbox whose clock runs an hour behind ours
    sandbox = _sandbox(name)
    lag = timedelta(hours=1)
    sandbox.clock.set(datetime.now(UTC) - lag)
    seen: list[httpx.Response] = []
    handle = sandbox.handle

    def recorded(request: httpx.Request) -> httpx.Response:
        response = handle(request)
        seen.append(response)
        return response

    sandbox.handle = recorded
    connector = _connect(name, sandbox)
    try:
        # WHEN it is pulled in full, and asked once without credentials
        for _ in connector.pull(None):
            pass
        refused = handle(httpx.Request("GET", "https://sandbox.invalid/nothing"))
    finally:
        connector.close()
    # THEN every answer says when, by the tool's clock (to the second), not by ours
    assert seen
    for response in [*seen, refused]:
        answered = parsedate_to_datetime(response.headers["Date"])
        assert abs(answered - (datetime.now(UTC) - lag)) < timedelta(minutes=5), response.headers["Date"]
