"""The profile API's lookups by email or phone leave no trace of the value in any log line, with the
function's logger and the root logger at DEBUG (Lambda's application log level)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from functions import profiles
from tests.integration.functions.test_profiles import call, event, role_arn, table  # noqa: F401 (fixture)


@pytest.fixture
def everything_logged(capsys: pytest.CaptureFixture[str]) -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    previous, before = root.level, profiles.logger.log_level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    profiles.logger.setLevel("DEBUG")
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        profiles.logger.setLevel(before)


def test_lookups_by_email_and_phone_log_neither(
    table: Any,  # noqa: F811 (the fixture imported above)
    everything_logged: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # WHEN the profile is read by email, by phone, and a lookup is refused for a malformed address
    for query in (
        {"email": "Ann.Lee@example.com"},
        {"phone": "+44 20 7946 0018"},
        {"email": "ann.lee@@example"},
    ):
        status, _ = call(event("find_by_email", arn=role_arn("support"), query=query))
        assert status in (200, 400, 403, 404)
    logged = everything_logged.getvalue() + capsys.readouterr().out
    # THEN the function did log (at DEBUG), and no line holds the address or the number
    assert "profile read" in logged
    assert "ann.lee" not in logged.lower()
    # (the number in any spelling, not a fragment of it: "7946" alone also turns up in a metric's
    # millisecond timestamp)
    digits_only = "".join(ch for ch in logged if ch.isdigit() or ch == "\n")
    assert "79460018" not in digits_only
