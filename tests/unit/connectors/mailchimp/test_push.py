"""Pushing and erasing: batches of 500, merge fields created once, per-member errors, the consent
rules against the sandbox, the echo, and delete-permanent."""

from __future__ import annotations

from datetime import UTC, datetime
from math import ceil

import pytest

from connectors._sandbox import Faults
from connectors.mailchimp import (
    MERGE_FIELDS,
    STATUS_TRAIT,
    MailchimpConnector,
    MailchimpSandbox,
    make_sandbox,
    subscriber_hash,
)
from core.connector import Payload
from core.normalise import normalise_record
from core.push import primary_email
from core.schema import ConsentValue, Identifier, Profile, SourceRecord, SourceRef, TraitValue
from core.storage.memory import InMemorySyncStateStore
from core.sync import push_profiles

from .conftest import SpecChecked, connect, synced_profiles

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def member_with(sandbox: MailchimpSandbox, status: str) -> dict[str, str]:
    with sandbox.lock:
        return next(
            dict(m)
            for m in sandbox.members.values()
            if m["status"] == status and "@example" in m["email_address"]
        )


def person(email: str, consent: bool | None, *, known: bool) -> Profile:
    """A profile for ``email``; ``known`` says whether it holds the Mailchimp member (and its status)."""
    return Profile(
        customer_id=f"cust-{subscriber_hash(email)[:8]}",
        identifiers=(Identifier(kind="email", value=email.lower()),),
        consent={}
        if consent is None
        else {"email": ConsentValue(granted=consent, changed_at=T0, source="crm")},
        sources=(
            (SourceRef(source="mailchimp", object_type="member", id=subscriber_hash(email), updated_at=T0),)
            if known
            else (SourceRef(source="crm", object_type="contact", id="1", updated_at=T0),)
        ),
    )


def test_push_sends_full_batches_of_500_and_creates_the_merge_fields_once() -> None:
    # GIVEN more than 500 profiles built from an audience that has none of profilesync's merge fields
    sandbox = make_sandbox(people=1000, seed=7)
    checked = SpecChecked(sandbox)
    with connect(sandbox, checked) as connector:
        profiles, _ = synced_profiles(connector)
        state = InMemorySyncStateStore()
        # WHEN they are pushed
        report = push_profiles(connector, profiles, state)
        # THEN every payload went through, one batch-subscribe call per 500
        assert report.failed == []
        assert report.sent > 500
        posts = checked.requests("POST", f"/lists/{sandbox.list_id}")
        assert report.calls == len(posts) == ceil(report.sent / 500)
        assert next(len(_members(r)) for r in posts) == 500
        # AND the merge fields were looked up once and the seven missing ones created once
        assert len(checked.requests("GET", "/merge-fields")) == 1
        assert len(checked.requests("POST", "/merge-fields")) == len(MERGE_FIELDS) == 7
        types = {f["tag"]: f["type"] for f in sandbox.merge_fields}
        assert {f.tag: types[f.tag] for f in MERGE_FIELDS} == {f.tag: f.type for f in MERGE_FIELDS}
        # AND the audience now holds the enriched traits
        pushed = next(p for p in profiles if connector.from_profile(p) is not None)
        email = primary_email(pushed)
        assert email is not None
        assert sandbox.pushed_traits(email)["PSCUSTID"] == pushed.customer_id
        # AND a second push of the same profiles makes no call at all
        before = sandbox.stats.requests
        assert push_profiles(connector, profiles, state).calls == 0
        assert sandbox.stats.requests == before
    # AND another connector finds the fields there and creates none
    checked_again = SpecChecked(sandbox)
    with connect(sandbox, checked_again) as again:
        assert again.ensure_merge_fields() == []
    assert checked_again.requests("POST", "/merge-fields") == []
    assert checked.checked == len(checked.exchanges)


def _members(request: object) -> list[object]:
    import json

    return list(json.loads(request.content)["members"])  # type: ignore[attr-defined]


