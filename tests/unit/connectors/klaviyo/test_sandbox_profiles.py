"""The sandbox's single-profile writes, sparse fieldsets and links answer as Klaviyo does where the
SDK tests do not look: duplicates, unknown ids, identifiers required, hosts honoured. Every exchange
is checked against Klaviyo's published spec (``CheckedKlaviyoSandbox``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import CheckedKlaviyoSandbox

HEADERS = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}


@pytest.fixture
def client(sandbox: CheckedKlaviyoSandbox) -> httpx.Client:
    return httpx.Client(
        transport=sandbox.transport(),
        base_url="https://a.klaviyo.com",
        headers={**HEADERS, "Authorization": f"Klaviyo-API-Key {sandbox.token}"},
    )


def _profile(sandbox: CheckedKlaviyoSandbox, n: int = 0) -> dict[str, Any]:
    with sandbox.lock:
        return dict([p for p in sandbox.profiles.values() if p.get("email")][n])


def _doc(attributes: dict[str, Any], profile_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "profile", "attributes": attributes}
    if profile_id is not None:
        data["id"] = profile_id
    return {"data": data}


def test_update_of_an_unknown_profile_is_404_and_creates_nobody(
    client: httpx.Client, sandbox: CheckedKlaviyoSandbox
) -> None:
    before = len(sandbox.profiles)
    answer = client.patch(
        "/api/profiles/01NOSUCHPROFILE", json=_doc({"email": "ghost@example.com"}, "01NOSUCHPROFILE")
    )
    assert answer.status_code == 404
    assert len(sandbox.profiles) == before
    assert not sandbox.holds("ghost@example.com")


def test_an_identifier_another_profile_has_is_a_duplicate(
    client: httpx.Client, sandbox: CheckedKlaviyoSandbox
) -> None:
    first, second = _profile(sandbox, 0), _profile(sandbox, 1)
    created = client.post("/api/profiles", json=_doc({"email": first["email"].upper()}))
    moved = client.patch(f"/api/profiles/{second['id']}", json=_doc({"email": first["email"]}, second["id"]))
    for answer in (created, moved):
        assert answer.status_code == 409
        error = answer.json()["errors"][0]
        assert error["code"] == "duplicate_profile"
        assert error["meta"]["duplicate_profile_id"] == first["id"]
    assert sandbox.profiles[second["id"]]["email"] == second["email"]


def test_a_profile_needs_an_identifier_and_well_formed_ones(
    client: httpx.Client, sandbox: CheckedKlaviyoSandbox
) -> None:
    before = len(sandbox.profiles)
    nothing = client.post("/api/profiles", json=_doc({"first_name": "Anon"}))
    bad_phone = client.post("/api/profiles", json=_doc({"phone_number": "0207 946 0018"}))
    unknown = client.post("/api/profiles", json=_doc({"email": "x@example.com", "shoe_size": 9}))
    assert [a.status_code for a in (nothing, bad_phone, unknown)] == [400, 400, 400]
    assert bad_phone.json()["errors"][0]["source"]["pointer"] == "/data/attributes/phone_number"
    assert len(sandbox.profiles) == before


def test_profile_import_updates_a_match_and_creates_otherwise(
    client: httpx.Client, sandbox: CheckedKlaviyoSandbox
) -> None:
    known = _profile(sandbox)
    updated = client.post(
        "/api/profile-import",
        json=_doc({"email": known["email"], "location": {"city": "Bergen"}, "properties": {"a": 1}}),
    )
    created = client.post(
        "/api/profile-import", json=_doc({"email": "imported@example.com", "first_name": "Im"})
    )
    assert updated.status_code == 200
    assert updated.json()["data"]["id"] == known["id"]
    assert updated.json()["data"]["attributes"]["location"]["city"] == "Bergen"
    # the rest of the location and the other properties stay: writes merge key by key
    assert updated.json()["data"]["attributes"]["location"]["country"] == known["location"]["country"]
    assert created.status_code == 201
    assert sandbox.holds("imported@example.com")


def test_sparse_fieldsets_keep_only_the_named_attributes(
    client: httpx.Client, sandbox: CheckedKlaviyoSandbox
) -> None:
    known = _profile(sandbox)
    listed = client.get(
        "/api/profiles", params={"fields[profile]": "email,location.country", "page[size]": "5"}
    )
    one = client.get(f"/api/profiles/{known['id']}", params={"fields[profile]": "first_name"})
    bad = client.get("/api/profiles", params={"fields[profile]": "shoe_size"})
    assert all(set(p["attributes"]) <= {"email", "location"} for p in listed.json()["data"])
    assert all(set(p["attributes"].get("location", {})) <= {"country"} for p in listed.json()["data"])
    assert one.json()["data"]["attributes"] == {"first_name": known["first_name"]}
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"]["parameter"] == "fields[profile]"


def test_links_follow_the_host_and_scheme_the_request_came_in_on(sandbox: CheckedKlaviyoSandbox) -> None:
    headers = {**HEADERS, "Authorization": f"Klaviyo-API-Key {sandbox.token}"}
    with httpx.Client(
        transport=sandbox.transport(), base_url="http://127.0.0.1:8123", headers=headers
    ) as local:
        first = local.get("/api/profiles", params={"page[size]": "3"}).json()
        # a client that sends the whole links.next back as the cursor (klaviyo-api does, over HTTP)
        second = local.get(
            "/api/profiles", params={"page[size]": "3", "page[cursor]": first["links"]["next"]}
        )
    assert first["links"]["next"].startswith("http://127.0.0.1:8123/api/profiles?")
    assert all(p["links"]["self"].startswith("http://127.0.0.1:8123/") for p in first["data"])
    assert second.status_code == 200
    assert not {p["id"] for p in first["data"]} & {p["id"] for p in second.json()["data"]}
