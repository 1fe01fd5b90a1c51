"""Erasure takes a person's place in her blocks' order out of the index, on every store.

A ``BLOCK#`` item keeps each member's place in its block's order (core.linkage.blocking.order_string:
folded names, birth date, postcode, house number, street), so that a record reads only its
neighbours in a crowded block. That is personal data: an erasure must leave none of it behind.
"""

from __future__ import annotations

import json
from typing import Any

from core.identity import IdentityPolicy
from core.link_scope import LinkageSettings
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for
from core.schema import SourceRecord
from core.testing.records import make_record
from tests.integration.test_privacy_stores import PrivacyStoreSet, stores  # noqa: F401 (fixture)

FIRST_NAMES = ["Ada", "Bea", "Cai", "Dov", "Eli", "Fen", "Gus", "Hal", "Ivo", "Jon", "Kit", "Lev"]


def _people() -> list[SourceRecord]:
    # Twelve Okonkwos born in 1980 on one street: their surname + birth year key, their street key
    # and their address line key are chains, ranked by the places the index keeps.
    return [
        make_record(
            "crm",
            str(i),
            email=f"{name.lower()}@example.com",
            traits={
                "first_name": name,
                "last_name": "Okonkwo",
                "date_of_birth": f"1980-0{1 + i % 9}-1{i % 10}",
                "address": f"{10 + i} Quillon Road",
                "postal_code": "LS1 4AP",
                "city": "Leeds",
            },
        )
        for i, name in enumerate(FIRST_NAMES)
    ]


def _block_text(profiles: Any) -> str:
    """Every ``BLOCK#`` item the store holds, as text (its members and their places)."""
    if hasattr(profiles, "_blocks"):
        return "\n".join(repr(state) for state in profiles._blocks.values())
    if hasattr(profiles, "database"):
        with profiles.database.reading() as conn:
            rows = conn.execute("SELECT attrs FROM items WHERE sk = 'BLOCK'").fetchall()
        return "\n".join(str(attrs) for (attrs,) in rows)
    items: list[dict[str, Any]] = []
    for page in profiles._client.get_paginator("scan").paginate(TableName=profiles.table_name):
        items.extend(item for item in page["Items"] if item["SK"]["S"] == "BLOCK")
    return "\n".join(json.dumps(item, sort_keys=True) for item in items)


def test_an_erased_persons_places_in_her_blocks_are_gone_on_every_store(
    stores: PrivacyStoreSet,  # noqa: F811 (the fixture)
) -> None:
    # GIVEN twelve Okonkwos of one street and birth year resolved with fuzzy matching on
    policy = IdentityPolicy()
    settings = IngestSettings(sleep=lambda _: None, policy=policy, linkage=LinkageSettings())
    people = _people()
    ingest(people, stores.profiles, settings)
    before = _block_text(stores.profiles)
    # (the index keeps Kit's place, her folded first name in it, beside her membership)
    assert "kit" in before
    assert people[10].key in before
    # WHEN Kit is erased
    report = erase_person(
        identifier_for(email="kit@example.com"),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt="salt",
        request_id="req-kit",
        sleep=lambda _: None,
        policy=policy,
        identity=settings,
    )
    assert report.outcome == "erased"
    # THEN no BLOCK# item names her record or holds her place; the others' places stay
    after = _block_text(stores.profiles)
    assert people[10].key not in after
    assert "kit" not in after
    assert "lev" in after
    assert people[11].key in after
