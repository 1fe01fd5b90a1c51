"""What the connector contract (profilesync.testing.contract) stands on: the sandbox, the connector and
the retry recorder its tests take as fixtures, the pull helpers they share, and the times they use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from connectors._http import RetryPolicy
from core.connector import Connector, ConnectorPlugin, RawPage
from core.schema import RecordDraft
from core.testing.clock import days_ago
from core.version_marks import drafts_of

#: When the suite changes records: noon yesterday by this machine's date (``core.testing.clock``), after
#: every seeded timestamp and, whatever day the suite runs, neither in the machine's future nor further
#: behind a sandbox clock running in real time than a vendor keeps its changes (Stripe: 30 days).
T_CHANGES = days_ago(1)
#: A record's time far ahead of any clock (more than ``core.time_bound``'s default skew of a day).
FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
_FLOOR = 0.01


class SleepRecorder:
    """Stands in for ``time.sleep`` in the retry policy: records each wait, never blocks."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _key(draft: RecordDraft) -> str:
    return f"{draft.object_type}:{draft.source_id}"


def _content(draft: RecordDraft) -> dict[str, Any]:
    return draft.model_dump(mode="json", exclude={"raw"})


class ContractHarness:
    """The fixtures and helpers of ``ConnectorContract``, and the class attributes that tune it (see
    profilesync.testing.contract)."""

    plugin: ClassVar[ConnectorPlugin]
    people: ClassVar[int] = 120
    seed: ClassVar[int] = 7
    tie_count: ClassVar[int | None] = None
    sandbox_options: ClassVar[dict[str, Any]] = {}
    """Extra keyword arguments for ``plugin.sandbox(...)``, e.g. a rate-limit scale for fast tests."""
    full_pull_has_modification_times: ClassVar[bool] = True
    """False for a vendor whose objects carry no modification time (Stripe customers and charges):
    a full pull dates them by their creation, while a change pulled from the vendor's events carries
    the event's time, so the two agree on everything but ``updated_at``, which is never older."""

    # --- fixtures and helpers -----------------------------------------------------------------
    @pytest.fixture
    def sandbox(self) -> Any:
        if self.plugin.sandbox is None:
            pytest.skip(f"{self.plugin.spec.name} ships no sandbox")
        return self.plugin.sandbox(people=self.people, seed=self.seed, **self.sandbox_options)

    @pytest.fixture
    def sleeps(self) -> SleepRecorder:
        return SleepRecorder()

    @pytest.fixture
    def connector(self, sandbox: Any, sleeps: SleepRecorder) -> Iterator[Connector]:
        connector = self.connect(sandbox, sleeps)
        try:
            yield connector
        finally:
            connector.close()

    def connect(self, sandbox: Any, sleeps: SleepRecorder | None = None, **overrides: Any) -> Connector:
        """A connector wired to ``sandbox`` in-process, with retries that record instead of sleeping."""
        retry = RetryPolicy(
            max_attempts=10, backoff_floor=_FLOOR, backoff_cap=0.1, sleep=sleeps or SleepRecorder()
        )
        settings = dataclasses.replace(sandbox.settings(), retry=retry, **overrides)
        return self.plugin.build(settings)

    @staticmethod
    def pull_pages(connector: Connector, cursor: str | None) -> list[tuple[RawPage, list[RecordDraft]]]:
        """Each page and the records mapped from it; tombstones (records deleted at the vendor, which
        a full pull through Salesforce's queryAll also returns) are left out."""
        return [
            (page, [d for d in drafts_of(connector, page) if not d.deleted])
            for page in connector.pull(cursor)
        ]

    @classmethod
    def pull_drafts(cls, connector: Connector, cursor: str | None) -> tuple[list[RecordDraft], str | None]:
        pages = cls.pull_pages(connector, cursor)
        assert pages, "pull must yield at least one page (an empty one carries the cursor)"
        drafts = [d for _, ds in pages for d in ds]
        return drafts, pages[-1][0].cursor

    def page_size(self, sandbox: Any) -> int:
        """The page size of the connector ``sandbox``'s settings build: the declaration's, unless an
        option of the sandbox asks for fewer (Salesforce's ``batch_size``), so a case that needs more
        than a page or two of records holds no more than that."""
        connector = self.connect(sandbox)
        try:
            return connector.spec.page_size
        finally:
            connector.close()

    def _ties(self, sandbox: Any) -> int:
        return self.tie_count or self.page_size(sandbox) + 3
