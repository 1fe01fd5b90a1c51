"""fix21s: a consent decision with no time of its own keeps the time of the first version that held it.

Salesforce's ``HasOptedOutOfEmail`` and Mailchimp's unsubscribe carry no time: their connectors date
them by the record's version (``SystemModstamp``, ``last_changed``) and mark them ``dated_by_record``;
ingest carries the stored snapshot's time to a newer version that holds the same decision
(core.consent_carry), so an edit of the record does not re-date an old opt-out past a newer opt-in
made elsewhere. On the three stores (memory, SQLite, DynamoDB on moto), through ``ingest``:

- a record's first version (no snapshot) takes its own time, as before;
- an edit of the record keeps the stored decision's time, and the edited version pulled again is
  unchanged (the carried time is left out of the record hash);
- an opt-out, an opt-in at the same tool, then an edit: the opt-in stands with its own time; an
  opt-out made after it is dated anew, and an edit after that keeps the new opt-out's time (not the
  first opt-out's);
- the add-only path (core.ingest_grow: an order's next version planned from the profile item)
  carries the time as the full plan does (red with its carry taken out).

Across calls, her 2024 version arriving after the edit is stale: it could not move the kept time
back (a strict xfail until left30); the decision now keeps a run and the late version folds into it
(core.consent_carry.late_consent; docs/architecture.md, "Consent: the latest decision the person made
wins"; every order: test_left30_consent_run_orders_on_every_store.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import core.ingest_grow
from connectors.jsonl import draft_from_flat
from connectors.klaviyo import PLUGIN as KLAVIYO_PLUGIN
from connectors.mailchimp._mapping import member_to_draft
from connectors.salesforce import SalesforceConnector
from core.connector import ConnectorSettings, RawPage
from core.content_hash import record_hash
from core.ingest_grow import grow_changeset
from core.normalise import normalise_record
from core.pipeline import IngestResult, IngestSettings, ingest
from core.schema import ConsentValue, SourceRecord
from tests.integration.store_port.conftest import StoreKit

EMAIL = "lea.martin@example.fr"
NO_SLEEP = IngestSettings(sleep=lambda _: None)
SALESFORCE = SalesforceConnector(
    ConnectorSettings(
        credentials={"salesforce_client_id": "id", "salesforce_client_secret": "secret"},
        base_url="https://acme.my.salesforce.com",
    )
)
KLAVIYO = KLAVIYO_PLUGIN.build(
    ConnectorSettings(credentials={"klaviyo_api_key": "pk_test"}, base_url="http://127.0.0.1:9")
)
CONTACT_KEY = "salesforce:contact:0035g00000Lm1aAAF"
MEMBER_KEY = "mailchimp:member:8b7d2c1e0f9a4b3c2d1e0f9a8b7c6d5e"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _contact(stamp: str, *, title: str | None = None, opted_out: bool = True) -> dict[str, Any]:
    """Her Salesforce contact (SOQL query result, API v66.0)."""
    return {
        "attributes": {"type": "Contact", "url": "/services/data/v66.0/sobjects/Contact/0035g00000Lm1aAAF"},
        "Id": "0035g00000Lm1aAAF",
        "IsDeleted": False,
        "SystemModstamp": stamp,
        "Email": EMAIL,
        "FirstName": "Léa",
        "LastName": "Martin",
        "Title": title,
        "MailingCity": "Lyon",
        "MailingCountry": "France",
        "HasOptedOutOfEmail": opted_out,
    }


def _klaviyo_opt_in(at: str = "2026-10-01T10:00:00+00:00") -> dict[str, Any]:
    """Her Klaviyo profile after she subscribed on ``at`` (JSON:API, revision 2026-07-15)."""
    marketing = {"consent": "SUBSCRIBED", "consent_timestamp": at, "suppression": []}
    attributes = {"email": EMAIL, "updated": at, "subscriptions": {"email": {"marketing": marketing}}}
    return {"type": "profile", "id": "01JKLAVIYOLEA000000000000", "attributes": attributes}


def _member(
    last_changed: str, status: str, first_name: str = "Lea", opt: str = "2023-05-01"
) -> dict[str, Any]:
    """Her Mailchimp member (GET /lists/{list_id}/members): ``timestamp_opt`` is her last opt-in."""
    return {
        "id": "5f1b6f4bd6d1b1c5e0c6d7b1d8a6c1f2",
        "contact_id": "8b7d2c1e0f9a4b3c2d1e0f9a8b7c6d5e",
        "email_address": EMAIL,
        "status": status,
        "merge_fields": {"FNAME": first_name, "LNAME": "Martin"},
        "timestamp_signup": "2023-05-01T09:00:00+00:00",
        "timestamp_opt": f"{opt}T09:00:00+00:00",
        "last_changed": last_changed,
        "language": "fr",
    }


def _records(drafts: list[Any]) -> list[SourceRecord]:
    out = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in out), out
    return [r for r in out if isinstance(r, SourceRecord)]


def _pull(kit: StoreKit, raw: list[dict[str, Any]], object_type: str) -> IngestResult:
    connector = SALESFORCE if object_type == "contact" else KLAVIYO
    drafts = connector.to_records(RawPage(records=raw, cursor=None, object_type=object_type))
    return ingest(_records(drafts), kit.profiles, NO_SLEEP)


def _sync_member(kit: StoreKit, member: dict[str, Any]) -> IngestResult:
    return ingest(_records([member_to_draft(member)]), kit.profiles, NO_SLEEP)


def _email(kit: StoreKit) -> ConsentValue:
    (profile,) = list(kit.profiles.iter_profiles())
    return profile.consent["email"]


def _stored(kit: StoreKit, key: str) -> SourceRecord:
    (profile,) = list(kit.profiles.iter_profiles())
    return kit.profiles.get_customers([profile.customer_id])[profile.customer_id].snapshots[key]


def test_a_first_version_takes_its_own_time(kit: StoreKit) -> None:
    """No snapshot yet: the opt-out is dated by the version that brings it, as before."""
    _pull(kit, [_contact("2026-10-05T02:00:00.000+0000", title="Directrice achats")], "contact")
    email = _email(kit)
    assert (email.granted, email.changed_at) == (False, _at("2026-10-05T02:00:00"))


def test_an_edit_keeps_the_stored_opt_out_time_and_her_newer_opt_in_wins(kit: StoreKit) -> None:
    _pull(kit, [_contact("2024-03-01T08:00:00.000+0000")], "contact")
    _pull(kit, [_klaviyo_opt_in()], "profile")
    edited = _contact("2026-10-05T02:00:00.000+0000", title="Directrice achats")
    # WHEN sales edits her title (before the fix: the opt-out re-dated 2026-10-05 won)
    assert _pull(kit, [edited], "contact").unchanged == 0
    # THEN her opt-in of 2026-10-01 stands, and the stored contact's opt-out keeps its 2024 time
    email = _email(kit)
    assert (email.granted, email.changed_at) == (True, _at("2026-10-01T10:00:00"))
    state = _stored(kit, CONTACT_KEY).consent["email"]
    assert (state.granted, state.changed_at, state.dated_by_record) == (
        False,
        _at("2024-03-01T08:00:00"),
        True,
    )
    assert _stored(kit, CONTACT_KEY).traits["job_title"] == "Directrice achats"
    # read back from the store, the snapshot hashes as the version pulled (the carried time left out)
    (version,) = _records(
        SALESFORCE.to_records(RawPage(records=[edited], cursor=None, object_type="contact"))
    )
    assert record_hash(_stored(kit, CONTACT_KEY)) == record_hash(version)
    # AND the same version pulled again is unchanged: the carried time is not a change of content
    assert _pull(kit, [edited], "contact").unchanged == 1
    # AND a later edit still carries 2024
    _pull(kit, [_contact("2026-11-02T02:00:00.000+0000", title="Directrice")], "contact")
    assert _stored(kit, CONTACT_KEY).consent["email"].changed_at == _at("2024-03-01T08:00:00")
    assert _email(kit).granted is True


def test_opt_out_then_opt_in_at_the_same_tool_then_edits(kit: StoreKit) -> None:
    # GIVEN her 2024 Mailchimp unsubscribe, then her opt-in there on 2026-09-01
    _sync_member(kit, _member("2024-03-01T08:00:00+00:00", "unsubscribed"))
    assert _email(kit).granted is False
    _sync_member(kit, _member("2026-09-01T09:00:00+00:00", "subscribed", opt="2026-09-01"))
    email = _email(kit)
    assert (email.granted, email.changed_at) == (True, _at("2026-09-01T09:00:00"))
    # WHEN her first name is corrected: the opt-in keeps its own time
    _sync_member(kit, _member("2026-09-20T09:00:00+00:00", "subscribed", "Léa", opt="2026-09-01"))
    assert (_email(kit).granted, _email(kit).changed_at) == (True, _at("2026-09-01T09:00:00"))
    # WHEN she unsubscribes on 2026-10-10: a change of decision, dated anew, and it wins
    _sync_member(kit, _member("2026-10-10T09:00:00+00:00", "unsubscribed", "Léa", opt="2026-09-01"))
    email = _email(kit)
    assert (email.granted, email.changed_at) == (False, _at("2026-10-10T09:00:00"))
    # WHEN her last name is edited afterwards: the opt-out keeps 2026-10-10, not the 2024 one
    edited = _member("2026-11-01T09:00:00+00:00", "unsubscribed", "Léa", opt="2026-09-01")
    edited["merge_fields"]["LNAME"] = "Martin-Roux"
    _sync_member(kit, edited)
    email = _email(kit)
    assert (email.granted, email.changed_at) == (False, _at("2026-10-10T09:00:00"))
    assert _stored(kit, MEMBER_KEY).consent["email"].changed_at == _at("2026-10-10T09:00:00")


def test_her_2024_version_arriving_after_the_edit_dates_the_opt_out_2024(kit: StoreKit) -> None:
    # GIVEN her Klaviyo opt-in of 2026-10-01, and the contact's edit of 2026-10-05 pulled first
    _pull(kit, [_klaviyo_opt_in()], "profile")
    _pull(kit, [_contact("2026-10-05T02:00:00.000+0000", title="Directrice achats")], "contact")
    # WHEN the 2024 version comes late (a backfill): the same opt-out, untouched since 2024
    _pull(kit, [_contact("2024-03-01T08:00:00.000+0000")], "contact")
    # THEN her opt-in stands (before left30: the opt-out kept the edit's 2026-10-05 and won)
    assert _email(kit).granted is True


def _order(order_id: str, stamp: str, total: str, *, decision: bool = False) -> SourceRecord:
    """A child record (an order of shop customer c1), with an opt-out dated by the order's version."""
    flat: dict[str, Any] = {
        "source": "shop",
        "id": order_id,
        "object_type": "order",
        "owner_id": "c1",
        "updated_at": stamp,
        "orders": [
            {"id": order_id, "total": total, "currency": "EUR", "status": "paid", "created_at": stamp}
        ],
    }
    if decision:
        flat["consent"] = {"email": {"granted": False, "dated_by_record": True}}
    (record,) = _records([draft_from_flat(flat)])
    return record


