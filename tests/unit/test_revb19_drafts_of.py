"""revB19: core.version_marks.drafts_of dates by place, unchecked."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from core.connector import RawPage
from core.schema import RecordDraft
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from core.version_marks import AFTER, drafts_of, marked_drafts
from profilesync.testing.contract import T_CHANGES

AT = T_CHANGES.replace(microsecond=0)


class _SortedById:
    """A hand mapping (no dating) that returns its drafts sorted by id: one draft a record, not in order."""

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        drafts = [RecordDraft(source="t", source_id=r["id"], updated_at=r["at"]) for r in page.records]
        return sorted(drafts, key=lambda d: d.source_id)


class _SkipsJunk:
    """A hand mapping (no dating) that leaves out an element that is not a record."""

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        return [
            RecordDraft(source="t", source_id=r["id"], updated_at=r["at"])
            for r in page.records
            if isinstance(r, dict)
        ]


def _page(*records: object) -> RawPage:
    return RawPage(records=list(records), cursor=None, object_type="contact")


def test_a_reordering_hand_mapping_dates_the_marked_record() -> None:
    page = _page({"id": "b", "at": AT.isoformat(), AFTER: 5}, {"id": "a", "at": AT.isoformat()})
    drafts = drafts_of(_SortedById(), page)  # type: ignore[arg-type]
    got = {d.source_id: d.updated_at for d in drafts}
    assert got == {"a": AT.isoformat(), "b": AT + timedelta(microseconds=5)}


def test_a_hand_mapping_that_skips_junk_still_dates_the_marked_record() -> None:
    page = _page("junk", {"id": "b", "at": AT.isoformat(), AFTER: 5})
    drafts = drafts_of(_SkipsJunk(), page)  # type: ignore[arg-type]
    assert {d.source_id: d.updated_at for d in drafts} == {"b": AT + timedelta(microseconds=5)}


class _DropsMarked:
    """A hand mapping that maps a record with a ``skip`` flag to nothing: its mark cannot be paired."""

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        return [
            RecordDraft(source="t", source_id=r["id"], updated_at=r["at"])
            for r in page.records
            if not r.get("skip")
        ]


def test_a_marked_record_that_cannot_be_paired_is_logged_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a page whose marked record maps to no draft, and another marked record that does
    page = _page(
        {"id": "a", "at": AT.isoformat(), AFTER: 3, "skip": True},
        {"id": "b", "at": AT.isoformat(), AFTER: 5},
    )
    # WHEN the pull maps it
    with caplog.at_level(logging.WARNING, logger="core.version_marks"):
        drafts, unpaired = marked_drafts(_DropsMarked(), page)  # type: ignore[arg-type]
    # THEN the one that maps is dated, the other counted and logged
    assert {d.source_id: d.updated_at for d in drafts} == {"b": AT + timedelta(microseconds=5)}
    assert unpaired == 1
    assert [r.unpaired_marks for r in caplog.records] == [1]  # type: ignore[attr-defined]


def test_the_pull_reports_the_marks_it_could_not_pair() -> None:
    page = _page({"id": "a", "at": AT.isoformat(), AFTER: 3, "skip": True}, {"id": "b", "at": AT.isoformat()})

    class _Connector(_DropsMarked):
        spec = SimpleNamespace(name="t")

        def pull(self, cursor: str | None) -> list[RawPage]:
            return [page]

    report = pull_into_store(_Connector(), InMemoryProfileStore(), InMemorySyncStateStore(), cursor=None)  # type: ignore[arg-type]
    assert report.unpaired_marks == 1
    assert json.loads(report.as_json())["unpaired_marks"] == 1
