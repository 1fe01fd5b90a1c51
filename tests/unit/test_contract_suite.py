"""The contract suite catches broken connectors: each mutant below breaks one promise, and the suite's
test for that promise must fail on it (while the real connector passes, in tests/contract)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.hubspot import PLUGIN
from core.connector import Connector, ConnectorPlugin, ConnectorSettings, Payload, PushOutcome, RawPage
from core.schema import Profile, RecordDraft
from profilesync.testing.contract import ConnectorContract, SleepRecorder


class _Wrapped:
    """A real connector with one behaviour replaced by a subclass."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner
        self.spec = inner.spec

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        return self.inner.pull(cursor)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        return self.inner.to_records(page)

    def from_profile(self, profile: Profile) -> Payload | None:
        return self.inner.from_profile(profile)

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        return self.inner.push(payloads)

    def erase(self, identifiers: Sequence[Any]) -> list[Any]:
        return self.inner.erase(identifiers)

    def close(self) -> None:
        self.inner.close()


class RepeatsPageEnds(_Wrapped):
    """Hands the last record of each page out again at the start of the next (an off-by-one cursor)."""

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        last: list[dict[str, Any]] = []
        for page in self.inner.pull(cursor):
            yield dataclasses.replace(page, records=last + page.records)
            last = page.records[-1:]


class LosesFirstRecordOnResume(_Wrapped):
    """Drops the first record after resuming from a cursor (a cursor that points one too far)."""

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        first = cursor is not None
        for page in self.inner.pull(cursor):
            if first and page.records:
                page = dataclasses.replace(page, records=page.records[1:])
                first = False
            yield page


class VolatilePayload(_Wrapped):
    """Puts the time of the call into every payload, so no hash ever matches the last push."""

    def from_profile(self, profile: Profile) -> Payload | None:
        payload = self.inner.from_profile(profile)
        if payload is None:
            return None
        body = {**payload.body, "sent_at": datetime.now(UTC).isoformat()}
        return dataclasses.replace(payload, body=body)


def _plugin_with(mutant: type[_Wrapped]) -> ConnectorPlugin:
    def build(settings: ConnectorSettings) -> Connector:
        return mutant(PLUGIN.build(settings))

    return dataclasses.replace(PLUGIN, build=build)


class _Suite(ConnectorContract):
    plugin = PLUGIN
    tie_count = 205


def _run(mutant: type[_Wrapped], test_name: str) -> None:
    suite = _Suite()
    suite.plugin = _plugin_with(mutant)  # type: ignore[misc]
    assert PLUGIN.sandbox is not None
    sandbox = PLUGIN.sandbox(people=60, seed=7)
    sleeps = SleepRecorder()
    connector = suite.connect(sandbox, sleeps)
    try:
        getattr(suite, test_name)(sandbox, connector)
    finally:
        connector.close()


@pytest.mark.parametrize(
    ("mutant", "test_name"),
    [
        (RepeatsPageEnds, "test_full_pull_returns_every_record_exactly_once"),
        (LosesFirstRecordOnResume, "test_a_pull_resumed_from_any_page_cursor_loses_nothing"),
        (LosesFirstRecordOnResume, "test_incremental_after_changes_returns_exactly_the_changed_records"),
        (VolatilePayload, "test_a_second_push_of_the_same_profiles_makes_no_api_call"),
    ],
)
def test_the_suite_fails_a_connector_that_breaks_its_promise(mutant: type[_Wrapped], test_name: str) -> None:
    with pytest.raises(AssertionError):
        _run(mutant, test_name)


def test_the_suite_passes_the_unbroken_connector_through_the_same_harness() -> None:
    _run(_Wrapped, "test_full_pull_returns_every_record_exactly_once")
    _run(_Wrapped, "test_a_second_push_of_the_same_profiles_makes_no_api_call")
