"""Mailchimp's own Python SDK (mailchimp-marketing) against the served sandbox: the calls an SDK user
makes most, each answered in Mailchimp's shapes (every answer is checked against the published spec).

One test per SDK call; together with the other vendors' ``test_official_sdk.py`` they are the matrix
that says how many common SDK calls the sandboxes serve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.mailchimp import MailchimpSandbox, make_sandbox
from connectors.mailchimp._mapping import subscriber_hash
from profilesync.testing.specs import OpenApiSpec
from tests.unit.connectors.served import Served, served

from .conftest import SPEC_FILE, as_published

mailchimp_marketing = pytest.importorskip("mailchimp_marketing")
ApiClientError = pytest.importorskip("mailchimp_marketing.api_client").ApiClientError


def _check(request: httpx.Request, response: httpx.Response) -> None:
    spec = OpenApiSpec.load(SPEC_FILE)
    if not response.content:
        spec.validate_httpx(request, response, check_request=False)
        return
    body = json.loads(response.content)
    spec.validate_response(request.method, request.url.path, response.status_code, as_published(body))


@pytest.fixture
def sandbox() -> MailchimpSandbox:
    return make_sandbox(people=40, seed=7)


@pytest.fixture
def server(sandbox: MailchimpSandbox) -> Iterator[Served]:
    with served(sandbox, _check) as running:
        yield running
        running.assert_clean()


@pytest.fixture
def client(server: Served) -> Any:
    sandbox: MailchimpSandbox = server.sandbox
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": sandbox.token, "server": sandbox.dc})
    client.api_client.host = f"{server.url}/3.0"
    return client


def _member(sandbox: MailchimpSandbox, status: str = "subscribed") -> dict[str, Any]:
    with sandbox.lock:
        return dict(next(m for m in sandbox.members.values() if m["status"] == status))


def test_ping(client: Any) -> None:
    assert client.ping.get() == {"health_status": "Everything's Chimpy!"}


def test_get_all_lists_lists_the_audience(client: Any, sandbox: MailchimpSandbox) -> None:
    answer = client.lists.get_all_lists()
    assert answer["total_items"] == 1
    assert [a["id"] for a in answer["lists"]] == [sandbox.list_id]


def test_get_list_is_the_audience_with_its_real_keys_and_stats(
    client: Any, sandbox: MailchimpSandbox
) -> None:
    audience = client.lists.get_list(sandbox.list_id)
    with sandbox.lock:
        statuses = [m["status"] for m in sandbox.members.values()]
    # THEN the audience object has the keys Mailchimp documents, and stats counted from the members
    for key in (
        "id",
        "web_id",
        "name",
        "contact",
        "permission_reminder",
        "campaign_defaults",
        "date_created",
        "list_rating",
        "subscribe_url_short",
        "visibility",
        "double_optin",
        "stats",
    ):
        assert key in audience, key
    stats = audience["stats"]
    assert stats["member_count"] == statuses.count("subscribed")
    assert stats["unsubscribe_count"] == statuses.count("unsubscribed")
    assert stats["cleaned_count"] == statuses.count("cleaned")
    assert {"campaign_count", "open_rate", "click_rate", "last_sub_date", "avg_sub_rate"} <= set(stats)


def test_get_list_members_info_pages(client: Any, sandbox: MailchimpSandbox) -> None:
    first = client.lists.get_list_members_info(sandbox.list_id, count=5)
    second = client.lists.get_list_members_info(sandbox.list_id, count=5, offset=5)
    assert len(first["members"]) == 5
    assert len(second["members"]) == 5
    assert first["total_items"] == len(sandbox.members)
    assert not {m["id"] for m in first["members"]} & {m["id"] for m in second["members"]}


def test_get_list_member_by_hash(client: Any, sandbox: MailchimpSandbox) -> None:
    member = _member(sandbox)
    got = client.lists.get_list_member(sandbox.list_id, member["id"])
    assert got["email_address"] == member["email_address"]
    assert got["status"] == "subscribed"


def test_add_list_member_subscribes_a_new_address(client: Any, sandbox: MailchimpSandbox) -> None:
    added = client.lists.add_list_member(
        sandbox.list_id,
        {"email_address": "sdk.add@example.com", "status": "subscribed", "merge_fields": {"FNAME": "Ada"}},
    )
    assert added["id"] == subscriber_hash("sdk.add@example.com")
    assert added["status"] == "subscribed"
    assert sandbox.holds("sdk.add@example.com")
    with pytest.raises(ApiClientError) as caught:  # a second add is "Member Exists"
        client.lists.add_list_member(
            sandbox.list_id, {"email_address": "sdk.add@example.com", "status": "subscribed"}
        )
    assert caught.value.status_code == 400
    assert "Member Exists" in caught.value.text


def test_set_list_member_adds_or_updates(client: Any, sandbox: MailchimpSandbox) -> None:
    # WHEN a new address is PUT with status_if_new, then PUT again with a new merge field
    email = "sdk.put@example.com"
    first = client.lists.set_list_member(
        sandbox.list_id, subscriber_hash(email), {"email_address": email, "status_if_new": "subscribed"}
    )
    again = client.lists.set_list_member(
        sandbox.list_id,
        subscriber_hash(email),
        {"email_address": email, "status_if_new": "unsubscribed", "merge_fields": {"LNAME": "Stone"}},
    )
    # THEN the first created it (status_if_new), the second updated it and kept its status
    assert first["status"] == "subscribed"
    assert again["status"] == "subscribed"
    assert again["merge_fields"]["LNAME"] == "Stone"
    assert again["id"] == first["id"]


def test_update_list_member_patches_one_field(client: Any, sandbox: MailchimpSandbox) -> None:
    member = _member(sandbox)
    patched = client.lists.update_list_member(
        sandbox.list_id, member["id"], {"merge_fields": {"FNAME": "Patched"}}
    )
    assert patched["merge_fields"]["FNAME"] == "Patched"
    assert patched["status"] == member["status"]
    assert patched["merge_fields"]["LNAME"] == member["merge_fields"].get("LNAME", "")


def test_update_list_member_moves_a_member_to_a_new_address_keeping_her_contact_id(
    client: Any, sandbox: MailchimpSandbox
) -> None:
    # GIVEN a member
    member = _member(sandbox)
    # WHEN her address is changed (PATCH with email_address, as the spec's request body allows)
    moved = client.lists.update_list_member(
        sandbox.list_id, member["id"], {"email_address": "Moved.On@Example.com"}
    )
    # THEN she has the new address's hash as her id, and the same contact id
    assert moved["email_address"] == "Moved.On@Example.com"
    assert moved["id"] == subscriber_hash("moved.on@example.com") != member["id"]
    assert moved["contact_id"] == member["contact_id"]
    assert moved["unique_email_id"] != member["unique_email_id"]
    assert moved["last_changed"] >= member["last_changed"]
    # AND her old id names nobody, while the path takes her new id, her address or her contact id
    with pytest.raises(ApiClientError) as gone:
        client.lists.get_list_member(sandbox.list_id, member["id"])
    assert gone.value.status_code == 404
    for key in (moved["id"], "moved.on@example.com", member["contact_id"]):
        assert client.lists.get_list_member(sandbox.list_id, key)["contact_id"] == member["contact_id"]
    # AND the audience still holds one member for her
    listed = client.lists.get_list_members_info(sandbox.list_id, count=1000)["members"]
    assert [m["id"] for m in listed if m["contact_id"] == member["contact_id"]] == [moved["id"]]


def test_update_list_member_to_an_address_another_member_has_is_member_exists(
    client: Any, sandbox: MailchimpSandbox
) -> None:
    # GIVEN two members
    with sandbox.lock:
        first, second = (dict(m) for m in list(sandbox.members.values())[:2])
    # WHEN one is moved to the other's address, or moved by PUT
    with pytest.raises(ApiClientError) as taken:
        client.lists.update_list_member(
            sandbox.list_id, first["id"], {"email_address": second["email_address"]}
        )
    with pytest.raises(ApiClientError) as by_put:
        client.lists.set_list_member(
            sandbox.list_id, first["id"], {"email_address": "else@example.com", "status_if_new": "subscribed"}
        )
    # THEN both are refused and nobody changed
    assert taken.value.status_code == 400
    assert json.loads(taken.value.text)["title"] == "Member Exists"
    assert by_put.value.status_code == 400
    with sandbox.lock:
        assert sandbox.members[first["id"]]["email_address"] == first["email_address"]
        assert sandbox.members[second["id"]]["email_address"] == second["email_address"]


def test_batch_list_members(client: Any, sandbox: MailchimpSandbox) -> None:
    answer = client.lists.batch_list_members(
        sandbox.list_id,
        {
            "members": [{"email_address": "sdk.batch@example.com", "status": "subscribed"}],
            "update_existing": True,
        },
    )
    assert answer["total_created"] == 1
    assert answer["error_count"] == 0


def test_merge_fields_number_values_are_numbers(client: Any, sandbox: MailchimpSandbox) -> None:
    # GIVEN a number merge field made through the SDK
    field = client.lists.add_list_merge_field(
        sandbox.list_id, {"name": "Score", "type": "number", "tag": "SCORE"}
    )
    listed = client.lists.get_list_merge_fields(sandbox.list_id, count=50)
    assert "SCORE" in {f["tag"] for f in listed["merge_fields"]}
    assert field["type"] == "number"
    # WHEN a member is given "12.5" in it
    member = _member(sandbox)
    client.lists.update_list_member(sandbox.list_id, member["id"], {"merge_fields": {"SCORE": "12.5"}})
    # THEN Mailchimp answers it as the number 12.5
    got = client.lists.get_list_member(sandbox.list_id, member["id"])
    assert got["merge_fields"]["SCORE"] == 12.5


def test_delete_list_member_archives_and_the_list_shows_it_archived(
    client: Any, sandbox: MailchimpSandbox
) -> None:
    # GIVEN a subscriber archived through the SDK (DELETE .../members/{hash}, 204)
    wanted = _member(sandbox)
    client.lists.delete_list_member(sandbox.list_id, wanted["id"])
    # WHEN the SDK lists the archived members (every answer checked against Mailchimp's spec)
    answer = client.lists.get_list_members_info(sandbox.list_id, status="archived", count=1000)
    # THEN the member is listed with status "archived", its last_changed moved, and it is no longer
    # in the audience as the contract counts it
    (found,) = [m for m in answer["members"] if m["id"] == wanted["id"]]
    assert found["status"] == "archived"
    assert found["last_changed"] >= wanted["last_changed"]
    assert not sandbox.holds(wanted["email_address"])
