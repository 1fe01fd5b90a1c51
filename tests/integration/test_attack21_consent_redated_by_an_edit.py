"""attack21: an old Salesforce opt-out, re-dated by an unrelated edit, overrides a newer opt-in.

Salesforce's ``HasOptedOutOfEmail`` is a checkbox with no time of its own; the connector dates the
opt-out by the contact's ``SystemModstamp`` (``connectors/salesforce/_connector.py:226``), which every
change to the contact moves ("changed by users *and* by automation"). Léa ticked the opt-out in 2024;
on 2026-10-01 she subscribed again through a Klaviyo form (``consent: SUBSCRIBED``,
``consent_timestamp``), and her profile's email consent is that newer opt-in.

A pushed echo that only moves the time changes nothing (``core/content_hash.py`` ``record_hash``
leaves the times out). But on 2026-10-05 sales edits her job title: the new version of the contact
carries the same 2024 opt-out, now dated 2026-10-05 (``core/merge.py:141`` ``_merge_consent`` takes the
newest decision), and the profile's consent flips to denied. The opt-out then spreads: Mailchimp is
sent ``unsubscribed`` (``connectors/mailchimp/_mapping.py`` ``plan_status``: "an opt-out spreads"). Her
decision of 2026-10-01 is undone by a change she never made. Mailchimp's own opt-outs are dated the
same way (``connectors/mailchimp/_mapping.py:159``: ``last_changed``, which any merge-field change
moves): ``test_a_corrected_first_name_in_mailchimp_does_not_undo_her_opt_in``.

Promise: the profile's numbers are right (consent: the latest decision the person made wins).
Fix: a consent decision dated by its record's own time (no time of its own) keeps the time of the
stored snapshot that already held the same decision (first seen), rather than taking each new
version's time; only a change of the decision itself is dated anew.

Fixed (fix21s): the two connectors mark such a decision ``dated_by_record``, and ingest carries the
stored snapshot's time to a newer version holding the same decision (core.consent_carry).
"""

from __future__ import annotations

from typing import Any

from connectors.klaviyo import PLUGIN as KLAVIYO_PLUGIN
from connectors.mailchimp._mapping import member_to_draft
from connectors.salesforce import SalesforceConnector
from core.connector import ConnectorSettings, RawPage
from core.normalise import normalise_record
from core.pipeline import ingest
from core.push import email_consent
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore

EMAIL = "lea.martin@example.fr"
SALESFORCE = SalesforceConnector(
    ConnectorSettings(
        credentials={"salesforce_client_id": "id", "salesforce_client_secret": "secret"},
        base_url="https://acme.my.salesforce.com",
    )
)
KLAVIYO = KLAVIYO_PLUGIN.build(
    ConnectorSettings(credentials={"klaviyo_api_key": "pk_test"}, base_url="http://127.0.0.1:9")
)


def _contact(stamp: str, *, title: str | None = None, opted_out: bool = True) -> dict[str, Any]:
    return {
        "attributes": {"type": "Contact", "url": "/services/data/v66.0/sobjects/Contact/0035g00000Lm1aAAF"},
        "Id": "0035g00000Lm1aAAF",
        "IsDeleted": False,
        "SystemModstamp": stamp,
        "Email": EMAIL,
        "Phone": None,
        "MobilePhone": None,
        "FirstName": "Léa",
        "LastName": "Martin",
        "Title": title,
        "MailingCity": "Lyon",
        "MailingState": None,
        "MailingPostalCode": "69002",
        "MailingCountry": "France",
        "HasOptedOutOfEmail": opted_out,
    }


def _klaviyo_opt_in() -> dict[str, Any]:
    """Her Klaviyo profile after she subscribed again on 2026-10-01 (JSON:API, revision 2026-07-15)."""
    at = "2026-10-01T10:00:00+00:00"
    marketing = {"consent": "SUBSCRIBED", "consent_timestamp": at, "suppression": []}
    return {
        "type": "profile",
        "id": "01JKLAVIYOLEA000000000000",
        "attributes": {
            "email": EMAIL,
            "first_name": "Léa",
            "last_name": "Martin",
            "updated": at,
            "subscriptions": {"email": {"marketing": marketing}},
        },
    }


