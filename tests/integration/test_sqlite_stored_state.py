"""The SQLite store reads a customer's profile from its JSON only when the profile is asked for.

Ingest plans from a customer's snapshots and never reads the stored profile, so
``SQLiteProfileStore.get_customers`` leaves the profile's JSON unparsed until ``state.profile`` is
read. Whoever reads it (export, the profile API, tests) must get exactly the model, and the state
must compare, copy and pickle as the plain ``CustomerState`` of the same fields does.
"""

from __future__ import annotations

import dataclasses
import pickle

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.ports import CustomerState
from core.schema import Profile, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import IN_MEMORY, SQLiteDatabase
from core.testing.population import population

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _records() -> list[SourceRecord]:
    out = []
    for _, flat in population(150, seed=21):
        record = normalise_record(draft_from_flat(flat))
        if isinstance(record, SourceRecord):
            out.append(record)
    return out


def test_customers_read_back_equal_the_in_memory_stores_and_parse_their_profile_once() -> None:
    # GIVEN the same records ingested into the SQLite and the in-memory store
    records = _records()
    memory = InMemoryProfileStore()
    with SQLiteDatabase(IN_MEMORY) as database:
        sqlite = SQLiteProfileStore(database)
        for start in range(0, len(records), 40):
            ingest(records[start : start + 40], memory, NO_SLEEP)
            ingest(records[start : start + 40], sqlite, NO_SLEEP)
        ids = sorted({p.customer_id for p in memory.iter_profiles()})
        stored = sqlite.get_customers(ids)
        documents = {p.customer_id: p.model_dump_json() for p in sqlite.iter_profiles()}
    expected = memory.get_customers(ids)
    assert len(stored) == len(ids) > 50
    for cid in ids:
        state = stored[cid]
        # WHEN the state is read field by field THEN the profile is not parsed before it is asked for
        assert state.version == expected[cid].version
        assert state.snapshots == expected[cid].snapshots
        assert getattr(state, "_document", None) is not None
        profile = state.profile
        # THEN it is the stored model, parsed once and kept
        assert isinstance(profile, Profile)
        assert profile.model_dump_json() == documents[cid]
        assert profile == expected[cid].profile
        assert state.profile is profile
        # AND the state equals the in-memory store's, either way round
        assert state == expected[cid]
        assert expected[cid] == state


def test_an_unread_state_compares_replaces_and_pickles_as_a_plain_one() -> None:
    # GIVEN customers read back and never asked for their profile
    with SQLiteDatabase(IN_MEMORY) as database:
        store = SQLiteProfileStore(database)
        ingest(_records()[:30], store, NO_SLEEP)
        ids = sorted({p.customer_id for p in store.iter_profiles()})
        first, again = store.get_customers(ids), store.get_customers(ids)
    for cid in ids:
        state = first[cid]
        plain = CustomerState(
            **{f.name: getattr(again[cid], f.name) for f in dataclasses.fields(CustomerState)}
        )
        # WHEN compared unread, pickled, and replaced THEN each behaves as a CustomerState of its fields
        assert state == plain
        assert pickle.loads(pickle.dumps(first[cid])) == plain
        newer = dataclasses.replace(state, version=state.version + 1)
        assert newer.profile == plain.profile
        assert newer.version == plain.version + 1
        assert newer != plain
        assert state != dataclasses.replace(plain, profile=None)
