"""attack21: ``Dr. Klaus Becker`` on Stripe and ``Klaus Becker`` in Salesforce, one email, two people.

Stripe keeps one ``name`` per customer (https://docs.stripe.com/api/customers/object: "The customer's
full name or business name"), as the checkout or the card form got it. In German-speaking countries an
academic title is part of how a person writes their name (``Dr.``, ``Prof. Dr.``), and forms elsewhere
get ``Mr``/``Mrs``/``Herr``/``Frau`` typed in front. Salesforce keeps the title apart (``Salutation``),
so the same man is ``FirstName: Klaus`` there.

In probabilistic mode ``core/linkage/fields.py:324`` ``_split_full_name`` takes a full name's first
word as the first name: ``dr``, ``prof``, ``herr``, ``mr``. Two holders of one email whose first names
differ are refused as a family inbox (``core/linkage/conflicts.py`` ``shared_identifier_conflicts``),
so Klaus's Stripe customer (his charges, lifetime value) and his Salesforce contact (his consent,
his job) stay two profiles, each pushed its half. Exact mode joins them (the email), so switching to
the mode meant to link better splits him.

The same reading splits a business's customer: Stripe's ``name`` is "The customer's full name or
business name" (``specs/stripe-api.json.gz``, ``customer.name``; the spec has no separate business
name), and a B2B shop's customers are named ``Becker Consulting GmbH`` or ``Praxis Dr. Becker`` there,
the person's name in Salesforce: ``becker`` or ``praxis`` against ``klaus``, two profiles
(``test_a_business_name_on_stripe_is_still_his_one_profile``).

Promise: one person, one profile.
Fix: drop honorifics and academic titles (``Dr``, ``Prof``, ``Mr``, ``Mrs``, ``Ms``, ``Mx``, ``Herr``,
``Frau``, ``Mme``, ``Sr``/``Sra``, ``Rev`` ...) from the front of a full name (and of a first-name field)
before taking its first word (a suffix such as ``Jr.`` at the end only changes the last name, which
alone is no conflict). A first name split off a one-field name (Stripe's customer ``name``, which may
be a business) is at most supporting evidence, never a conflict; one fix there covers both tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.salesforce import SalesforceConnector
from connectors.stripe import PLUGIN
from core.connector import ConnectorSettings, RawPage
from core.link_scope import LinkageSettings
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore

EMAIL = "k.becker@example.de"
STRIPE = PLUGIN.build(
    ConnectorSettings(credentials={"stripe_api_key": "sk_test_x"}, base_url="http://127.0.0.1:9")
)
SALESFORCE = SalesforceConnector(
    ConnectorSettings(
        credentials={"salesforce_client_id": "id", "salesforce_client_secret": "secret"},
        base_url="https://acme.my.salesforce.com",
    )
)


def _customer(name: str) -> dict[str, Any]:
    """His Stripe customer (https://docs.stripe.com/api/customers/object)."""
    return {
        "id": "cus_QBecker01",
        "object": "customer",
        "created": 1_789_742_290,
        "email": EMAIL,
        "name": name,
        "phone": None,
        "address": None,
        "metadata": {},
    }


def _contact() -> dict[str, Any]:
    """His Salesforce contact (the title, if any, in Salutation, which the connector does not read)."""
    return {
        "attributes": {"type": "Contact", "url": "/services/data/v66.0/sobjects/Contact/0035g00000Kb1aAAF"},
        "Id": "0035g00000Kb1aAAF",
        "IsDeleted": False,
        "SystemModstamp": "2026-09-01T08:00:00.000+0000",
        "Email": EMAIL,
        "Phone": None,
        "MobilePhone": None,
        "FirstName": "Klaus",
        "LastName": "Becker",
        "Title": "Chefarzt",
        "MailingCity": "München",
        "MailingState": None,
        "MailingPostalCode": "80331",
        "MailingCountry": "Germany",
        "HasOptedOutOfEmail": False,
    }


def _profiles(name: str) -> int:
    drafts = [
        *STRIPE.to_records(RawPage(records=[_customer(name)], cursor=None, object_type="customer")),
        *SALESFORCE.to_records(RawPage(records=[_contact()], cursor=None, object_type="contact")),
    ]
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest(
        [r for r in records if isinstance(r, SourceRecord)], store, IngestSettings(linkage=LinkageSettings())
    )
    return len(list(store.iter_profiles()))


@pytest.mark.parametrize("name", ["Klaus Becker", "Becker Klaus", "Klaus Becker Jr."])
def test_his_name_without_a_title_is_one_person(name: str) -> None:
    """The guard (green before and after): plain, swapped and suffixed names join on the email."""
    assert _profiles(name) == 1


@pytest.mark.parametrize(
    "name", ["Dr. Klaus Becker", "Prof. Dr. Klaus Becker", "Herr Klaus Becker", "Mr Klaus Becker"]
)
def test_his_name_with_a_title_is_still_one_person(name: str) -> None:
    # GIVEN his Stripe customer named with a title and his Salesforce contact, one email
    # WHEN resolved in probabilistic mode
    # THEN he is one profile (before: two, his first name read as 'dr', 'prof', 'herr', 'mr')
    assert _profiles(name) == 1


@pytest.mark.parametrize("name", ["Becker Consulting GmbH", "Praxis Dr. Becker", "Kovač & Becker OG"])
def test_a_business_name_on_stripe_is_still_his_one_profile(name: str) -> None:
    # GIVEN his Stripe customer named as his business (Stripe: "full name or business name") and his
    # Salesforce contact, one email
    # WHEN resolved in probabilistic mode
    # THEN he is one profile (before: two, 'becker', 'praxis' or 'kovac' read as his first name)
    assert _profiles(name) == 1