def _pull(store: InMemoryProfileStore, records: list[dict[str, Any]], object_type: str) -> None:
    connector = SALESFORCE if object_type == "contact" else KLAVIYO
    drafts = connector.to_records(RawPage(records=records, cursor=None, object_type=object_type))
    normalised = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in normalised), normalised
    ingest([r for r in normalised if isinstance(r, SourceRecord)], store)


def _consent_after(second_version: dict[str, Any]) -> bool | None:
    # GIVEN her 2024 Salesforce opt-out and her 2026-10-01 Klaviyo opt-in, both synced
    store = InMemoryProfileStore()
    _pull(store, [_contact("2024-03-01T08:00:00.000+0000")], "contact")
    _pull(store, [_klaviyo_opt_in()], "profile")
    (profile,) = list(store.iter_profiles())
    assert email_consent(profile) is True
    # WHEN the next pull brings the contact's next version
    _pull(store, [second_version], "contact")
    (profile,) = list(store.iter_profiles())
    return email_consent(profile)


def test_an_echo_that_only_moves_the_time_keeps_her_opt_in() -> None:
    """The guard (green before and after): a version equal but for SystemModstamp changes nothing."""
    assert _consent_after(_contact("2026-10-05T02:00:00.000+0000")) is True


def test_a_new_opt_out_in_salesforce_wins() -> None:
    """The guard (green before and after): an opt-out made after her opt-in (the box unticked in the
    meantime, ticked again on 2026-10-05) is her latest decision. The first version here is her
    contact with the box unticked."""
    store = InMemoryProfileStore()
    _pull(store, [_contact("2024-03-01T08:00:00.000+0000", opted_out=False)], "contact")
    _pull(store, [_klaviyo_opt_in()], "profile")
    _pull(store, [_contact("2026-10-05T02:00:00.000+0000", opted_out=True)], "contact")
    (profile,) = list(store.iter_profiles())
    assert email_consent(profile) is False


def test_an_edit_of_her_title_does_not_undo_her_opt_in() -> None:
    # WHEN sales edits her title on 2026-10-05 (the opt-out box untouched since 2024)
    consent = _consent_after(_contact("2026-10-05T02:00:00.000+0000", title="Directrice achats"))
    # THEN her opt-in of 2026-10-01 still stands (before: denied, dated 2026-10-05)
    assert consent is True


def _member(last_changed: str, first_name: str) -> dict[str, Any]:
    """Her Mailchimp member, unsubscribed since 2024 (GET /lists/{list_id}/members)."""
    return {
        "id": "5f1b6f4bd6d1b1c5e0c6d7b1d8a6c1f2",
        "contact_id": "8b7d2c1e0f9a4b3c2d1e0f9a8b7c6d5e",
        "email_address": EMAIL,
        "status": "unsubscribed",
        "merge_fields": {"FNAME": first_name, "LNAME": "Martin", "ADDRESS": "", "PHONE": ""},
        "timestamp_signup": "2023-05-01T09:00:00+00:00",
        "timestamp_opt": "2023-05-01T09:00:00+00:00",
        "last_changed": last_changed,
        "language": "fr",
    }


def test_a_corrected_first_name_in_mailchimp_does_not_undo_her_opt_in() -> None:
    # GIVEN her Mailchimp member unsubscribed in 2024 and her Klaviyo opt-in of 2026-10-01
    store = InMemoryProfileStore()
    ingest([_normalised(member_to_draft(_member("2024-03-01T08:00:00+00:00", "Lea")))], store)
    _pull(store, [_klaviyo_opt_in()], "profile")
    (profile,) = list(store.iter_profiles())
    assert email_consent(profile) is True
    # WHEN the shop corrects her first name to Léa in Mailchimp on 2026-10-05
    ingest([_normalised(member_to_draft(_member("2026-10-05T02:00:00+00:00", "Léa")))], store)
    # THEN her opt-in of 2026-10-01 still stands (before: denied, dated 2026-10-05)
    (profile,) = list(store.iter_profiles())
    assert email_consent(profile) is True


def _normalised(draft: Any) -> SourceRecord:
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record
