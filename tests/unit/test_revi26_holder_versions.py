"""revI26: a record's new version is one holder with its stored version, not two.

The guardrail limits count people (core.identity_holders.limit_holder), named from a record's traits.
A record's new version may name its person otherwise than the stored one (a birth date added, a
married name): it replaces the stored version, so only the new one holds the record's keys. Counting
both made one record two people, and whether a newcomer joined a family inbox depended on which run
brought her (a function of the batches, not of the records).
"""

from __future__ import annotations

from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.records import make_record

EMAIL = "family@example.org"
NO_SLEEP = IngestSettings(sleep=lambda _: None)
FIRST = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus"]


def _member(n: int, day: int = 0, traits: dict[str, str] | None = None) -> SourceRecord:
    names = {"first_name": FIRST[n] if n < len(FIRST) else "Hana", "last_name": "Lind"}
    return make_record("crm", str(n), email=EMAIL, day=day, traits={**names, **(traits or {})})


def _sizes(batches: list[list[SourceRecord]]) -> list[int]:
    store = InMemoryProfileStore()
    for batch in batches:
        ingest(batch, store, NO_SLEEP)
    return sorted(len(p.sources) for p in store.iter_profiles())


def test_a_birth_date_added_beside_a_newcomer_leaves_her_joining_as_in_two_runs() -> None:
    # GIVEN seven people on one inbox (limit 8: one customer), then Ada's record gains a birth date
    # and an eighth person arrives
    seven = [_member(n) for n in range(7)]
    ada = _member(0, day=1, traits={"date_of_birth": "1990-04-02"})
    hana = _member(7)
    # THEN eight holders in either batching: Hana joins the one customer (on main, in one run Ada's
    # stored and new versions counted as two people, nine, and Hana was refused the inbox)
    assert _sizes([seven, [ada], [hana]]) == [8]
    assert _sizes([seven, [ada, hana]]) == [8]


def test_a_renamed_record_is_one_holder_under_its_new_name() -> None:
    # GIVEN the same with Ben's record renamed (a married name) in the newcomer's run
    seven = [_member(n) for n in range(7)]
    ben = make_record("crm", "1", email=EMAIL, day=1, traits={"first_name": "Ben", "last_name": "Berg"})
    assert _sizes([seven, [ben, _member(7)]]) == [8]