def test_the_add_only_path_keeps_the_stored_time_too(kit: StoreKit, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new version of an order planned from the profile item (core.ingest_grow) carries the time
    as the full plan does."""
    shopper = {"source": "shop", "id": "c1", "updated_at": "2026-01-01T00:00:00Z", "email": EMAIL}
    ingest(_records([draft_from_flat(shopper)]), kit.profiles, NO_SLEEP)
    first, last = _order("o0", "2026-02-01T00:00:00Z", "5.00"), _order("o2", "2026-03-10T00:00:00Z", "7.00")
    ingest([first, last], kit.profiles, NO_SLEEP)
    ingest([_order("o1", "2026-03-01T00:00:00Z", "10.00", decision=True)], kit.profiles, NO_SLEEP)
    _sync_member(kit, _member("2026-03-03T09:00:00+00:00", "subscribed", opt="2026-03-03"))
    grown: list[bool] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = grow_changeset(*args, **kwargs)
        grown.append(out is not None)
        return out

    monkeypatch.setattr(core.ingest_grow, "grow_changeset", spy)
    # WHEN the order's next version (its total corrected) comes, planned by the add-only path
    ingest([_order("o1", "2026-03-05T00:00:00Z", "12.00", decision=True)], kit.profiles, NO_SLEEP)
    assert grown == [True]
    # THEN the order's opt-out keeps 2026-03-01, and her Mailchimp opt-in of 2026-03-03 wins
    email = _email(kit)
    assert (email.granted, email.changed_at) == (True, _at("2026-03-03T09:00:00"))
