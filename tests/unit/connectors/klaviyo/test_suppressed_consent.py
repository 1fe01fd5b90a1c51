"""Klaviyo's email consent and global suppressions, mapped (docs/connectors.md, "Klaviyo: consent").

A Klaviyo profile carries its email marketing consent (``SUBSCRIBED``, ``UNSUBSCRIBED``,
``NEVER_SUBSCRIBED``) and, beside it, its global suppressions (``suppression``: ``HARD_BOUNCE``,
``INVALID_EMAIL``, ``SPAM_COMPLAINT``, ``UNSUBSCRIBE``, ``USER_SUPPRESSED``; the spec's
``EmailMarketingSuppression``). A suppressed profile "cannot receive emails, even if they have provided
consent" (Klaviyo's Profiles API reference): it reads as consent denied, as Mailchimp's ``cleaned``.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.klaviyo import PLUGIN
from core.connector import ConnectorSettings, RawPage
from core.normalise import normalise_record
from core.schema import SourceRecord

CONSENTED = "2026-03-01T10:00:00+00:00"
UPDATED = "2026-03-05T10:00:00+00:00"


def _profile(consent: str, suppression: Any, list_suppressions: Any = None) -> dict[str, Any]:
    marketing = {
        "can_receive_email_marketing": not suppression,
        "consent": consent,
        "consent_timestamp": CONSENTED if consent != "NEVER_SUBSCRIBED" else None,
        "suppression": suppression,
        "list_suppressions": list_suppressions or [],
    }
    return {
        "type": "profile",
        "id": "01JSUPPRESSED0000000000000",
        "attributes": {
            "email": "sue@example.com",
            "updated": UPDATED,
            "subscriptions": {"email": {"marketing": marketing}},
        },
    }


def _consent(profile: dict[str, Any]) -> tuple[bool, str] | None:
    connector = PLUGIN.build(
        ConnectorSettings(credentials={"klaviyo_api_key": "pk_test"}, options={}, transport=None)
    )
    (draft,) = connector.to_records(RawPage(records=[profile], cursor=None, object_type="profile"))
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    consent = record.consent.get("email")
    return None if consent is None else (consent.granted, consent.changed_at.isoformat())


def _suppressed(reason: str, at: str) -> list[dict[str, str]]:
    return [{"reason": reason, "timestamp": at}]


@pytest.mark.parametrize(
    ("consent", "suppression", "expected"),
    [
        # no suppression: the consent status alone
        ("SUBSCRIBED", [], (True, CONSENTED)),
        ("SUBSCRIBED", None, (True, CONSENTED)),
        ("UNSUBSCRIBED", [], (False, CONSENTED)),
        ("NEVER_SUBSCRIBED", [], None),
        # a global suppression: denied, at the suppression's time, whatever the status
        (
            "SUBSCRIBED",
            _suppressed("SPAM_COMPLAINT", "2026-03-04T08:00:00+00:00"),
            (False, "2026-03-04T08:00:00+00:00"),
        ),
        (
            "SUBSCRIBED",
            _suppressed("HARD_BOUNCE", "2026-03-04T08:00:00+00:00"),
            (False, "2026-03-04T08:00:00+00:00"),
        ),
        (
            "UNSUBSCRIBED",
            _suppressed("UNSUBSCRIBE", "2026-03-04T08:00:00+00:00"),
            (False, "2026-03-04T08:00:00+00:00"),
        ),
        (
            "NEVER_SUBSCRIBED",
            _suppressed("USER_SUPPRESSED", "2026-03-04T08:00:00+00:00"),
            (False, "2026-03-04T08:00:00+00:00"),
        ),
        # a suppression older than the consent stamp: the denial is dated no earlier than the grant
        ("SUBSCRIBED", _suppressed("INVALID_EMAIL", "2026-02-01T08:00:00+00:00"), (False, CONSENTED)),
    ],
)
def test_each_klaviyo_state_maps_to_its_consent(
    consent: str, suppression: Any, expected: tuple[bool, str] | None
) -> None:
    assert _consent(_profile(consent, suppression)) == expected


def test_a_list_suppression_alone_leaves_the_consent_as_it_is() -> None:
    # A list suppression keeps her off one list, not off email: it is not a global suppression.
    profile = _profile(
        "SUBSCRIBED", [], [{"list_id": "Y6nRLr", "reason": "USER_SUPPRESSED", "timestamp": UPDATED}]
    )
    assert _consent(profile) == (True, CONSENTED)
