"""functions.identity_review against moto: records merged by the merge function with probabilistic
identity leave a pair in review; the function lists it, accepts it (the customers join at once, the
histories and an AUDIT#review item say who and why), rejects it (split again), and every DynamoDB
call it makes is one its role (template.yaml, IdentityReviewRole) allows on the keys it touches."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import replace
from typing import Any

import pytest

from core.config import IdentitySection, ProfileSyncConfig
from core.storage.ident_keys import ident_of
from functions import _wiring, identity_review, merge, pull
from functions._wiring import Wiring
from functions.identity_review import ReviewRequest
from profilesync.template import load_template
from tests.integration.functions.conftest import TABLE, Env, FakeContext, make_env

HANA = {"first_name": "Hana", "last_name": "Sato", "date_of_birth": "1992-11-30"}
ROWS = [
    {"id": 1, "email": "hana.sato@corp.jp", **HANA, "address": "8 Mill Lane", "postal_code": "M4 5JD"},
    {"id": 2, "email": "hanasato92@icloud.com", **HANA, "address": "40 Bridge St", "postal_code": "BS8 1TH"},
    {"id": 3, "email": "d.okafor@mail.com", "first_name": "David", "last_name": "Okafor"},
]


def _probabilistic_env(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]], page_size: int) -> Env:
    monkeypatch.setenv("IDENTITY_MODE", "probabilistic")
    env = make_env(monkeypatch, [dict(r) for r in rows], page_size=page_size)
    # The stack's document says identity.mode: probabilistic (the default model), as IdentityMode asks.
    settings = env.wiring.settings
    document = ProfileSyncConfig(
        connectors=dict(settings.connectors), identity=IdentitySection(mode="probabilistic")
    )
    env.wiring = Wiring(
        replace(settings, config=document),
        dynamodb=env.dynamodb,
        sqs=env.sqs,
        lambda_client=env.lambda_client,
    )
    _wiring.use(env.wiring)
    return env


@pytest.fixture
def hana(aws: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    """Hana's two records pulled and merged with probabilistic identity: two customers, one pair in review."""
    env = _probabilistic_env(monkeypatch, ROWS, page_size=10)
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():
        assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    return env


def _owners(env: Env) -> dict[str, str]:
    return {
        ident_of(i).removeprefix("source#"): i["customer_id"]["S"]
        for i in env.items()
        if i["PK"]["S"].startswith("IDENT#") and ident_of(i).startswith("source#")
    }


