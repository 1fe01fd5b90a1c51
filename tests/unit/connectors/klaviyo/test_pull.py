"""Pulling Klaviyo profiles: the requests sent, the spec-valid answers, the mapping to drafts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from connectors.klaviyo import REVISION
from connectors.sdk import RestConnector
from core.normalise import normalise_record
from core.schema import Quarantined, SourceRecord
from profilesync.testing.contract import T_CHANGES

from .conftest import CheckedKlaviyoSandbox


def test_a_full_pull_asks_for_sorted_profiles_with_subscriptions_in_pages_of_100(
    sandbox: CheckedKlaviyoSandbox, klaviyo: RestConnector
) -> None:
    # GIVEN more than a page of profiles
    sandbox.add_records(150, at=T_CHANGES)
    # WHEN the connector pulls everything (every exchange is checked against the spec)
    pages = list(klaviyo.pull(None))
    # THEN it sent Klaviyo's auth and revision headers, page[size]=100, sort=updated, subscriptions
    first, _ = sandbox.exchanges[0]
    assert first.headers["authorization"] == f"Klaviyo-API-Key {sandbox.token}"
    assert first.headers["revision"] == REVISION
    query = parse_qs(urlsplit(str(first.url)).query)
    assert query["page[size]"] == ["100"]
    assert query["sort"] == ["updated"]
    assert query["additional-fields[profile]"] == ["subscriptions"]
    assert "filter" not in query
    # AND followed links.next to the end
    assert sum(len(p.records) for p in pages) == len(sandbox.record_keys())
    assert "page[cursor]" in sandbox.exchanges[1][0].url.params


def test_an_incremental_pull_filters_on_updated_one_second_before_the_watermark(
    sandbox: CheckedKlaviyoSandbox, klaviyo: RestConnector
) -> None:
    # GIVEN a cursor after a full pull, and one profile changed later
    cursor = list(klaviyo.pull(None))[-1].cursor
    key = sorted(sandbox.record_keys())[0]
    sandbox.touch({key}, at=T_CHANGES)
    before = len(sandbox.exchanges)
    # WHEN the connector pulls from the cursor
    pages = list(klaviyo.pull(cursor))
    # THEN it asked for greater-than(updated, w - 1 s): Klaviyo allows no greater-or-equal on updated
    request, _ = sandbox.exchanges[before]
    (expression,) = parse_qs(urlsplit(str(request.url)).query)["filter"]
    assert expression.startswith("greater-than(updated,")
    assert expression.endswith("Z)")
    # AND only the changed profile came back
    assert [f"profile:{r['id']}" for p in pages for r in p.records] == [key]


def test_profiles_map_to_drafts_with_consent_from_subscriptions(
    sandbox: CheckedKlaviyoSandbox, klaviyo: RestConnector
) -> None:
    # GIVEN everything the sandbox holds, including a profile a store integration made from an
    # order, with neither email nor phone
    with sandbox.lock:
        sandbox._add({"external_id": "shop-o42"}, T_CHANGES, consent=None)
    drafts = [d for page in klaviyo.pull(None) for d in klaviyo.to_records(page)]
    outcomes = [normalise_record(d) for d in drafts]
    records = [o for o in outcomes if isinstance(o, SourceRecord)]
    # THEN SUBSCRIBED is consent granted, UNSUBSCRIBED denied, NEVER_SUBSCRIBED says nothing
    by_id = {p["id"]: p for p in sandbox.profiles.values()}
    for record in records:
        status = by_id[record.source_id]["consent"]
        consent = record.consent.get("email")
        if status == "SUBSCRIBED":
            assert consent is not None
            assert consent.granted
        elif status == "UNSUBSCRIBED":
            assert consent is not None
            assert not consent.granted
        else:
            assert consent is None
    # AND the profile with only an external id is kept as the one person Klaviyo holds, identified
    # by its own profile id alone (rob23: it was quarantined, "no usable identifier"); the external
    # id is a trait, never an identifier
    (kept,) = [r for r in records if r.traits.get("external_id") == "shop-o42"]
    assert [(i.kind, i.value) for i in kept.identifiers] == [("source", f"klaviyo:profile:{kept.source_id}")]
    assert not any(isinstance(o, Quarantined) for o in outcomes)
    assert all(d.source == "klaviyo" and d.object_type == "profile" for d in drafts)
