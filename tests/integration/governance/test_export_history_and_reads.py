"""The privacy export holds the person's history and who read their profile in the last 90 days,
on the three stores (the ``PrivacyStoreSet`` factories of tests/integration/test_privacy_stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.governance.reading import ReadRecord
from core.governance.unmerge import split_from_event
from core.pipeline import IngestSettings, ingest
from core.privacy import PrivacyStores, erase_person, export_person, identifier_for
from core.testing.records import make_record
from functions.privacy import export_answer
from tests.integration.test_privacy_stores import STORES, PrivacyStoreSet

NOW = datetime.now(UTC)


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[PrivacyStoreSet]:
    with STORES[request.param]() as found:
        yield found


def read(customer_id: str, days_ago: int, principal: str) -> ReadRecord:
    return ReadRecord(
        customer_id,
        NOW - timedelta(days=days_ago),
        f"req-{days_ago}",
        principal,
        "support",
        "profile",
        "email",
        (),
    )


def test_the_export_holds_the_history_and_the_reads_of_the_last_90_days(stores: PrivacyStoreSet) -> None:
    # GIVEN Ann's two records (the second joins the first), and reads of her profile 1, 30 and 120 days ago
    quick = IngestSettings(sleep=lambda _: None, actor="run:crm:r1")
    ingest([make_record("crm", "1", email="ann@example.com")], stores.profiles, quick)
    ingest([make_record("shop", "2", email="ann@example.com", phone="+442079460018")], stores.profiles, quick)
    ann = stores.profiles.get_owners(["email#ann@example.com"])["email#ann@example.com"].customer_id
    for days, who in ((1, "arn:aws:iam::1:role/support"), (30, "cli:dpo"), (120, "arn:aws:iam::1:role/old")):
        stores.reads.record_read(read(ann, days, who))
    # WHEN she asks for her data
    found = export_person(
        stores.profiles,
        identifier_for(email="ann@example.com"),
        stores=PrivacyStores(stores.profiles, stores.erasure, stores.sync_state, reads=stores.reads),
        salt="salt",
    )
    # THEN it says what happened to her customer and who looked at her in the last 90 days
    assert found is not None
    record = found.governance
    assert sorted(k for e in record.history for k in e.source_keys) == ["crm:contact:1", "shop:contact:2"]
    assert {e.kind for e in record.history} == {"source_arrived"}
    assert [r.principal for r in record.reads] == ["arn:aws:iam::1:role/support", "cli:dpo"]
    # AND the privacy function's answer carries both, without the merge bookkeeping
    answer = export_answer(found)
    assert [e["actor"] for e in answer["history"]] == ["run:crm:r1", "run:crm:r1"]
    assert all("handed_over" not in e for e in answer["history"])
    assert [r["principal"] for r in answer["reads"]] == ["arn:aws:iam::1:role/support", "cli:dpo"]


def test_an_export_of_someone_never_stored_has_no_history(stores: PrivacyStoreSet) -> None:
    found = export_person(
        stores.profiles,
        identifier_for(email="nobody@example.com"),
        stores=PrivacyStores(stores.profiles, stores.erasure, stores.sync_state, reads=stores.reads),
        salt="salt",
    )
    assert found is None


def test_erasing_a_person_split_off_another_takes_them_out_of_its_history(stores: PrivacyStoreSet) -> None:
    # GIVEN Ann's CRM contact given Bob's email by mistake (the merge), then split from its event
    ann = make_record("crm", "1", email="ann@example.com", traits={"first_name": "Ann"})
    bob = make_record("shop", "2", email="bob@example.com", traits={"first_name": "Bob"})
    quick = IngestSettings(sleep=lambda _: None)
    ingest([ann, bob], stores.profiles, quick)
    owners = stores.profiles.get_owners(["email#ann@example.com", "email#bob@example.com"])
    survivor, absorbed = sorted(owners[k].customer_id for k in owners)
    mine = ann if owners["email#ann@example.com"].customer_id == survivor else bob
    theirs = bob if mine is ann else ann
    their_email = f"email#{theirs.identifiers[0].value}"
    emails = [mine.identifiers[0].value, theirs.identifiers[0].value]
    ingest([make_record(mine.source, mine.source_id, email=emails, day=1)], stores.profiles, quick)
    [merge] = [e for e in stores.profiles.history.list_history(survivor).events if e.kind == "merge"]
    split_from_event(stores.profiles, stores.profiles.history, merge.event_id, actor="cli:dpo")

    def names_of(cid: str) -> set[str]:
        events = stores.profiles.history.list_history(cid, limit=200).events
        return {n for e in events for n in (*e.source_keys, *e.identifiers, *e.handed_over)}

    assert {theirs.key, their_email} <= names_of(survivor)  # the split left their traces there

    # WHEN the restored person is erased: by the id of their record, since their address is held
    # by the other customer too (the contact that was given it), and so names nobody
    def erase(**named: str) -> Any:
        return erase_person(
            identifier_for(**named),
            profiles=stores.profiles,
            erasure=stores.erasure,
            tools={},
            salt="salt",
            request_id=f"req-{sorted(named)[0]}",
            sleep=lambda _: None,
        )

    assert erase(email=theirs.identifiers[0].value).outcome == "ambiguous"
    report = erase(source=theirs.key)
    # THEN nothing of theirs is left in the other customer's history; its own events stay
    assert report.outcome == "erased"
    assert report.counts["history_redacted"] > 0
    left = names_of(survivor)
    assert theirs.key not in left
    assert mine.key in left
    # (their email stays: Ann's contact still holds it, and a shared value stays with its other holder)
    assert their_email in left
    kinds = [e.kind for e in stores.profiles.history.list_history(survivor, limit=200).events]
    assert {"merge", "split", "source_arrived", "source_changed"} <= set(kinds)
    assert all(e.inherited_from != absorbed for e in stores.profiles.history.list_history(survivor).events)