def _keys_of(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, partition key) for each item a DynamoDB call touches."""

    def pk(item: dict[str, Any]) -> str:
        return str(item["PK"]["S"])

    if operation in ("GetItem", "UpdateItem", "DeleteItem"):
        return [(operation, pk(params["Key"]))]
    if operation == "PutItem":
        return [(operation, pk(params["Item"]))]
    if operation == "BatchGetItem":
        return [(operation, pk(k)) for spec in params["RequestItems"].values() for k in spec["Keys"]]
    if operation == "BatchWriteItem":
        return [
            (operation, pk(r.get("PutRequest", {}).get("Item") or r["DeleteRequest"]["Key"]))
            for requests in params["RequestItems"].values()
            for r in requests
        ]
    if operation == "TransactWriteItems":
        # IAM authorises each action of a transaction as the action itself (PutItem, UpdateItem, ...).
        out = []
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(
                kind, "ConditionCheckItem"
            )
            out.append((action, pk(body.get("Item") or body["Key"])))
        return out
    if operation == "Query":
        names = {v: k for k, v in params.get("ExpressionAttributeNames", {}).items()}
        for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"]):
            if names.get("PK") == name or name == "PK":
                return [(operation, params["ExpressionAttributeValues"][placeholder]["S"])]
        raise AssertionError(f"a Query without a PK condition: {params['KeyConditionExpression']}")
    return [(operation, "*")]  # Scan and the rest: no statement allows them


def _allowed(action: str, key: str, role_name: str = "IdentityReviewRole") -> bool:
    role = load_template()["Resources"][role_name]["Properties"]["Policies"][0]["PolicyDocument"]
    for statement in role["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] != "Allow" or f"dynamodb:{action}" not in actions:
            continue
        leading = (
            statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        )
        if leading is None or any(fnmatch.fnmatchcase(key, pattern) for pattern in leading):
            return True
    return False


def _recording(env: Env, calls: list[tuple[str, str]], run: Any) -> Any:
    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.extend(_keys_of(model.name, params))

    events = env.dynamodb.meta.events
    events.register("provide-client-params.dynamodb.*", record)
    try:
        return run()
    finally:
        events.unregister("provide-client-params.dynamodb.*", record)


def _serve(env: Env, calls: list[tuple[str, str]], **event: Any) -> dict[str, Any]:
    answer: dict[str, Any] = _recording(env, calls, lambda: identity_review.handler(event, FakeContext()))
    return answer


def test_list_accept_reject_through_the_function_within_its_role(hana: Env) -> None:
    env = hana
    calls: list[tuple[str, str]] = []
    owners = _owners(env)
    crm, shop = sorted(k for k in owners if k.endswith((":1", ":2")))
    assert owners[crm] != owners[shop]
    # GIVEN the pair waiting WHEN the queue is listed
    listed = _serve(env, calls, action="list")
    assert listed["ok"] is True
    pair = next(p for p in listed["pending"] if set(p["records"]) == {crm, shop})
    assert pair["fields"]
    assert 0.8 <= pair["score"] < 0.99
    # WHEN it is accepted
    answer = _serve(
        env,
        calls,
        action="accept",
        pair=pair["pair"],
        requested_by="arn:aws:iam::1:user/ana",
        reason="same person",
    )
    # THEN the two records are one customer at once, and the audit and the history say who
    assert answer["ok"] is True
    assert answer["together"] is True
    owners = _owners(env)
    assert owners[crm] == owners[shop]
    items = env.items()
    audits = [i for i in items if i["PK"]["S"] == "AUDIT#review"]
    assert [a["requested_by"]["S"] for a in audits] == ["arn:aws:iam::1:user/ana"]
    history = [
        i for i in items if i["PK"]["S"] == f"CUSTOMER#{owners[crm]}" and i["SK"]["S"].startswith("HISTORY#")
    ]
    assert any("review_accepted" in str(i) and "same person" in str(i) for i in history)
    assert pair["pair"] not in [p["pair"] for p in _serve(env, calls, action="list")["pending"]]
    # WHEN it is rejected after all THEN the customer is split again
    answer = _serve(env, calls, action="reject", pair=pair["pair"], requested_by="lead", reason="twins")
    assert answer["ok"] is True
    assert answer["split_off"]
    owners = _owners(env)
    assert owners[crm] != owners[shop]
    # AND every call the function made is one its role allows on that key (least privilege)
    assert calls
    refused = sorted({(a, k.split("#")[0]) for a, k in calls if not _allowed(a, k)})
    assert refused == []
    assert {k.split("#")[0] for _, k in calls} >= {"REVIEW", "CUSTOMER", "IDENT", "AUDIT"}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"action": "accept", "pair": "0" * 32}, "requested_by"),
        ({"action": "accept", "requested_by": "ana"}, "needs pair"),
        ({"action": "accept", "pair": "xyz", "requested_by": "ana"}, "pair"),
        ({"action": "list", "limit": 0}, "limit"),
        ({"action": "merge-everyone"}, "action"),
        ({"action": "accept", "pair": "0" * 32, "requested_by": "ana"}, "no review pair"),
    ],
)
def test_requests_that_cannot_be_served_are_refused_and_change_nothing(
    hana: Env, event: dict[str, Any], message: str
) -> None:
    before = hana.items()
    answer = identity_review.handler(event, FakeContext())
    assert answer["ok"] is False
    assert message in answer["error"]
    assert sorted(map(str, hana.items())) == sorted(map(str, before))


def test_an_exact_identity_stack_has_no_queue_to_decide(hana: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_MODE", "exact")
    pending = identity_review.handler({"action": "list"}, FakeContext())["pending"]
    answer = identity_review.handler(
        {"action": "accept", "pair": pending[0]["pair"], "requested_by": "ana"}, FakeContext()
    )
    assert answer["ok"] is False
    assert "IdentityMode" in answer["error"]
    assert ReviewRequest(action="list").limit == 50


def test_a_decision_that_lost_to_a_new_version_is_answered_as_outdated(
    hana: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_race8_decide_interleavings import another_version_before_the_write

    # GIVEN the pair in review, and a version of its second record that moves away (another surname
    # and address) stored by another worker as the decision is taken
    pair = identity_review.handler({"action": "list"}, FakeContext())["pending"][0]
    another_version_before_the_write(monkeypatch, {"last_name": "Tanaka", "address": "3 Quay Street"})
    # WHEN a person accepts it
    event = {"action": "accept", "pair": pair["pair"], "requested_by": "ana"}
    answer = identity_review.handler(event, FakeContext())
    # THEN the answer says the decision was outdated, not applied, and the pair waits no more
    assert (answer["ok"], answer["outdated"], answer["pending_again"]) == (False, True, False)
    assert "was not applied" in answer["error"]
    owners = _owners(hana)
    assert owners[pair["records"][0]] != owners[pair["records"][1]]
    assert identity_review.handler({"action": "list"}, FakeContext())["pending"] == []
    # AND nothing was audited: no decision was made
    assert not [i for i in hana.items() if i["PK"]["S"].startswith("AUDIT#review")]


def test_the_export_explains_the_link_graph(hana: Env) -> None:
    from functions import privacy

    # GIVEN the pair accepted WHEN Hana is exported by her shop email
    pair = identity_review.handler({"action": "list"}, FakeContext())["pending"][0]
    identity_review.handler({"action": "accept", "pair": pair["pair"], "requested_by": "ana"}, FakeContext())
    calls: list[tuple[str, str]] = []
    event = {"action": "export", "email": "hanasato92@icloud.com", "requested_by": "dpo"}
    answer = _recording(hana, calls, lambda: privacy.handler(event, FakeContext()))
    # THEN the export holds the explanation: both records, the accepted review as the edge joining them
    assert answer["ok"] is True
    identity = answer["identity"]
    assert identity["mode"] == "probabilistic"
    assert sorted(identity["records"]) == sorted(pair["records"])
    assert [e["kind"] for e in identity["edges"]] == ["review"]
    assert "accepted by ana" in identity["edges"][0]["reason"]
    # AND the export read the index and the review items as the privacy role allows
    assert {k.split("#")[0] for _, k in calls} >= {"BLOCK", "REVIEW"}
    assert sorted({(a, k.split("#")[0]) for a, k in calls if not _allowed(a, k, "PrivacyRole")}) == []
    assert TABLE


def test_merge_with_probabilistic_identity_stays_within_its_role(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Hana's CRM record, her shop record with a phone, then a record holding the CRM's email
    # and that phone, each in a message of its own (so the third merges two customers, and the
    # survivor inherits a history)
    phone = "+44 20 7946 0018"
    rows = [ROWS[0], {**ROWS[1], "phone": phone}, {"id": 4, "email": "hana.sato@corp.jp", "phone": phone}]
    env = _probabilistic_env(monkeypatch, rows, page_size=1)
    pull.handler({"connector": "fake"}, FakeContext())
    calls: list[tuple[str, str]] = []
    for message in env.receive():
        event = env.sqs_event([message])
        answer = _recording(env, calls, lambda e=event: merge.handler(e, FakeContext()))
        assert answer == {"batchItemFailures": []}
    owners = _owners(env)
    assert len(set(owners.values())) == 1
    # THEN every call merge made (the index, the reviews, the inherited history) is one MergeRole allows
    assert {k.split("#")[0] for _, k in calls} >= {"BLOCK", "CUSTOMER", "IDENT"}
    assert ("BatchWriteItem", "CUSTOMER") in {(a, k.split("#")[0]) for a, k in calls}
    assert sorted({(a, k.split("#")[0]) for a, k in calls if not _allowed(a, k, "MergeRole")}) == []


def test_the_profile_api_explains_an_accepted_review_within_its_role(hana: Env) -> None:
    from functions import _governance
    from tests.integration.functions.test_profiles import call, event, role_arn

    # GIVEN the pair accepted (one customer, joined by the reviewer's decision only)
    pair = identity_review.handler({"action": "list"}, FakeContext())["pending"][0]
    identity_review.handler({"action": "accept", "pair": pair["pair"], "requested_by": "ana"}, FakeContext())
    customer = _owners(hana)[pair["records"][0]]
    _governance.use(None)  # built afresh, with this stack's identity settings
    try:
        # WHEN an admin asks the profile API why the customer's records are one customer
        calls: list[tuple[str, str]] = []
        request = event("get_by_id", arn=role_arn("admin"), path=f"/profiles/{customer}/explain")
        status, answer = _recording(hana, calls, lambda: call(request))
    finally:
        _governance.use(None)
    # THEN the answer is one connected group, by the accepted review
    assert status == 200
    assert answer["explain"]["connected"] is True
    assert [link["kind"] for link in answer["explain"]["links"]] == ["review"]
    # AND the function read only what ProfilesRole allows (the index and the review items among it)
    assert {k.split("#")[0] for _, k in calls} >= {"REVIEW"}
    assert sorted({(a, k.split("#")[0]) for a, k in calls if not _allowed(a, k, "ProfilesRole")}) == []
