"""The sandbox's single-member writes and typed merge fields answer as Mailchimp does where the SDK
tests do not look: PATCH never adds, compliance states hold, deleted addresses stay deleted, numbers
are numbers. Every exchange is checked against Mailchimp's published spec."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.mailchimp import MailchimpSandbox
from connectors.mailchimp._mapping import subscriber_hash

from .conftest import SpecChecked


@pytest.fixture
def client(sandbox: MailchimpSandbox, checked: SpecChecked) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(checked),
        base_url=f"https://{sandbox.dc}.api.mailchimp.com/3.0/lists/{sandbox.list_id}",
        auth=("anystring", sandbox.token),
    )


def _member(sandbox: MailchimpSandbox, status: str) -> dict[str, Any]:
    with sandbox.lock:
        return dict(next(m for m in sandbox.members.values() if m["status"] == status))


def test_patch_of_an_address_not_on_the_list_is_404_and_adds_nobody(
    client: httpx.Client, sandbox: MailchimpSandbox
) -> None:
    before = len(sandbox.members)
    answer = client.patch(f"/members/{subscriber_hash('nobody@example.com')}", json={"status": "subscribed"})
    assert answer.status_code == 404
    assert answer.json()["title"] == "Resource Not Found"
    assert len(sandbox.members) == before
    assert not sandbox.holds("nobody@example.com")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_unsubscribed_member_cannot_be_subscribed_again(
    client: httpx.Client, sandbox: MailchimpSandbox, method: str
) -> None:
    member = _member(sandbox, "unsubscribed")
    body = {"email_address": member["email_address"], "status_if_new": "subscribed", "status": "subscribed"}
    answer = client.request(method, f"/members/{member['id']}", json=body)
    assert answer.status_code == 400
    assert answer.json()["title"] == "Member In Compliance State"
    assert sandbox.members[member["id"]]["status"] == "unsubscribed"


def test_a_permanently_deleted_address_cannot_be_added_again(
    client: httpx.Client, sandbox: MailchimpSandbox
) -> None:
    member = _member(sandbox, "subscribed")
    assert client.post(f"/members/{member['id']}/actions/delete-permanent").status_code == 204
    again = client.post("/members", json={"email_address": member["email_address"], "status": "subscribed"})
    assert again.status_code == 400
    assert again.json()["title"] == "Forgotten Email Not Subscribed"
    assert not sandbox.holds(member["email_address"])


def test_put_needs_status_if_new_for_a_new_address_and_the_hash_of_that_address(
    client: httpx.Client, sandbox: MailchimpSandbox
) -> None:
    email = "put.new@example.com"
    # (sent around the spec check: the request itself is what the spec forbids)
    unchecked = httpx.Client(transport=sandbox.transport(), base_url=client.base_url, auth=client.auth)
    missing = unchecked.put(f"/members/{subscriber_hash(email)}", json={"email_address": email})
    mismatched = client.put(
        f"/members/{subscriber_hash('other@example.com')}",
        json={"email_address": email, "status_if_new": "pending"},
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "status_if_new"
    assert mismatched.status_code == 400
    assert not sandbox.holds(email)


def test_number_merge_fields_are_stored_and_answered_as_numbers(
    client: httpx.Client, sandbox: MailchimpSandbox
) -> None:
    # GIVEN number merge fields (as push creates them)
    for tag in ("PSLTV", "PSORDERS"):
        assert (
            client.post("/merge-fields", json={"tag": tag, "name": tag, "type": "number"}).status_code == 200
        )
    member = _member(sandbox, "subscribed")
    # WHEN a member gets them as text, through batch subscribe
    answer = client.post(
        "",
        json={
            "members": [
                {
                    "email_address": member["email_address"],
                    "status": "subscribed",
                    "merge_fields": {"PSLTV": "120.50", "PSORDERS": "3"},
                }
            ],
            "update_existing": True,
        },
    )
    assert answer.json()["error_count"] == 0
    changed = sandbox.members[member["id"]]["last_changed"]
    got = client.get(f"/members/{member['id']}").json()
    # THEN Mailchimp answers numbers
    assert got["merge_fields"]["PSLTV"] == 120.5
    assert got["merge_fields"]["PSORDERS"] == 3
    # AND the same values sent again change nothing (the member's last_changed stays)
    sandbox.clock.advance(5)
    client.patch(f"/members/{member['id']}", json={"merge_fields": {"PSLTV": "120.5", "PSORDERS": 3}})
    assert sandbox.members[member["id"]]["last_changed"] == changed
    # AND text in a number field is refused with the field named
    bad = client.patch(f"/members/{member['id']}", json={"merge_fields": {"PSLTV": "lots"}})
    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"field": "PSLTV", "message": "Please enter a number"}]


def test_the_audience_stats_follow_the_members(client: httpx.Client, sandbox: MailchimpSandbox) -> None:
    before = client.get("", params={"include_total_contacts": "true"}).json()["stats"]
    client.post("/members", json={"email_address": "stats.new@example.com", "status": "subscribed"})
    client.patch(f"/members/{_member(sandbox, 'subscribed')['id']}", json={"status": "unsubscribed"})
    after = client.get("", params={"include_total_contacts": "true"}).json()["stats"]
    assert after["total_contacts"] == before["total_contacts"] + 1
    assert after["member_count"] == before["member_count"]
    assert after["unsubscribe_count"] == before["unsubscribe_count"] + 1
    assert "total_contacts" not in client.get("").json()["stats"]
