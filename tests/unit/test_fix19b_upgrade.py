"""fix19b's upgrade note (docs/architecture.md, "Guardrails"): customers the old record count kept
apart stay as they are until new versions of their records arrive, and then join under the new count.

The store is built under the old rule (every people-level record a holder of its own, patched in
where the planner and the split look holders up), then updated under the new one.
"""

from __future__ import annotations

import pytest

import core.identity
import core.ingest_plan
import core.merge
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.records import make_record

EMAIL = "giulia.ferri@example.it"
NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _hers(day: int) -> list[SourceRecord]:
    """Her nine records; a later ``day`` is a version with a change (her city)."""
    traits = {"first_name": "Giulia", "last_name": "Ferri", **({"city": "Torino"} if day else {})}
    return [make_record(f"tool{n}", str(n), email=EMAIL, day=day, traits=traits) for n in range(9)]


def _old_holder(record: SourceRecord) -> str | None:
    """The rule before fix19b, for people-level records: each is a holder by its source key."""
    return record.key if record.level == "person" else None


def _customers(store: InMemoryProfileStore) -> list[int]:
    return sorted(len(p.sources) for p in store.iter_profiles())


def test_customers_kept_apart_by_the_old_count_join_as_their_records_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = InMemoryProfileStore()
    # GIVEN her nine records (one email, one name) resolved in one batch under the old count
    with monkeypatch.context() as patch:
        for module in (core.identity, core.ingest_plan, core.merge):
            patch.setattr(module, "limit_holder", _old_holder)
        ingest(_hers(0), store, NO_SLEEP)
    assert _customers(store) == [1] * 9
    # WHEN nothing changes under the new count THEN nothing moves (a read of the same versions)
    ingest(_hers(0), store, NO_SLEEP)
    assert _customers(store) == [1] * 9
    # WHEN a new version of three of her records arrives THEN those three are one customer
    changed = _hers(1)
    ingest(changed[:3], store, NO_SLEEP)
    assert _customers(store) == [1] * 6 + [3]
    # AND once every record changed she is one profile
    ingest(changed[3:], store, NO_SLEEP)
    assert _customers(store) == [9]
