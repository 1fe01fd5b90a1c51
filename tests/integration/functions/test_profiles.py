"""functions.profiles against moto, driven by API Gateway (HTTP API, payload 2.0) sample events:
the signer's role decides the answer, every answer is audited, the local role header is refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.governance.history import HistoryEvent, event_id_for
from core.identity import customer_id_for
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_history import DynamoDBHistoryStore
from core.testing.records import T0, make_record
from functions import _governance, _wiring, profiles
from functions._wiring import Settings, Wiring
from profilesync.template import create_table
from tests.integration.functions.conftest import FakeContext, client

EVENTS = Path(__file__).resolve().parents[2] / "events" / "profiles"
TABLE = "profilesync-test-profiles"
ANN = customer_id_for("hubspot:contact:1")


def event(
    name: str, *, arn: str | None = None, path: str | None = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    shaped = copy.deepcopy(loaded)
    if arn is not None:
        shaped["requestContext"]["authorizer"]["iam"]["userArn"] = arn
    if path is not None:
        shaped["rawPath"] = shaped["requestContext"]["http"]["path"] = path
        shaped["pathParameters"] = {"customer_id": path.split("/")[2]}
    if query is not None:
        shaped["queryStringParameters"] = query
        shaped["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return shaped


def role_arn(role: str) -> str:
    return f"arn:aws:sts::123456789012:assumed-role/profilesync-{role}/someone"


def call(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = profiles.handler(request, FakeContext(function_name="profilesync-test-profiles"))
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def table(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # The function keys identifier items with the stack's audit salt (core.storage.ident_keys).
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "profiles-salt")
    dynamodb = client("dynamodb")
    create_table(dynamodb, TABLE)
    ingest(
        [
            make_record(
                "hubspot", "1", email="ann.lee@example.com", traits={"first_name": "Ann", "last_name": "Lee"}
            ),
            make_record("shopify", "2", email="ann.lee@example.com", phone="+442079460018"),
        ],
        DynamoDBProfileStore(dynamodb, TABLE, read_workers=1, salt="profiles-salt"),
        IngestSettings(sleep=lambda _: None),
    )
    _wiring.use(Wiring(Settings(table_name=TABLE), dynamodb=dynamodb))
    _governance.use(None)
    yield dynamodb
    _governance.use(None)


def reads(dynamodb: Any, customer: str = ANN) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"READ#{customer}"}},
    )["Items"]
    return items


def test_support_finds_a_person_by_email_as_they_type_it_and_the_read_is_audited(table: Any) -> None:
    # GIVEN a request signed by a support role, the email in another letter case
    status, body = call(event("find_by_email"))
    # THEN Ann is found, with her contact details and sources
    assert status == 200
    assert body["customer_id"] == ANN
    emails = [i for i in body["profile"]["identifiers"] if i["kind"] == "email"]
    assert emails == [{"kind": "email", "value": "ann.lee@example.com"}]
    assert len(body["sources"]) == 2
    # AND the read is recorded: who, which customer, which fields, by lookup kind only
    [item] = reads(table)
    assert item["principal"]["S"] == "arn:aws:sts::123456789012:assumed-role/profilesync-support/ann"
    assert (item["role"]["S"], item["route"]["S"], item["lookup"]["S"]) == ("support", "profile", "email")
    assert {"S": "identifiers.email"} in item["fields"]["L"]
    assert "ann.lee" not in json.dumps(item)
    assert int(item["expires_at"]["N"]) > 0


def test_marketing_sees_that_an_email_exists_but_not_which(table: Any) -> None:
    status, body = call(event("get_by_id", path=f"/profiles/{ANN}"))
    assert status == 200
    identifiers = body["profile"]["identifiers"]
    assert {"kind": "email", "value": "a***@example.com", "masked": True} in identifiers
    assert {"kind": "phone", "value": "***0018", "masked": True} in identifiers
    assert body["profile"]["traits"]["last_name"] == {
        "value": "***",
        "masked": True,
        "source": "hubspot:contact",
        "updated_at": T0.isoformat(),
    }
    assert "sources" not in body
    assert "ann.lee" not in json.dumps(body)


def test_a_caller_in_no_role_reads_nothing_and_leaves_no_read(table: Any) -> None:
    status, body = call(event("find_by_email", arn="arn:aws:sts::123456789012:assumed-role/intern/x"))
    assert status == 403
    assert "in no role of the role policy" in body["message"]
    assert set(body) == {"message"}
    assert reads(table) == []


def test_a_request_without_an_iam_identity_is_refused(table: Any) -> None:
    request = event("find_by_email")
    del request["requestContext"]["authorizer"]
    status, body = call(request)
    assert status == 403
    assert "SigV4" in body["message"]


def test_the_local_role_header_is_refused_by_the_deployed_function(table: Any) -> None:
    # GIVEN a signed request from support that also claims the admin role in the local header
    request = event("find_by_email")
    request["headers"]["X-Profilesync-Role"] = "admin"
    status, body = call(request)
    # THEN it is refused outright, rather than answered as admin (or as support)
    assert status == 403
    assert "serve-api" in body["message"]
    assert reads(table) == []


@pytest.mark.parametrize(
    ("role", "route", "status"),
    [
        ("marketing", "history", 403),
        ("support", "history", 200),
        ("support", "explain", 403),
        ("admin", "explain", 200),
        ("support", "reads", 403),
        ("admin", "reads", 200),
    ],
)
def test_history_explain_and_reads_need_their_grant(table: Any, role: str, route: str, status: int) -> None:
    got, _ = call(event("get_by_id", arn=role_arn(role), path=f"/profiles/{ANN}/{route}"))
    assert got == status


def test_admin_reads_the_history_and_explanation(table: Any) -> None:
    DynamoDBHistoryStore(table, TABLE).append_history(
        [
            HistoryEvent(
                customer_id=ANN,
                event_id=event_id_for(ANN, "source_arrived", T0, "shopify:contact:2"),
                at=T0,
                kind="source_arrived",
                actor="run:shopify:r1",
                reason="record arrived",
                source_keys=("shopify:contact:2",),
                identifiers=("email#ann.lee@example.com",),
            )
        ]
    )
    _, history = call(event("get_by_id", arn=role_arn("admin"), path=f"/profiles/{ANN}/history"))
    events = history["history"]["events"]
    [only] = [e for e in events if e["actor"] == "run:shopify:r1"]
    assert (only["kind"], only["source_keys"]) == ("source_arrived", ["shopify:contact:2"])
    # The ingest that stored the fixture wrote its own events: one per record it stored.
    assert sorted(k for e in events if e["actor"] == "ingest" for k in e["source_keys"]) == [
        "hubspot:contact:1",
        "shopify:contact:2",
    ]
    _, explained = call(event("get_by_id", arn=role_arn("admin"), path=f"/profiles/{ANN}/explain"))
    [join] = explained["explain"]["joins"]
    assert (join["kind"], join["value"], join["records"], join["used"]) == (
        "email",
        "ann.lee@example.com",
        ["r1", "r2"],
        True,
    )


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"email": "not-an-email"}, 400),
        ({"email": "a@example.com", "phone": "+442079460018"}, 400),
        ({"phone": "020 7946 0018", "region": "GB"}, 200),
        ({"source": "hubspot:contact:1"}, 200),
        ({"email": "eve@example.com"}, 404),
        ({"email": "ann.lee@example.com", "limit": "ten"}, 400),
    ],
)
def test_lookups_are_checked_and_normalised(table: Any, query: dict[str, str], status: int) -> None:
    got, body = call(event("find_by_email", query=query))
    assert got == status
    if status == 400:
        assert "not-an-email" not in body["message"]
    if status == 200:
        assert body["customer_id"] == ANN


def test_an_unknown_route_is_not_found(table: Any) -> None:
    got, body = call(event("get_by_id", path="/customers/x"))
    assert got == 404
    assert "no such route" in body["message"]


def test_roles_can_come_from_the_callers_iam_tags(table: Any) -> None:
    # GIVEN a role outside the naming scheme, tagged for marketing
    iam = client("iam")
    iam.create_role(
        RoleName="growth-team",
        AssumeRolePolicyDocument="{}",
        Tags=[{"Key": "profilesync-role", "Value": "marketing"}],
    )
    status, body = call(event("find_by_email", arn="arn:aws:sts::123456789012:assumed-role/growth-team/x"))
    # THEN it reads as marketing does
    assert status == 200
    assert body["profile"]["identifiers"][0]["masked"] is True
    assert reads(table)[0]["role"]["S"] == "marketing"


def test_serve_api_passes_the_role_it_was_given(table: Any) -> None:
    request = event("find_by_email", arn="")
    answer = profiles.local_handler(request, FakeContext(), "analyst")
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["profile"]["identifiers"] == []
    refused = profiles.local_handler(request, FakeContext(), "auditor")
    assert refused["statusCode"] == 403
    # AND the next Lambda request is not answered with the local role
    assert call(event("find_by_email", arn="arn:aws:iam::1:user/x"))[0] == 403


def test_the_roles_section_of_the_configuration_document_is_the_policy(table: Any) -> None:
    # GIVEN a deployment whose document declares its own roles (and so none of the sample's)
    from core.config import parse_config

    document = parse_config(
        "version: 1\nroles:\n  helpdesk:\n    principals: ['arn:aws:iam::*:role/helpdesk']\n"
        "    traits: [first_name]\n    identifiers: {email: mask}\n",
        "profilesync.yaml",
    )
    _wiring.use(Wiring(Settings(table_name=TABLE, config=document), dynamodb=table))
    _governance.use(None)
    # WHEN the helpdesk asks THEN it reads what its role grants
    status, body = call(event("find_by_email", arn="arn:aws:sts::123456789012:assumed-role/helpdesk/x"))
    assert status == 200
    assert set(body["profile"]["traits"]) == {"first_name"}
    assert body["profile"]["identifiers"] == [{"kind": "email", "value": "a***@example.com", "masked": True}]
    # AND the sample's support role is no role here
    assert call(event("find_by_email"))[0] == 403
