"""attack8: the fingerprints of a person with hundreds of records under one name and birth date.

An erasure with probabilistic identity leaves one ``fuzzy`` suppression entry per look-up key,
holding the fingerprint of every record of hers filed under it (core.suppression_fuzzy): about
420 bytes a record. Hana Sato has 1,000 records (a tool that keeps one per delivery address, joined
by her emails and phones), every one under her name + birth date key: that entry held 420 KB.
DynamoDB refuses an item past 400 KB: the erasure's suppression write failed, so she could not be
erased there, while the in-memory and SQLite stores kept the entry.

On the in-memory, SQLite and DynamoDB (moto) stores: the fingerprints of 1,000 records are written,
no entry passes the limit, and each of her records is still dropped by them (its own name + house
and street entry holds its fingerprint alone).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import pytest

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.schema import SourceRecord
from core.storage.sqlite_commit import ITEM_MAX_BYTES
from core.suppression_fuzzy import fingerprint_matcher, leave_fingerprints
from tests.integration.identity_attack_records import flat, ingest_settings
from tests.integration.test_erasure_attacks import SALT, STORES, Stores

AT = datetime(2026, 6, 1, tzinfo=UTC)


def _hers(count: int) -> list[SourceRecord]:
    records = []
    for i in range(count):
        line = flat(
            "crm",
            str(i),
            first_name="Hana",
            last_name="Sato",
            date_of_birth="1992-11-30",
            address=f"{i + 1} Mill Lane",
            postcode=f"M{i % 9 + 1} {i % 10}JD",
            city=f"Town{i}",
            email=f"h{i // 2}@example.com",
            phone=f"+447946{(i + 1) // 2:06d}",
        )
        record = normalise_record(draft_from_flat(line))
        assert isinstance(record, SourceRecord)
        records.append(record)
    return records


@pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))
def test_the_fingerprints_of_1000_records_under_one_key_fit_dynamodb_s_item_and_drop_each(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    records = _hers(1000)
    settings = ingest_settings()
    with stores_of() as stores:
        # WHEN her erasure leaves the fingerprints of her 1,000 records
        entries = leave_fingerprints(stores.suppression, SALT, records, settings, "req-hana", AT)
        # THEN every entry is stored, none past DynamoDB's item
        assert len(entries) == 1001  # her name + birth date, and each record's house and street
        assert stores.suppression.suppressed([e.hash for e in entries]) == {e.hash for e in entries}
        assert max(len(e.fingerprint) for e in entries) < ITEM_MAX_BYTES - 1024
        # AND each of her records (delivered again, with no email or phone) is dropped by them
        matches = fingerprint_matcher(entries, SALT, settings)
        bare = [r.model_copy(update={"identifiers": ()}) for r in records]
        assert all(matches(r) for r in bare)


def test_a_matcher_reads_each_entry_s_fingerprints_once_whatever_it_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An erasure asks the matcher about each record of hers in the dead-letter queue: the entries
    do not change between records, and her name + birth date entry (1,000 fingerprints, 420 KB) was
    parsed and checked again for every record (seconds for 1,000 records)."""
    import core.suppression_fuzzy as fuzzy

    people = _hers(12)
    records = people[:6]
    settings = ingest_settings()
    assert settings.linkage is not None
    entries = fuzzy.fingerprint_entries(records, settings.policy, SALT, "req-hana", AT)
    reads: list[str] = []
    real = fuzzy.all_prints
    monkeypatch.setattr(fuzzy, "all_prints", lambda entry: reads.append(entry.hash) or real(entry))
    # WHEN the matcher is asked about each of her records (with no email or phone) twice, and about six
    # more records under her name + birth date (other addresses): more distinct records than entries
    matches = fingerprint_matcher(entries, SALT, settings)
    bare = [r.model_copy(update={"identifiers": ()}) for r in people]
    assert len({r.key for r in bare}) > len(entries) == 7
    assert all(matches(r) for r in bare[:6] + bare[:6])
    for r in bare[6:]:
        matches(r)
    # THEN no entry's fingerprints were read twice (a cache per record would read her name + birth
    # date entry once for each of the 12), and some were read: only the matcher's entries
    assert reads
    assert max(Counter(reads).values()) == 1
    assert set(reads) <= {e.hash for e in entries}
