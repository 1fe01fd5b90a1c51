"""A merge undone from its history event, end to end on the local runtime: the real pull, merge,
push, profile API and privacy handlers, on the tools' sandboxes.

Two people are synced apart; a HubSpot contact of one of them gets the other's email as an additional
address (the accidental merge); the merge is found in the survivor's history through the profile API
and undone by the privacy function's ``split`` action. The absorbed customer's items are then, byte for
byte, what they were before the merge (its profile but for its version counter), and the survivor is
what its own records build.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.merge import DEFAULT_RULES, build_profile
from profilesync.demo import make_sandboxes
from profilesync.local import LocalRuntime
from tests.integration.functions.test_profiles import event, role_arn

PEOPLE = 30
SEED = 5
CONNECTORS = ("hubspot", "mailchimp", "shopify")
DPO = "arn:aws:iam::123456789012:user/dpo"


def items(rt: LocalRuntime, customer_id: str) -> dict[str, Any]:
    """The customer's items from PROFILE on (history and pushes aside), the profile's version and its
    add-only mark left out; and who owns each of its identifiers."""
    found = rt.dynamodb.query(
        TableName=rt.table_name,
        KeyConditionExpression="PK = :pk AND SK >= :p",
        ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer_id}"}, ":p": {"S": "PROFILE"}},
        ConsistentRead=True,
    )["Items"]
    out: dict[str, Any] = {}
    for item in found:
        sk = item["SK"]["S"]
        if sk.startswith("PUSHED#"):
            continue
        # The add-only mark (core.grow_mark) is a planning hint, not data: a restore writes none, and
        # the customer's next batch is planned in full and marks it again.
        kept = {k: v for k, v in item.items() if k not in ("version", "add_only")}
        if sk == "PROFILE" and "data" in kept:
            data = json.loads(kept["data"]["S"])
            data.pop("version")
            kept["data"] = json.dumps(data, sort_keys=True)
        out[sk] = kept
    owned = out.get("PROFILE", {}).get("owned", {}).get("SS", [])
    out["owners"] = {key: owner_of(rt, key) for key in owned}
    return out


def owner_of(rt: LocalRuntime, key: str) -> str | None:
    item = rt.dynamodb.get_item(
        TableName=rt.table_name, Key={"PK": {"S": f"IDENT#{key}"}, "SK": {"S": "IDENT"}}, ConsistentRead=True
    ).get("Item")
    return item["customer_id"]["S"] if item else None


def api(rt: LocalRuntime, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    """The profile API's answer to an admin, through the deployed handler."""
    if query is None:
        request = event("get_by_id", arn=role_arn("admin"), path=path)
    else:
        request = event("find_by_email", arn=role_arn("admin"), query=query)
    response = rt.invoke("ProfilesFunction", request)
    assert response["statusCode"] == 200, response
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


@pytest.fixture
def world() -> Any:
    with LocalRuntime(make_sandboxes(PEOPLE, SEED)) as rt:
        for name in CONNECTORS:
            assert rt.pull(name).status == "done"
        rt.settle()
        yield rt


def two_strangers(rt: LocalRuntime) -> tuple[str, str, str, str]:
    """A customer with a HubSpot contact (its id and the contact's record id), and a customer after it
    in id order with an email of its own (its id and that email): a merge keeps the first."""
    store = rt.wiring.profiles
    profiles = sorted(store.iter_profiles(), key=lambda p: p.customer_id)
    for x in profiles:
        hubspot = [s.key for s in x.sources if s.key.startswith("hubspot:contact:")]
        if len(hubspot) != 1:
            continue
        x_emails = {i.value for i in x.identifiers if i.kind == "email"}
        for y in profiles:
            y_emails = sorted(i.value for i in y.identifiers if i.kind == "email")
            if y.customer_id > x.customer_id and y_emails and not set(y_emails) & x_emails:
                return x.customer_id, hubspot[0].rpartition(":")[2], y.customer_id, y_emails[0]
    raise AssertionError("the population has no two such people")


def test_a_merge_split_from_its_history_event_restores_both_customers(world: LocalRuntime) -> None:
    rt = world
    survivor, contact_id, absorbed, email = two_strangers(rt)
    before = items(rt, absorbed)
    assert api(rt, "/profiles", {"email": email})["customer_id"] == absorbed
    # WHEN someone types the other person's address into the HubSpot contact, and it is synced
    hubspot = rt.sandboxes["hubspot"]
    with hubspot.lock:
        hubspot._contacts[contact_id].properties["hs_additional_emails"] = email
    hubspot.touch({f"contact:{contact_id}"})
    assert rt.pull("hubspot").status == "done"
    rt.settle()
    # THEN the two are merged, and the survivor's history (through the profile API) says so
    assert api(rt, "/profiles", {"email": email})["customer_id"] == survivor
    events = api(rt, f"/profiles/{survivor}/history")["history"]["events"]
    [merge] = [e for e in events if e["kind"] == "merge"]
    assert merge["customers"] == [absorbed]
    assert {"kind": "email", "value": email} in merge["identifiers"]
    assert merge["actor"].startswith("run:hubspot:")
    # WHEN the DPO splits from that event (the privacy function's action)
    answer = rt.invoke(
        "PrivacyFunction", {"action": "split", "event_id": merge["event_id"], "requested_by": DPO}
    )
    assert answer["ok"], answer
    assert (answer["survivor"], answer["restored"], answer["missing"]) == (survivor, absorbed, [])
    rt.settle()
    # THEN the absorbed customer is, byte for byte, what it was before the merge
    assert items(rt, absorbed) == before
    assert api(rt, "/profiles", {"email": email})["customer_id"] == absorbed
    # AND the survivor holds its own records, the HubSpot contact at its new version, and the profile
    # they build
    state = rt.wiring.profiles.get_customers([survivor])[survivor]
    assert all(key not in before for key in (f"SOURCE#{k}" for k in state.snapshots))
    assert state.profile is not None
    rebuilt = build_profile(survivor, state.snapshots.values(), DEFAULT_RULES, state.profile.version)
    assert rebuilt.model_dump_json() == state.profile.model_dump_json()
    # AND both histories name the split and who asked
    for cid, other in ((survivor, absorbed), (absorbed, survivor)):
        [split] = [
            e for e in api(rt, f"/profiles/{cid}/history")["history"]["events"] if e["kind"] == "split"
        ]
        assert (split["actor"], split["customers"]) == (DPO, [other])
