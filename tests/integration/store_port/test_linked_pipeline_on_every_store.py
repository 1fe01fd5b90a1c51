"""Ingest with probabilistic identity on each store (in-memory, SQLite, DynamoDB): the index the
link graph reads (BLOCK# items, match fields, REVIEW# items) gives the customers one batch into the
in-memory store gives, whatever the store and the batch size."""

from __future__ import annotations

from connectors.jsonl import draft_from_flat
from core.link_scope import LinkageSettings
from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems
from core.testing.varied_population import grouping_accuracy, varied_population
from tests.integration.store_port.conftest import StoreKit

LINKED = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())


def test_varied_people_in_shuffled_batches_give_the_same_customers_on_every_store(kit: StoreKit) -> None:
    # GIVEN 40 people varied as tools vary them (work emails, nicknames, old addresses), shuffled
    pairs = varied_population(40, seed=5)
    options = NormaliseOptions(default_region="GB")
    records = [normalise_record(draft_from_flat(flat), options) for _, flat in pairs]
    usable = [r for r in records if isinstance(r, SourceRecord)]
    reference = InMemoryProfileStore()
    ingest(usable, reference, LINKED)
    # WHEN ingested in batches of 7 into the store
    for start in range(0, len(usable), 7):
        ingest(usable[start : start + 7], kit.profiles, LINKED)

    def groups(store: object) -> set[frozenset[str]]:
        return {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}  # type: ignore[attr-defined]

    # THEN the customers are one batch's, the store is consistent, and each person is one profile
    assert groups(kit.profiles) == groups(reference)
    assert store_problems(list(kit.profiles.iter_profiles()), kit.profiles.ident_owners()) == []
    person_of = {f"{r['source']}:{r['id']}": p for p, r in pairs if p is not None}
    found = grouping_accuracy(
        [[f"{s.source}:{s.id}" for s in p.sources] for p in kit.profiles.iter_profiles()], person_of
    )
    assert (found.split, found.over_merged) == (0, 0)
