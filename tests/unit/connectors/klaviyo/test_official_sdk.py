"""Klaviyo's own Python SDK (klaviyo-api) against the served sandbox: the calls an SDK user makes
most, each answered in Klaviyo's shapes (every exchange is checked against the published spec).

One test per SDK call; together with the other vendors' ``test_official_sdk.py`` they are the matrix
that says how many common SDK calls the sandboxes serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.klaviyo import KlaviyoSandbox
from profilesync.testing.specs import OpenApiSpec
from tests.unit.connectors.served import Served, served

from .conftest import OUTSIDE_THE_SPEC, SPEC

klaviyo_api = pytest.importorskip("klaviyo_api")
ApiException = pytest.importorskip("openapi_client.exceptions").ApiException


def _check(request: httpx.Request, response: httpx.Response) -> None:
    if not request.url.path.rstrip("/").endswith(OUTSIDE_THE_SPEC):
        OpenApiSpec.load(SPEC).validate_httpx(request, response)


@pytest.fixture
def sandbox() -> KlaviyoSandbox:
    return KlaviyoSandbox(people=40, seed=7)


@pytest.fixture
def server(sandbox: KlaviyoSandbox) -> Iterator[Served]:
    with served(sandbox, _check) as running:
        yield running
        running.assert_clean()


@pytest.fixture
def client(server: Served) -> Any:
    # max_retries=0: a 429 or 5xx must fail the test, not be retried away by the SDK.
    return klaviyo_api.KlaviyoAPI(server.sandbox.token, max_retries=0, test_host=server.url)


def _as_dict(answer: Any) -> dict[str, Any]:
    """The SDK answers pydantic models or plain dicts depending on its options; compare dicts."""
    return answer if isinstance(answer, dict) else answer.to_dict()


def _profile(sandbox: KlaviyoSandbox) -> dict[str, Any]:
    with sandbox.lock:
        return dict(next(p for p in sandbox.profiles.values() if p.get("email")))


def test_get_profiles_pages_by_links_next(client: Any, server: Served) -> None:
    # WHEN the first page is read, then the page its links.next names
    first = _as_dict(client.Profiles.get_profiles(page_size=5))
    assert first["links"]["next"].startswith(server.url + "/api/profiles")  # the host it was asked on
    second = _as_dict(client.Profiles.get_profiles(page_size=5, page_cursor=first["links"]["next"]))
    # THEN both are full and distinct
    assert len(first["data"]) == 5
    assert len(second["data"]) == 5
    assert not {p["id"] for p in first["data"]} & {p["id"] for p in second["data"]}


def test_get_profiles_sparse_fieldset(client: Any) -> None:
    page = _as_dict(client.Profiles.get_profiles(page_size=3, fields_profile=["email", "first_name"]))
    assert all(set(p["attributes"]) <= {"email", "first_name"} for p in page["data"])
    assert any(p["attributes"].get("email") for p in page["data"])


def test_get_profiles_filter_by_email(client: Any, sandbox: KlaviyoSandbox) -> None:
    wanted = _profile(sandbox)
    page = _as_dict(client.Profiles.get_profiles(filter=f'equals(email,"{wanted["email"]}")'))
    assert [p["id"] for p in page["data"]] == [wanted["id"]]


def test_get_profiles_with_subscriptions(client: Any) -> None:
    page = _as_dict(client.Profiles.get_profiles(page_size=3, additional_fields_profile=["subscriptions"]))
    assert all("subscriptions" in p["attributes"] for p in page["data"])


def test_get_profile(client: Any, sandbox: KlaviyoSandbox) -> None:
    wanted = _profile(sandbox)
    got = _as_dict(client.Profiles.get_profile(wanted["id"]))
    assert got["data"]["id"] == wanted["id"]
    assert got["data"]["attributes"]["email"] == wanted["email"]


def test_create_profile(client: Any, sandbox: KlaviyoSandbox) -> None:
    created = _as_dict(
        client.Profiles.create_profile(
            {
                "data": {
                    "type": "profile",
                    "attributes": {"email": "sdk.create@example.com", "first_name": "Ada"},
                }
            }
        )
    )
    assert created["data"]["attributes"]["first_name"] == "Ada"
    assert sandbox.holds("sdk.create@example.com")


def test_create_profile_refuses_a_duplicate(client: Any, sandbox: KlaviyoSandbox) -> None:
    wanted = _profile(sandbox)
    with pytest.raises(ApiException) as caught:
        client.Profiles.create_profile(
            {"data": {"type": "profile", "attributes": {"email": wanted["email"]}}}
        )
    assert caught.value.status == 409


def test_update_profile(client: Any, sandbox: KlaviyoSandbox) -> None:
    wanted = _profile(sandbox)
    body = {
        "data": {
            "type": "profile",
            "id": wanted["id"],
            "attributes": {"title": "Buyer", "properties": {"plan": "gold"}},
        }
    }
    updated = _as_dict(client.Profiles.update_profile(wanted["id"], body))
    assert updated["data"]["attributes"]["title"] == "Buyer"
    assert sandbox.profiles[wanted["id"]]["properties"]["plan"] == "gold"
    assert sandbox.profiles[wanted["id"]]["email"] == wanted["email"]


def test_create_or_update_profile_through_profile_import(client: Any, sandbox: KlaviyoSandbox) -> None:
    wanted = _profile(sandbox)
    upserted = _as_dict(
        client.Profiles.create_or_update_profile(
            {"data": {"type": "profile", "attributes": {"email": wanted["email"], "organization": "Acme"}}}
        )
    )
    assert upserted["data"]["id"] == wanted["id"]
    assert sandbox.profiles[wanted["id"]]["organization"] == "Acme"


def test_bulk_import_profiles_and_read_the_job(client: Any, sandbox: KlaviyoSandbox) -> None:
    job = _as_dict(
        client.Profiles.bulk_import_profiles(
            {
                "data": {
                    "type": "profile-bulk-import-job",
                    "attributes": {
                        "profiles": {
                            "data": [{"type": "profile", "attributes": {"email": "sdk.bulk@example.com"}}]
                        }
                    },
                }
            }
        )
    )
    read = _as_dict(client.Profiles.get_bulk_import_profiles_job(job["data"]["id"]))
    assert read["data"]["attributes"]["status"] == "complete"
    assert sandbox.holds("sdk.bulk@example.com")
