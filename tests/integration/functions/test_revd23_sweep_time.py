"""revD23: the pull function's sweep keeps inside the invocation's time (functions._refresh_sweep).

The pull loop stops ``pull_time_margin_seconds`` before Lambda's limit so that the invocation ends
well (its SYNC# summary, ``last_success_at``). The sweep after a completed full refresh reads every
stored record of the source: a Scan of the whole table, minutes on a large one. Started with the
margin alone left, it was killed by Lambda's timeout: no summary, the lease held until it expires,
and an asynchronous invocation retried twice (the whole refresh again, twice). A sweep that finds
the time short must give up with its reason, and the invocation end as one that completed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from core import refresh_sweep
from core.normalise import normalise_record
from core.pipeline import ingest
from core.refresh_sweep import ListedKeys, SweepGuard
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from functions import merge, pull
from tests.integration.functions.conftest import SPEC, FakeContext, make_env

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ROWS = [{"id": i, "email": f"person{i}@example.com", "first_name": f"P{i}"} for i in range(1, 9)]


@dataclass
class ShortOfTimeAfter(FakeContext):
    """Plenty of time for ``pages`` looks at the clock, then 1 s left (under the 120 s margin)."""

    pages: int = 0
    looks: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.looks += 1
        return 600_000 if self.looks <= self.pages else 1_000


def test_a_sweep_short_of_time_gives_up_with_its_reason_and_the_invocation_ends_well(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 8 records pulled and merged (4 pages of 2), one since deleted inside the tool
    env = make_env(monkeypatch, [dict(r) for r in ROWS])
    env.tool.spec = dataclasses.replace(SPEC, refresh_lists=frozenset({"contact"}))  # type: ignore[misc]
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    env.tool.rows = [r for r in env.tool.rows if r["id"] != 3]
    # WHEN a full refresh walks its 4 pages in time, and the time runs short as the walk ends
    context = ShortOfTimeAfter(pages=4)
    answer = pull.handler({"connector": "fake", "full_refresh": True}, context)
    # THEN the refresh completed, its sweep gave up before reading the table, and says why
    assert answer["status"] == "done"
    assert answer["pages"] == 4
    sweep = answer["sweep"]
    assert sweep["swept"] == 0
    assert "time" in sweep["refused"]
    # AND nothing was queued for retirement (merging what the refresh queued keeps her); the run's
    # summary is written as for any run
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    assert "person3@example.com" in json.dumps(env.items())
    state = next(i for i in env.items() if i["PK"]["S"] == "SYNC#fake")
    summary = json.loads(state["report"]["S"])
    assert "last_success_at" in summary
    assert "time" in summary["sweep"]["refused"]


def test_the_sweep_looks_at_its_time_while_it_reads_the_stored_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN 5 records of one source stored, and a sweep that looks at its time every 2 records
    store = InMemoryProfileStore()
    drafts = [
        RecordDraft(source="crm", source_id=str(i), updated_at=T0, emails=[f"p{i}@example.com"])
        for i in range(5)
    ]
    ingest([r for r in map(normalise_record, drafts) if isinstance(r, SourceRecord)], store)
    monkeypatch.setattr(refresh_sweep, "TIME_CHECK_EVERY", 2)
    looks: list[bool] = []

    def in_time() -> bool:
        looks.append(True)
        return len(looks) < 2  # in time at the start, short at the second look

    # WHEN a refresh that listed none of them is swept (the guard lifted: time alone stops it)
    report, missing = refresh_sweep.plan_sweep(
        store, "crm", frozenset({"contact"}), ListedKeys(), SweepGuard(allow_mass=True), in_time
    )
    # THEN it gave up at its second look, after 2 records, naming none to retire
    assert missing == []
    assert report.refused is not None
    assert "after reading 2 stored records" in report.refused
    assert len(looks) == 2
