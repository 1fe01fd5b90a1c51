"""Pushing enriched traits as a bulk import job, and erasing with a data-privacy deletion job."""

from __future__ import annotations

import json

from connectors.klaviyo import PROPERTY_PREFIX
from connectors.sdk import RestConnector
from core.connector import Payload
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Identifier, Profile, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import push_profiles

from .conftest import CheckedKlaviyoSandbox


def _profiles(klaviyo: RestConnector) -> list[Profile]:
    drafts = [d for page in klaviyo.pull(None) for d in klaviyo.to_records(page)]
    records = [o for o in map(normalise_record, drafts) if isinstance(o, SourceRecord)]
    store = InMemoryProfileStore()
    ingest(records, store, IngestSettings(sleep=lambda _: None))
    return list(store.iter_profiles())


def test_a_push_is_one_spec_valid_import_job_polled_until_complete(
    sandbox: CheckedKlaviyoSandbox, klaviyo: RestConnector, waits: list[float]
) -> None:
    # GIVEN payloads for every profile Klaviyo holds
    payloads = [p for p in map(klaviyo.from_profile, _profiles(klaviyo)) if p is not None]
    before = len(sandbox.exchanges)
    # WHEN they are pushed
    outcomes = klaviyo.push(payloads)
    # THEN one job carried them all as profiles with prefixed properties, and it was polled once
    calls = [(r.method, r.url.path) for r, _ in sandbox.exchanges[before:]]
    job_id = outcomes[0].remote_id
    assert calls == [
        ("POST", "/api/profile-bulk-import-jobs"),
        ("GET", f"/api/profile-bulk-import-jobs/{job_id}"),
    ]
    sent = json.loads(sandbox.exchanges[before][0].content)
    assert sandbox.exchanges[before][0].headers["content-type"] == "application/vnd.api+json"
    first = sent["data"]["attributes"]["profiles"]["data"][0]
    assert first["type"] == "profile"
    assert set(first["attributes"]["properties"]) == {
        f"{PROPERTY_PREFIX}{t}"
        for t in (
            "customer_id",
            "lifetime_value",
            "lifetime_value_currency",
            "order_count",
            "average_order_value",
            "last_order_at",
            "segment",
        )
    }
    assert all(o.ok for o in outcomes)
    assert len(waits) == 1


def test_profiles_klaviyo_refuses_are_failed_with_its_reason(
    sandbox: CheckedKlaviyoSandbox, klaviyo: RestConnector
) -> None:
    # GIVEN a batch with one address Klaviyo cannot import
    good = Payload("c1", "new1@example.com", {"type": "profile", "attributes": {"email": "new1@example.com"}})
    bad = Payload("c2", "nobody@nowhere", {"type": "profile", "attributes": {"email": "nobody@nowhere"}})
    # WHEN they are pushed THEN the good one is imported, the bad one failed with the import error
    ok, failed = klaviyo.push([good, bad])
    assert ok.ok
    assert not failed.ok
    assert failed.error is not None
    assert "valid email" in failed.error
    assert sandbox.holds("new1@example.com")


def test_people_klaviyo_holds_are_matched_on_their_id_and_strangers_are_not_pushed_by_default(
    sandbox: CheckedKlaviyoSandbox, klaviyo: RestConnector
) -> None:
    # GIVEN a profile Klaviyo holds, and the same person as a stranger (no Klaviyo record)
    profile = next(p for p in _profiles(klaviyo) if any(i.kind == "email" for i in p.identifiers))
    stranger = profile.model_copy(update={"sources": (), "customer_id": "cus_stranger"})
    held, new = klaviyo.from_profile(profile), klaviyo.from_profile(stranger)
    # THEN the held one is matched on its Klaviyo id (never creating, never changing its email) ...
    assert held is not None
    assert held.body["id"] == next(r.id for r in profile.sources if r.source == "klaviyo")
    assert "email" not in held.body["attributes"]
    # ... the stranger on email, and a default (update mode) push sends only the held one
    assert new is not None
    assert new.body["attributes"]["email"] == new.match_key
    report = push_profiles(klaviyo, [profile, stranger], InMemorySyncStateStore())
    assert (report.mode, report.updated, report.created, report.skipped_by_mode) == ("update", 1, 0, 1)


def test_erase_looks_the_person_up_then_requests_a_deletion_job(
    sandbox: CheckedKlaviyoSandbox, klaviyo: RestConnector
) -> None:
    email = next(p["email"] for p in sandbox.profiles.values() if p["email"])
    before = len(sandbox.exchanges)
    (outcome,) = klaviyo.erase([Identifier(kind="email", value=email)])
    assert outcome.found
    calls = [(r.method, r.url.path) for r, _ in sandbox.exchanges[before:]]
    assert calls == [("GET", "/api/profiles"), ("POST", "/api/data-privacy-deletion-jobs")]
    job = json.loads(sandbox.exchanges[-1][0].content)
    assert job["data"] == {
        "type": "data-privacy-deletion-job",
        "attributes": {"profile": {"data": {"type": "profile", "attributes": {"email": email}}}},
    }
    assert sandbox.exchanges[-1][1].status_code == 202
    assert not sandbox.holds(email)
    # AND erasing again, or by a kind Klaviyo cannot look up, finds nothing
    (again,) = klaviyo.erase([Identifier(kind="email", value=email)])
    assert not again.found
    (other,) = klaviyo.erase([Identifier(kind="source", value="hubspot:contact:1")])
    assert not other.found