def test_per_member_errors_are_reported_per_record_and_are_not_retryable(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    # GIVEN a batch with a good member, a fake address and a value a number field refuses
    good = member_with(sandbox, "subscribed")["email_address"]
    payloads = [
        Payload(
            "c1",
            good,
            {
                "member": {"email_address": good, "status": "subscribed", "merge_fields": {"PSLTV": "10"}},
                "update_existing": True,
            },
        ),
        Payload(
            "c2",
            "x@",
            {"member": {"email_address": "not-an-email@", "status": "subscribed"}, "update_existing": True},
        ),
        Payload(
            "c3",
            good,
            {
                "member": {
                    "email_address": "zed@example.com",
                    "status": "subscribed",
                    "merge_fields": {"PSLTV": "abc"},
                },
                "update_existing": True,
            },
        ),
    ]
    # WHEN they are pushed
    outcomes = connector.push(payloads)
    # THEN each has its own outcome, in order, with Mailchimp's message
    assert [o.customer_id for o in outcomes] == ["c1", "c2", "c3"]
    assert outcomes[0].ok
    assert outcomes[0].remote_id == subscriber_hash(good)
    assert not outcomes[1].ok
    assert not outcomes[1].retryable
    assert "looks fake or invalid" in (outcomes[1].error or "")
    assert not outcomes[2].ok
    assert not outcomes[2].retryable
    assert "merge fields were invalid" in (outcomes[2].error or "")
    assert "PSLTV" in (outcomes[2].error or "")
    assert not sandbox.holds("zed@example.com")


def test_an_opt_out_spreads_and_an_opt_in_never_resubscribes(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    subscribed = member_with(sandbox, "subscribed")
    unsubscribed = member_with(sandbox, "unsubscribed")
    # GIVEN profiles: a subscriber who opted out elsewhere, an unsubscribed member who opted in elsewhere
    out = person(subscribed["email_address"], False, known=True)
    back_in = person(unsubscribed["email_address"], True, known=True)
    payloads = [connector.from_profile(p) for p in (out, back_in)]
    # WHEN they are pushed
    outcomes = connector.push([p for p in payloads if p is not None])
    # THEN the opt-out reached Mailchimp, the unsubscribed member stays unsubscribed, both got their fields
    assert all(o.ok for o in outcomes)
    with sandbox.lock:
        assert sandbox.members[subscribed["id"]]["status"] == "unsubscribed"
        assert sandbox.members[unsubscribed["id"]]["status"] == "unsubscribed"
    assert sandbox.pushed_traits(unsubscribed["email_address"])["PSCUSTID"] == back_in.customer_id


def test_new_people_are_added_subscribed_only_with_consent(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    payloads = [
        connector.from_profile(person(email, consent, known=False))
        for email, consent in (
            ("yes@example.com", True),
            ("maybe@example.com", None),
            ("no@example.com", False),
        )
    ]
    outcomes = connector.push([p for p in payloads if p is not None])
    assert all(o.ok for o in outcomes)
    with sandbox.lock:
        statuses = {
            m["email_address"]: m["status"]
            for m in sandbox.members.values()
            if m["email_address"] in {"yes@example.com", "maybe@example.com", "no@example.com"}
        }
    assert statuses == {
        "yes@example.com": "subscribed",
        "maybe@example.com": "transactional",
        "no@example.com": "unsubscribed",
    }


def test_members_the_profile_does_not_know_keep_their_status(
    sandbox: MailchimpSandbox, connector: MailchimpConnector, checked: SpecChecked
) -> None:
    # GIVEN members that exist in Mailchimp but not in the profiles (never pulled): one unsubscribed
    # person who consented elsewhere, one subscriber with no consent decision elsewhere
    unsubscribed = member_with(sandbox, "unsubscribed")
    subscribed = member_with(sandbox, "subscribed")
    payloads = [
        connector.from_profile(person(unsubscribed["email_address"], True, known=False)),
        connector.from_profile(person(subscribed["email_address"], None, known=False)),
    ]
    assert all(p is not None and p.body["update_existing"] is False for p in payloads)
    # WHEN they are pushed
    outcomes = connector.push([p for p in payloads if p is not None])
    # THEN Mailchimp's ERROR_CONTACT_EXISTS made the connector read their status and update them
    # without changing it: nobody re-subscribed, nobody downgraded to transactional
    assert all(o.ok for o in outcomes)
    with sandbox.lock:
        assert sandbox.members[unsubscribed["id"]]["status"] == "unsubscribed"
        assert sandbox.members[subscribed["id"]]["status"] == "subscribed"
    assert sandbox.pushed_traits(subscribed["email_address"])["PSSEGMENT"] == "prospect"
    assert len(checked.requests("GET", f"/members/{unsubscribed['id']}")) == 1
    assert len(checked.requests("POST", f"/lists/{sandbox.list_id}")) == 2


def test_the_echo_of_a_push_changes_nothing_but_timestamps(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    # GIVEN profiles synced from the audience and the cursor after that pull
    pages = list(connector.pull(None))
    before = {
        r.key: r
        for r in (normalise_record(d) for p in pages for d in connector.to_records(p))
        if isinstance(r, SourceRecord)
    }
    profiles, _ = synced_profiles(connector)
    sandbox.clock.set(datetime(2026, 11, 21, tzinfo=UTC))
    # WHEN they are pushed and the next incremental pull brings the pushed members back
    report = push_profiles(connector, profiles, InMemorySyncStateStore())
    echo = [d for p in connector.pull(pages[-1].cursor) for d in connector.to_records(p)]
    # THEN every echoed record equals what was pulled before, timestamps aside
    assert report.pushed > 0
    assert len(echo) == report.pushed
    for draft in echo:
        after = normalise_record(draft)
        assert isinstance(after, SourceRecord)
        old = before[after.key]
        assert after.updated_at > old.updated_at
        assert (after.identifiers, after.traits) == (old.identifiers, old.traits)
        assert {k: v.granted for k, v in after.consent.items()} == {
            k: v.granted for k, v in old.consent.items()
        }


def test_erase_deletes_permanently(sandbox: MailchimpSandbox, connector: MailchimpConnector) -> None:
    member = member_with(sandbox, "subscribed")
    email = member["email_address"].lower()
    other = member_with(sandbox, "unsubscribed")
    # WHEN a person is erased by email, another by member id, and a phone is given
    outcomes = connector.erase(
        [
            Identifier(kind="email", value=email),
            Identifier(kind="source", value=f"mailchimp:member:{other['id']}"),
            Identifier(kind="phone", value="+442079460018"),
        ]
    )
    # THEN the two members are gone and a phone number cannot address a member
    assert [o.found for o in outcomes] == [True, True, False]
    assert "email" in outcomes[2].detail
    assert not sandbox.holds(email)
    assert not sandbox.holds(other["email_address"])
    # AND erasing again finds nothing, and Mailchimp refuses to re-import the address
    (again,) = connector.erase([Identifier(kind="email", value=email)])
    assert not again.found
    (readded,) = connector.push(
        [
            Payload(
                "c",
                email,
                {"member": {"email_address": email, "status": "subscribed"}, "update_existing": True},
            )
        ]
    )
    assert not readded.ok
    assert "permanently deleted" in (readded.error or "")


def test_a_batch_that_keeps_failing_is_reported_retryable(sandbox: MailchimpSandbox) -> None:
    member = member_with(sandbox, "subscribed")
    payload = Payload(
        "c",
        member["email_address"],
        {
            "member": {"email_address": member["email_address"], "status": "subscribed"},
            "update_existing": True,
        },
    )
    with connect(sandbox) as connector:
        connector.ensure_merge_fields()
        sandbox.faults = Faults(server_error=1.0)
        (outcome,) = connector.push([payload])
    assert not outcome.ok
    assert outcome.retryable
    assert "503" in (outcome.error or "")


def test_push_takes_at_most_one_batch(connector: MailchimpConnector) -> None:
    assert connector.push([]) == []
    payload = Payload(
        "c",
        "a@example.com",
        {"member": {"email_address": "a@example.com", "status": "subscribed"}, "update_existing": True},
    )
    with pytest.raises(ValueError, match="500"):
        connector.push([payload] * 501)


def test_a_stale_subscribed_status_is_corrected_not_forced(
    sandbox: MailchimpSandbox, connector: MailchimpConnector, checked: SpecChecked
) -> None:
    # GIVEN a member who unsubscribed after the last pull, whose profile still says "subscribed"
    member = member_with(sandbox, "unsubscribed")
    stale = person(member["email_address"], True, known=True)
    stale = stale.model_copy(
        update={
            "traits": {
                STATUS_TRAIT: TraitValue(value="subscribed", source="mailchimp:member:x", updated_at=T0)
            }
        }
    )
    payload = connector.from_profile(stale)
    assert payload is not None
    assert payload.body == {**payload.body, "update_existing": True}
    assert payload.body["member"]["status"] == "subscribed"
    # WHEN it is pushed: Mailchimp refuses to re-subscribe them (compliance state)
    (outcome,) = connector.push([payload])
    # THEN the connector reads their status and sends the fields again without re-subscribing them
    assert outcome.ok
    with sandbox.lock:
        assert sandbox.members[member["id"]]["status"] == "unsubscribed"
    assert sandbox.pushed_traits(member["email_address"])["PSCUSTID"] == stale.customer_id
    assert len(checked.requests("POST", f"/lists/{sandbox.list_id}")) == 2
