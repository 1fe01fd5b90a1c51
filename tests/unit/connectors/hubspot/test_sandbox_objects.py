"""The sandbox's basic and batch object endpoints answer as HubSpot does where the SDK tests do not
look: conflicts, unknown ids, refused id properties, whole-batch failures. Every exchange is checked
against HubSpot's published spec."""

from __future__ import annotations

import httpx
import pytest

from connectors.hubspot import HubSpotSandbox

from .conftest import SpecChecked

CONTACTS = "/crm/v3/objects/contacts"


@pytest.fixture
def client(sandbox: HubSpotSandbox, checked: SpecChecked) -> httpx.Client:
    return httpx.Client(
        transport=checked.transport(),
        base_url="https://api.hubapi.com",
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )


def _two_contacts(sandbox: HubSpotSandbox) -> list[tuple[str, str]]:
    with sandbox.lock:
        found = [(c.id, str(c.email())) for c in sandbox._contacts.values() if c.email()]
    return found[:2]


def test_batch_update_reports_unknown_ids_and_creates_nobody(
    client: httpx.Client, sandbox: HubSpotSandbox
) -> None:
    # GIVEN one contact HubSpot holds and one id it does not
    (known, email), _ = _two_contacts(sandbox)
    before = len(sandbox.record_keys())
    # WHEN both are batch-updated
    answer = client.post(
        f"{CONTACTS}/batch/update",
        json={
            "inputs": [
                {"id": known, "properties": {"jobtitle": "Chef"}},
                {"id": "99999999", "properties": {}},
            ]
        },
    )
    # THEN the known one is updated, the unknown one reported (207), and nobody is created
    assert answer.status_code == 207
    body = answer.json()
    assert [r["id"] for r in body["results"]] == [known]
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["ids"] == ["99999999"]
    assert (sandbox.contact(email) or {}).get("jobtitle") == "Chef"
    assert len(sandbox.record_keys()) == before


def test_batch_update_refuses_email_as_the_id_property(client: httpx.Client, sandbox: HubSpotSandbox) -> None:
    (_, email), _ = _two_contacts(sandbox)
    answer = client.post(
        f"{CONTACTS}/batch/update",
        json={"inputs": [{"id": email, "idProperty": "email", "properties": {"jobtitle": "Chef"}}]},
    )
    assert answer.status_code == 400
    assert "non-unique" in answer.json()["message"]
    assert (sandbox.contact(email) or {}).get("jobtitle") != "Chef"


def test_batch_create_with_an_existing_email_fails_the_whole_batch(
    client: httpx.Client, sandbox: HubSpotSandbox
) -> None:
    (existing, email), _ = _two_contacts(sandbox)
    before = len(sandbox.record_keys())
    answer = client.post(
        f"{CONTACTS}/batch/create",
        json={
            "inputs": [
                {"properties": {"email": "fresh@example.com"}, "associations": []},
                {"properties": {"email": email}, "associations": []},
            ]
        },
    )
    assert answer.status_code == 409
    assert answer.json()["category"] == "CONFLICT"
    assert answer.json()["message"] == f"Contact already exists. Existing ID: {existing}"
    assert len(sandbox.record_keys()) == before
    assert sandbox.contact("fresh@example.com") is None


def test_batch_create_makes_every_input(client: httpx.Client, sandbox: HubSpotSandbox) -> None:
    answer = client.post(
        f"{CONTACTS}/batch/create",
        json={
            "inputs": [
                {"properties": {"email": f"new.{i}@example.com", "firstname": "N"}, "associations": []}
                for i in range(3)
            ]
        },
    )
    assert answer.status_code == 201
    assert len(answer.json()["results"]) == 3
    assert all(sandbox.contact(f"new.{i}@example.com") for i in range(3))


def test_batch_read_by_email_and_missing_ids(client: httpx.Client, sandbox: HubSpotSandbox) -> None:
    (first, email), _ = _two_contacts(sandbox)
    answer = client.post(
        f"{CONTACTS}/batch/read",
        json={
            "idProperty": "email",
            "inputs": [{"id": email.upper()}, {"id": "nobody@example.com"}],
            "properties": ["email", "company"],
            "propertiesWithHistory": [],
        },
    )
    assert answer.status_code == 207
    body = answer.json()
    assert [r["id"] for r in body["results"]] == [first]
    assert body["results"][0]["properties"]["company"] is None
    assert body["errors"][0]["context"]["ids"] == ["nobody@example.com"]


def test_patch_by_email_and_to_an_email_another_contact_has(
    client: httpx.Client, sandbox: HubSpotSandbox
) -> None:
    (first, email), (second, other) = _two_contacts(sandbox)
    # WHEN a contact is patched by its email, then given the other contact's email
    patched = client.patch(
        f"{CONTACTS}/{email}", params={"idProperty": "email"}, json={"properties": {"city": "Oslo"}}
    )
    taken = client.patch(f"{CONTACTS}/{first}", json={"properties": {"email": other}})
    moved = client.patch(f"{CONTACTS}/{first}", json={"properties": {"email": "moved@example.com"}})
    # THEN the first works, the second is a conflict, and a free email moves the contact's address
    assert patched.status_code == 200
    assert patched.json()["properties"]["city"] == "Oslo"
    assert taken.status_code == 409
    assert moved.status_code == 200
    assert sandbox.contact(email) is None
    assert (sandbox.contact("moved@example.com") or {}).get("hs_object_id") == first
    assert (sandbox.contact(other) or {}).get("hs_object_id") == second


def test_create_refuses_read_only_and_unknown_properties(
    client: httpx.Client, sandbox: HubSpotSandbox
) -> None:
    read_only = client.post(
        CONTACTS, json={"properties": {"email": "ro@example.com", "hs_object_id": "5"}, "associations": []}
    )
    unknown = client.post(
        CONTACTS, json={"properties": {"email": "un@example.com", "no_such_thing": "x"}, "associations": []}
    )
    bad_email = client.post(CONTACTS, json={"properties": {"email": "not-an-email"}, "associations": []})
    assert read_only.status_code == unknown.status_code == bad_email.status_code == 400
    assert read_only.json()["errors"][0]["code"] == "READ_ONLY_VALUE"
    assert unknown.json()["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert sandbox.contact("ro@example.com") is None
    assert sandbox.contact("un@example.com") is None


def test_a_created_contact_is_listed_and_searchable(client: httpx.Client, sandbox: HubSpotSandbox) -> None:
    created = client.post(
        CONTACTS, json={"properties": {"email": "Listed@Example.com", "firstname": "Li"}, "associations": []}
    )
    assert created.status_code == 201
    record_id = created.json()["id"]
    assert created.json()["properties"]["email"] == "listed@example.com"
    found = client.post(
        f"{CONTACTS}/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": "listed@example.com"}]}
            ],
            "sorts": [],
            "properties": ["email"],
            "limit": 5,
            "after": "0",
        },
    )
    assert [r["id"] for r in found.json()["results"]] == [record_id]
    assert f"contact:{record_id}" in sandbox.record_keys()
