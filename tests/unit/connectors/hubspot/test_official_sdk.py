"""HubSpot's own Python SDK (hubspot-api-client) against the served sandbox: the calls an SDK user
makes most, each answered in HubSpot's shapes (every exchange is checked against the published spec).

One test per SDK call; together with the other vendors' ``test_official_sdk.py`` they are the matrix
that says how many common SDK calls the sandboxes serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.hubspot import HubSpotSandbox
from tests.unit.connectors.served import Served, served

from .conftest import fast_sandbox, spec_for

hubspot = pytest.importorskip("hubspot")
contacts_models = pytest.importorskip("hubspot.crm.contacts")
properties_models = pytest.importorskip("hubspot.crm.properties")


def _check(request: httpx.Request, response: httpx.Response) -> None:
    # Answers only: the SDK's own requests leave out fields the published spec marks required
    # (``after`` and ``sorts`` of a search, ``propertiesWithHistory`` of a batch read), which HubSpot
    # accepts; the SDK is the authority on what HubSpot is sent.
    spec_for(request.url.path).validate_httpx(request, response, check_request=False)


@pytest.fixture
def sandbox() -> HubSpotSandbox:
    return fast_sandbox(people=40)


@pytest.fixture
def server(sandbox: HubSpotSandbox) -> Iterator[Served]:
    with served(sandbox, _check) as running:
        yield running
        running.assert_clean()


@pytest.fixture
def client(server: Served) -> Any:
    return hubspot.Client.create(access_token=server.sandbox.token, host=server.url)


def _some_contact(sandbox: HubSpotSandbox) -> tuple[str, str]:
    """(id, email) of a seeded contact that has an email."""
    with sandbox.lock:
        for contact in sandbox._contacts.values():
            if contact.email():
                return contact.id, str(contact.email())
    raise AssertionError("the sandbox seeded no contact with an email")


def test_basic_api_get_page_pages_with_after(client: Any) -> None:
    # WHEN the first page of 5 is asked for, then the next from its paging token
    first = client.crm.contacts.basic_api.get_page(limit=5, properties=["email", "firstname"])
    second = client.crm.contacts.basic_api.get_page(limit=5, after=first.paging.next.after)
    # THEN the pages are full, distinct, and carry HubSpot's objects
    assert len(first.results) == 5
    assert len(second.results) == 5
    assert not {c.id for c in first.results} & {c.id for c in second.results}
    assert all(c.created_at is not None and c.archived is False for c in first.results)


def test_get_all_walks_every_page(client: Any, sandbox: HubSpotSandbox) -> None:
    everyone = client.crm.contacts.get_all()
    assert {c.id for c in everyone} == {key.split(":", 1)[1] for key in sandbox.record_keys()}


def test_basic_api_get_by_id_returns_unset_properties_as_null(client: Any, sandbox: HubSpotSandbox) -> None:
    # GIVEN a contact with no company
    record_id, email = _some_contact(sandbox)
    # WHEN it is read asking for email and company
    contact = client.crm.contacts.basic_api.get_by_id(record_id, properties=["email", "company"])
    # THEN the unset property is there, as null (as HubSpot answers), next to the set one
    assert contact.properties["email"] == email
    assert "company" in contact.properties
    assert contact.properties["company"] is None


def test_basic_api_get_by_id_by_email(client: Any, sandbox: HubSpotSandbox) -> None:
    record_id, email = _some_contact(sandbox)
    contact = client.crm.contacts.basic_api.get_by_id(email, id_property="email")
    assert contact.id == record_id


def test_basic_api_create_makes_a_contact(client: Any, sandbox: HubSpotSandbox) -> None:
    # WHEN a contact is created through the SDK
    created = client.crm.contacts.basic_api.create(
        contacts_models.SimplePublicObjectInputForCreate(
            properties={"email": "sdk.create@example.com", "firstname": "Ada"}
        )
    )
    # THEN HubSpot's answer carries the new id and the properties, and the portal holds it
    assert created.id
    assert created.properties["firstname"] == "Ada"
    assert sandbox.contact("sdk.create@example.com") is not None


def test_basic_api_create_refuses_a_duplicate_email(client: Any, sandbox: HubSpotSandbox) -> None:
    _, email = _some_contact(sandbox)
    with pytest.raises(contacts_models.ApiException) as caught:
        client.crm.contacts.basic_api.create(
            contacts_models.SimplePublicObjectInputForCreate(properties={"email": email})
        )
    assert caught.value.status == 409


def test_basic_api_update_patches_a_contact(client: Any, sandbox: HubSpotSandbox) -> None:
    # GIVEN a contact
    record_id, email = _some_contact(sandbox)
    # WHEN one property is updated (PATCH)
    updated = client.crm.contacts.basic_api.update(
        record_id, contacts_models.SimplePublicObjectInput(properties={"jobtitle": "Buyer"})
    )
    # THEN only it changed
    assert updated.properties["jobtitle"] == "Buyer"
    assert (sandbox.contact(email) or {}).get("jobtitle") == "Buyer"
    assert (sandbox.contact(email) or {}).get("email") == email


def test_batch_api_read_reads_by_id(client: Any, sandbox: HubSpotSandbox) -> None:
    record_id, email = _some_contact(sandbox)
    read = client.crm.contacts.batch_api.read(
        contacts_models.BatchReadInputSimplePublicObjectId(
            inputs=[contacts_models.SimplePublicObjectId(id=record_id)], properties=["email"]
        )
    )
    assert read.status == "COMPLETE"
    assert [(c.id, c.properties["email"]) for c in read.results] == [(record_id, email)]


def test_batch_api_upsert_by_email(client: Any, sandbox: HubSpotSandbox) -> None:
    answer = client.crm.contacts.batch_api.upsert(
        contacts_models.BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                contacts_models.SimplePublicObjectBatchInputUpsert(
                    id="sdk.upsert@example.com", id_property="email", properties={"firstname": "Bea"}
                )
            ]
        )
    )
    assert [r.new for r in answer.results] == [True]
    assert (sandbox.contact("sdk.upsert@example.com") or {}).get("firstname") == "Bea"


def test_search_api_do_search_filters_by_email(client: Any, sandbox: HubSpotSandbox) -> None:
    record_id, email = _some_contact(sandbox)
    found = client.crm.contacts.search_api.do_search(
        contacts_models.PublicObjectSearchRequest(
            filter_groups=[
                contacts_models.FilterGroup(
                    filters=[contacts_models.Filter(property_name="email", operator="EQ", value=email)]
                )
            ],
            properties=["email"],
            limit=10,
        )
    )
    assert found.total == 1
    assert found.results[0].id == record_id


def test_properties_core_api_get_all(client: Any) -> None:
    listed = client.crm.properties.core_api.get_all("contacts")
    assert {"email", "firstname", "lastname"} <= {p.name for p in listed.results}


def test_properties_core_api_create(client: Any) -> None:
    created = client.crm.properties.core_api.create(
        "contacts",
        properties_models.PropertyCreate(
            name="sdk_score",
            label="SDK score",
            type="number",
            field_type="number",
            group_name="contactinformation",
        ),
    )
    assert created.name == "sdk_score"
    assert created.type == "number"


def test_basic_api_archive_then_get_page_archived_lists_it(client: Any, sandbox: HubSpotSandbox) -> None:
    # GIVEN a contact deleted through the SDK (HubSpot archives it, restorable for 90 days)
    record_id, _ = _some_contact(sandbox)
    client.crm.contacts.basic_api.archive(contact_id=record_id)
    # WHEN the SDK lists the archived contacts
    page = client.crm.contacts.basic_api.get_page(limit=100, archived=True)
    # THEN it is there, archived and dated, and the live list no longer holds it
    (found,) = [c for c in page.results if c.id == record_id]
    assert found.archived is True
    assert found.archived_at is not None
    live = client.crm.contacts.get_all()
    assert record_id not in {c.id for c in live}
