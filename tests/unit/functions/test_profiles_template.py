"""The profile API in template.yaml: IAM on every route, the routes the handler serves, a role that
reads and writes only the read audit, and the quarantine-jump alarm at the threshold the code uses."""

from __future__ import annotations

from typing import Any

from core.governance.quality import JUMP_ALARM_POINTS
from functions.profiles import app
from profilesync.template import load_template

RESOURCES: dict[str, Any] = load_template()["Resources"]


def test_every_route_of_the_api_requires_iam_signing() -> None:
    api = RESOURCES["ProfilesApi"]
    assert api["Type"] == "AWS::Serverless::HttpApi"
    assert api["Properties"]["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}
    events = RESOURCES["ProfilesFunction"]["Properties"]["Events"].values()
    assert all(e["Type"] == "HttpApi" and e["Properties"]["ApiId"] == {"Ref": "ProfilesApi"} for e in events)
    # No route opts out of the default authoriser.
    assert not any("Auth" in e["Properties"] for e in events)


def test_the_template_routes_are_exactly_the_handlers() -> None:
    events = RESOURCES["ProfilesFunction"]["Properties"]["Events"].values()
    declared = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}
    served = {(r.method, r.openapi_path) for r in [*app._static_routes, *app._dynamic_routes]}
    assert declared == served
    assert ("GET", "/profiles/{customer_id}/history") in declared


def test_the_function_reads_and_writes_only_the_read_audit() -> None:
    statements = RESOURCES["ProfilesRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    dynamo = [s for s in statements if any(str(a).startswith("dynamodb:") for a in _list(s["Action"]))]
    by_actions = {tuple(sorted(_list(s["Action"]))): s for s in dynamo}
    read = by_actions[("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query")]
    write = by_actions[("dynamodb:PutItem",)]
    epoch = by_actions[("dynamodb:GetItem",)]
    assert set(by_actions) == {
        tuple(sorted(_list(read["Action"]))),
        ("dynamodb:PutItem",),
        ("dynamodb:GetItem",),
    }
    # the erasure epoch only (core.erasure_epoch): no suppression entry, no other item
    assert epoch["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["SUPPRESS#epoch"]
    assert write["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["READ#*"]
    # BLOCK# and REVIEW#: under probabilistic identity, explain reads the link graph's index and decisions
    assert set(read["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]) == {
        "CUSTOMER#*",
        "IDENT#*",
        "READ#*",
        "BLOCK#*",
        "REVIEW#*",
    }


def test_logs_of_the_api_are_kept_for_a_set_time() -> None:
    for name in ("ProfilesLogGroup", "ProfilesApiAccessLogGroup"):
        assert RESOURCES[name]["Properties"]["RetentionInDays"] > 0
    access = RESOURCES["ProfilesApi"]["Properties"]["AccessLogSettings"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ProfilesApiAccessLogGroup", "Arn"]}
    # The query string may hold an email: it is not logged.
    assert "$context.identity.userArn" in access["Format"]
    assert "querystring" not in access["Format"].lower()


def test_the_quarantine_jump_alarm_fires_at_the_threshold_the_code_uses() -> None:
    alarm = RESOURCES["QuarantineShareJumpAlarm"]["Properties"]
    assert alarm["Threshold"] == JUMP_ALARM_POINTS
    assert alarm["MetricName"] == "QuarantineShareJump"
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "profilesync"}]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
