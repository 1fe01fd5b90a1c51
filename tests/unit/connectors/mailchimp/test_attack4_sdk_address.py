"""Attack (attack4): what Mailchimp's own SDK writes lands in the profile.

A member added through ``mailchimp_marketing`` with the audience's ADDRESS merge field filled in
(Mailchimp's address object: addr1, addr2, city, state, zip, country) came out of a pull with its
country only: the city, region and postal code the person gave were dropped, while HubSpot, Stripe
and Klaviyo records carry theirs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from connectors._http import RetryPolicy
from connectors.mailchimp import PLUGIN, MailchimpSandbox
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from tests.unit.connectors.served import Served, served

mailchimp_marketing = pytest.importorskip("mailchimp_marketing")


@pytest.fixture
def server() -> Iterator[Served]:
    with served(PLUGIN.sandbox(people=3, seed=1)) as running:
        yield running


def test_a_member_added_through_the_sdk_with_an_address_keeps_it_in_the_profile(server: Served) -> None:
    sandbox: MailchimpSandbox = server.sandbox
    client: Any = mailchimp_marketing.Client()
    client.set_config({"api_key": sandbox.token, "server": sandbox.dc})
    client.api_client.host = f"{server.url}/3.0"
    # GIVEN a member added through the SDK with her address
    address = {
        "addr1": "1 High St",
        "addr2": "",
        "city": "Leeds",
        "state": "West Yorkshire",
        "zip": "LS1 1AA",
        "country": "GB",
    }
    client.lists.add_list_member(
        sandbox.list_id,
        {
            "email_address": "mia.chimp@example.com",
            "status": "subscribed",
            "merge_fields": {"FNAME": "Mia", "LNAME": "Chimp", "ADDRESS": address},
        },
    )
    # WHEN the audience is pulled
    retry = RetryPolicy(max_attempts=3, backoff_floor=0.01, backoff_cap=0.05, sleep=lambda _: None)
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=retry))
    store = InMemoryProfileStore()
    try:
        pull_into_store(
            connector, store, InMemorySyncStateStore(), settings=IngestSettings(sleep=lambda _: None)
        )
    finally:
        connector.close()
    # THEN her profile holds the city, region, postal code and country she gave
    (profile,) = [
        p for p in store.iter_profiles() if any(i.value == "mia.chimp@example.com" for i in p.identifiers)
    ]
    traits = {name: value.value for name, value in profile.traits.items()}
    assert {k: traits.get(k) for k in ("city", "region", "postal_code", "country")} == {
        "city": "Leeds",
        "region": "West Yorkshire",
        "postal_code": "LS1 1AA",
        "country": "GB",
    }
