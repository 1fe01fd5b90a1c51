"""rob24: the pull function orders a record stamped far ahead by the tool's clock at the read.

A version stamped 2099 is ordered just before the second it was read in (core.time_bound.read_before).
The page's ``RawPage.read`` (the ``Date`` of the answer that carried it) is that read when the tool's
clock runs behind ours: its correction, stamped a second after the read by that clock, then wins
(tests/integration/test_skew17_lagging_clock.py runs the six connectors through core.sync; this is
the Lambda's path, functions.pull).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from core.connector import RawPage
from core.time_bound import read_before, utc_now
from functions import pull
from functions.events import IngestMessage
from tests.integration.functions.conftest import FakeContext, make_env


@pytest.mark.parametrize("lag", [timedelta(seconds=10), timedelta(0), timedelta(days=2)], ids=str)
def test_a_record_stamped_ahead_is_ordered_by_the_tool_clock_at_the_read(
    aws: None, monkeypatch: pytest.MonkeyPatch, lag: timedelta
) -> None:
    # GIVEN a tool whose answers say its clock runs ``lag`` behind ours, holding a record stamped 2099
    rows = [{"id": 1, "email": "ahead@example.com", "updated_at": "2099-01-01T00:00:00Z"}]
    env = make_env(monkeypatch, rows, page_size=1)
    read = (utc_now() - lag).replace(microsecond=0)
    pages = env.tool.pull

    def pull_read(cursor: str | None = None) -> Iterator[RawPage]:
        return (replace(page, read=read) for page in pages(cursor))

    monkeypatch.setattr(env.tool, "pull", pull_read)
    # WHEN the schedule invokes pull
    before = utc_now()
    pull.handler({"connector": "fake"}, FakeContext())
    after = utc_now()
    # THEN the record is ordered just before the second of the tool's read when its clock runs
    # behind ours (10 s), and by our clock when it does not, or when its Date is older than the skew
    # allows (two days: a cache's answer, not the tool's clock)
    (record,) = [r for m in env.receive() for r in IngestMessage.model_validate_json(m["Body"]).records]
    if lag == timedelta(seconds=10):
        assert record.ordered_at == read_before(read)
    else:
        assert read_before(before) <= record.ordered_at <= read_before(after)
