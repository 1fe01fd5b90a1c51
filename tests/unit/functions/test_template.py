"""template.yaml agrees with the code: handlers import, every variable read is set, policies are tight.

cfn-lint, ``sam validate --lint`` and ``sam build`` run in scripts/check-template.sh (they need the
SAM CLI's own venv); these checks need only the project and run with every ``pytest``.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.secrets import SECRETS_PREFIX_VAR
from profilesync import registry
from profilesync.template import load_template, table_definition

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}

#: Set by Lambda itself in every function's environment.
LAMBDA_RUNTIME_VARS = re.compile(r"^(AWS_|_HANDLER$|LAMBDA_)")
#: Read by the pull function only (the other functions never touch the queue or the lease).
PULL_ONLY = {
    "INGEST_QUEUE_URL",
    "PULL_TIME_MARGIN_SECONDS",
    "PULL_LEASE_SECONDS",
    "PULL_MAX_CONTINUATIONS",
    "INGEST_MESSAGE_MAX_BYTES",
}
#: Read by the push function only (its redrive of the on-failure queue).
PUSH_ONLY = {"PUSH_FAILURE_QUEUE_URL"}
#: Read by the privacy function only (erasure and export search the ingest dead-letter queue).
PRIVACY_ONLY = {"INGEST_DEAD_LETTER_QUEUE_URL"}
#: Read by the dispatcher only (which pulls to start, and its freshness alarms).
DISPATCH_ONLY = {"PULL_FUNCTION_NAME", "FRESHNESS_ALARM_PREFIX", "ALARM_TOPIC_ARN"}
#: Read by the profile API only (functions/_governance.py).
PROFILES_ONLY = {"READ_AUDIT_RETENTION_DAYS"}
#: Read when set, never set by the template: the inline connectors section tests may give instead of
#: the configuration document.
OPTIONAL = {"CONNECTORS"}
#: Read by Powertools and by connectors._http's resolve_secret rather than by functions/ itself.
READ_BY_LIBRARIES = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    SECRETS_PREFIX_VAR,
}
#: Actions with no resource-level permissions: "*" is the only resource they take.
NO_RESOURCE_LEVEL = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def environment_of(logical_id: str) -> dict[str, Any]:
    variables = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    variables.update(FUNCTIONS[logical_id]["Properties"].get("Environment", {}).get("Variables", {}))
    return variables


def env_names_read(path: Path) -> set[str]:
    """Environment variable names a module reads: string arguments of ``os.getenv``/``environ.get``,
    of any call that is passed the environment (``_int(environ, "NAME", ...)``), and subscripts."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()

    def is_env(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in ("environ", "env")) or (
            isinstance(node, ast.Attribute) and node.attr == "environ"
        )

    for node in ast.walk(tree):
        strings: list[ast.AST] = []
        if isinstance(node, ast.Call):
            func = node.func
            reads = (
                isinstance(func, ast.Attribute)
                and func.attr in ("get", "getenv")
                and (is_env(func.value) or (isinstance(func.value, ast.Name) and func.value.id == "os"))
            )
            if reads or any(is_env(a) for a in node.args):
                strings = list(node.args)
        elif isinstance(node, ast.Subscript) and is_env(node.value):
            strings = [node.slice]
        for arg in strings:
            if (
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and re.fullmatch(r"[A-Z][A-Z0-9_]+", arg.value)
            ):
                names.add(arg.value)
    return names


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else []:
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical_id, statement
        if resource["Type"] == "AWS::KMS::Key":
            for statement in props["KeyPolicy"]["Statement"]:
                yield logical_id, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_handler_resolves_to_an_importable_callable() -> None:
    # GIVEN the seven functions of the template
    assert set(FUNCTIONS) == {
        "IdentityReviewFunction",
        "DispatchFunction",
        "PullFunction",
        "MergeFunction",
        "PushFunction",
        "PrivacyFunction",
        "ProfilesFunction",
    }
    for logical_id, resource in FUNCTIONS.items():
        # WHEN its Handler is imported THEN it is a callable taking (event, context)
        module_name, _, attribute = resource["Properties"]["Handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        assert callable(handler), logical_id


def test_every_environment_variable_a_function_reads_is_set_by_the_template() -> None:
    # GIVEN every name functions/ reads from the environment, and those its libraries read
    read = set().union(*(env_names_read(p) for p in (ROOT / "functions").glob("*.py")))
    read = {name for name in read if not LAMBDA_RUNTIME_VARS.match(name)}
    assert {"TABLE_NAME", "PROFILESYNC_CONFIG", "PROFILESYNC_TRACING"} <= read  # the scan itself works
    assert read >= PULL_ONLY | DISPATCH_ONLY
    read -= OPTIONAL
    for logical_id in FUNCTIONS:
        # WHEN the function's environment is assembled as SAM does (Globals + its own)
        environment = environment_of(logical_id)
        needed = (read | READ_BY_LIBRARIES) - (PULL_ONLY if logical_id != "PullFunction" else set())
        needed -= PUSH_ONLY if logical_id != "PushFunction" else set()
        needed -= PRIVACY_ONLY if logical_id != "PrivacyFunction" else set()
        needed -= DISPATCH_ONLY if logical_id != "DispatchFunction" else set()
        needed -= PROFILES_ONLY if logical_id != "ProfilesFunction" else set()
        # THEN every one of them is set
        assert needed <= set(environment), f"{logical_id} lacks {sorted(needed - set(environment))}"
    assert environment_of("PullFunction")["INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}
    assert environment_of("PushFunction")["PUSH_FAILURE_QUEUE_URL"] == {"Ref": "PushFailureQueue"}
    assert environment_of("PrivacyFunction")["INGEST_DEAD_LETTER_QUEUE_URL"] == {
        "Ref": "IngestDeadLetterQueue"
    }


def test_no_policy_statement_has_a_wildcard_action_or_an_unneeded_wildcard_resource() -> None:
    checked = 0
    for logical_id, statement in statements():
        actions = as_list(statement.get("Action", []))
        resources = as_list(statement.get("Resource", []))
        checked += 1
        if logical_id == "DataKey":
            # A key policy's "*" resource is the key itself; "kms:*" for the account root is what
            # lets IAM policies (the roles below, each naming this key) govern the key's use.
            assert statement["Principal"] == {
                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            }
            continue
        assert not any("*" in a for a in actions), f"{logical_id}: wildcard action in {actions}"
        if "*" in resources:
            assert set(actions) <= NO_RESOURCE_LEVEL, f"{logical_id}: '*' resource for {actions}"
    assert checked >= 20
    # AND no function falls back to a SAM-generated role (whose managed policies take "*")
    assert all("Role" in f["Properties"] and "Policies" not in f["Properties"] for f in FUNCTIONS.values())


def test_the_table_is_built_locally_as_the_template_deploys_it(aws_moto: Any) -> None:
    # GIVEN the table create_table builds from the template (moto)
    described = aws_moto.describe_table(TableName="t")["Table"]
    props = table_definition()
    # THEN keys, attributes, billing and stream are the template's
    assert (
        described["KeySchema"]
        == props["KeySchema"]
        == [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ]
    )
    assert described["AttributeDefinitions"] == props["AttributeDefinitions"]
    assert described["BillingModeSummary"]["BillingMode"] == props["BillingMode"]
    assert (
        described["StreamSpecification"]["StreamViewType"] == props["StreamSpecification"]["StreamViewType"]
    )
    # AND expires_at, which leases and quarantine use, is the TTL attribute
    ttl = aws_moto.describe_time_to_live(TableName="t")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    # AND the deployed table is encrypted with the stack's own key
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Ref": "DataKey"},
    }


@pytest.fixture
def aws_moto() -> Iterator[Any]:
    from moto import mock_aws

    from profilesync.embedded import dynamodb_client
    from profilesync.template import create_table

    with mock_aws():
        client = dynamodb_client()
        create_table(client, "t")
        yield client


def test_push_sees_only_profile_inserts_and_modifications() -> None:
    mapping = RESOURCES["PushStreamMapping"]["Properties"]
    [flt] = mapping["FilterCriteria"]["Filters"]
    assert json.loads(flt["Pattern"]) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"Keys": {"SK": {"S": ["PROFILE"]}}},
    }
    # AND failed batches are bisected, retried a bounded number of times, then parked
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["PushFailureQueue", "Arn"]
    }
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ProfilesTable", "StreamArn"]}


def test_the_ingest_queue_is_encrypted_bounded_and_drained_with_partial_failures() -> None:
    queue = RESOURCES["IngestQueue"]["Properties"]
    dlq = RESOURCES["IngestDeadLetterQueue"]["Properties"]
    assert queue["KmsMasterKeyId"] == dlq["KmsMasterKeyId"] == {"Ref": "DataKey"}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
    assert 1 < queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert queue["MaximumMessageSize"] == int(environment_of("PullFunction")["INGEST_MESSAGE_MAX_BYTES"])
    assert queue["VisibilityTimeout"] >= 6 * FUNCTIONS["MergeFunction"]["Properties"]["Timeout"]
    mapping = RESOURCES["MergeQueueMapping"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}


def test_the_only_schedule_is_the_dispatcher_s_with_scheduler_s_time_and_a_dead_letter_queue() -> None:
    # Instances and their schedules live in the configuration document; the template schedules the
    # dispatcher alone, so a new instance or plugin needs no template edit.
    schedules = {
        (logical_id, name): event["Properties"]
        for logical_id, fn in FUNCTIONS.items()
        for name, event in fn["Properties"].get("Events", {}).items()
        if event["Type"] in ("ScheduleV2", "Schedule")
    }
    # (The one other schedule names no connector: the privacy function's hourly erase-retry.)
    retry = schedules.pop(("PrivacyFunction", "EraseRetrySchedule"))
    assert json.loads(retry["Input"])["action"] == "erase-retry"
    assert retry["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
    assert list(schedules) == [("DispatchFunction", "EveryMinute")]
    props = schedules["DispatchFunction", "EveryMinute"]
    assert props["ScheduleExpression"] == "rate(1 minute)"
    assert json.loads(props["Input"]) == {
        "action": "dispatch",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert props["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
    assert "registry" not in json.dumps(props)  # (no connector is named in the template)
    assert not any(name in json.dumps(RESOURCES) for name in registry.BUILTIN)


def test_every_dead_letter_queue_and_every_function_has_an_alarm() -> None:
    alarms = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watched_queues = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched_queues == {"IngestDeadLetterQueue", "PushFailureQueue", "ScheduleDeadLetterQueue"}
    errors = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms if a["MetricName"] == "Errors"}
    assert errors == set(FUNCTIONS)
    assert all(
        a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold"
        for a in alarms
        if a["MetricName"] not in ("IteratorAge", "QuarantineShareJump")
    )
    # AND every alarm notifies the alarm topic (the stack's own, or AlarmTopicArn), when raised and cleared
    topic = [{"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}]
    assert all(a["AlarmActions"] == topic == a["OKActions"] for a in alarms)
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == topic[0]


def test_the_pull_function_may_invoke_itself_and_no_other_function() -> None:
    role = RESOURCES["PullRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [invoke] = [s for s in role if s["Action"] == "lambda:InvokeFunction"]
    name = FUNCTIONS["PullFunction"]["Properties"]["FunctionName"]["Fn::Sub"]
    assert invoke["Resource"]["Fn::Sub"].endswith(f":function:{name}")
    assert FUNCTIONS["PullFunction"]["Properties"]["RecursiveLoop"] == "Allow"


def test_audit_records_can_be_written_but_never_changed_or_deleted_by_the_privacy_role() -> None:
    role = RESOURCES["PrivacyRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    # GIVEN the privacy role's statements
    allowed = [s for s in role if s["Effect"] == "Allow" and "dynamodb:PutItem" in as_list(s["Action"])]
    denied = [s for s in role if s["Effect"] == "Deny"]
    # THEN it may put items under AUDIT# ...
    assert any(
        "AUDIT#*" in s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] for s in allowed
    )
    # ... and every action that could change or delete one is denied for AUDIT# keys, whatever else
    # is allowed (an explicit Deny wins over any Allow)
    [deny] = denied
    assert set(as_list(deny["Action"])) == {
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
    }
    assert deny["Condition"] == {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["AUDIT#*"]}}
    assert deny["Resource"] == {"Fn::GetAtt": ["ProfilesTable", "Arn"]}


def test_the_privacy_role_may_scan_for_her_records_under_others_and_retire_them() -> None:
    # GIVEN the privacy role's statements (her erasure reads every live profile for her records under
    # another customer by their refused values, core/privacy_refused.py, and retires them)
    role = RESOURCES["PrivacyRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    allowed = [s for s in role if s["Effect"] == "Allow"]
    # THEN it may scan the table ...
    assert any(as_list(s["Action"]) == ["dynamodb:Scan"] and "Condition" not in s for s in allowed)
    # ... and write a customer, its identifiers and the index of history names in one transaction
    writers = [s for s in allowed if {"dynamodb:PutItem", "dynamodb:DeleteItem"} <= set(as_list(s["Action"]))]
    keys = {k for s in writers for k in s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]}
    assert {"CUSTOMER#*", "IDENT#*", "NAMED#*"} <= keys


def test_the_stream_carries_keys_only_and_erasures_are_retried_and_alarmed() -> None:
    # The push function reads the changed profiles from the table: the stream holds no images.
    assert RESOURCES["ProfilesTable"]["Properties"]["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    [schedule] = FUNCTIONS["PrivacyFunction"]["Properties"]["Events"].values()
    assert json.loads(schedule["Properties"]["Input"])["action"] == "erase-retry"
    alarm = RESOURCES["ErasureRetriesAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("ProfileSync", "ErasureRetriesExhausted")
    # AND the roles that check suppression can only read its items
    for role in ("PullRole", "MergeRole", "PushRole"):
        statements = RESOURCES[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [check] = [s for s in statements if s.get("Sid") == "CheckSuppression"]
        # (merge also checks a value is not suppressed inside the transaction creating its
        # identifier, push the erasure epoch in the one recording its states: ConditionCheckItem,
        # which reads and writes nothing)
        reads = {"dynamodb:BatchGetItem", "dynamodb:GetItem"}
        extra = {"dynamodb:ConditionCheckItem"} if role in ("MergeRole", "PushRole") else set()
        assert set(check["Action"]) == reads | extra
        assert check["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["SUPPRESS#*"]


def test_the_template_reads_the_same_with_libyaml_as_with_the_pure_python_parser() -> None:
    # GIVEN the loader the template is read with (libyaml's parser where PyYAML has it)
    import yaml

    from profilesync import template

    class Pure(yaml.SafeLoader):
        pass

    Pure.add_multi_constructor("!", template._cfn_tag)
    # THEN it reads template.yaml, short tags and all, as PyYAML's own parser reads it
    with open(template.TEMPLATE_PATH, encoding="utf-8") as handle:
        assert yaml.load(handle, Loader=Pure) == TEMPLATE
    _assert_libyaml_where_present(template._CfnLoader)


def _assert_libyaml_where_present(loader: type) -> None:
    """``loader`` is libyaml's where PyYAML was built with it, else PyYAML's own parser's (there is
    no ``yaml.CSafeLoader`` then)."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    assert (fast is not None and issubclass(loader, fast)) == yaml.__with_libyaml__
    assert issubclass(loader, yaml.SafeLoader) != yaml.__with_libyaml__  # CSafeLoader is no SafeLoader


def test_the_template_is_read_where_pyyaml_has_no_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN PyYAML built without libyaml (no CSafeLoader): red before, the check above raised
    # AttributeError there
    import yaml

    import profilesync.template as template

    monkeypatch.delattr(yaml, "CSafeLoader")
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    try:
        pure = importlib.reload(template)
        # THEN the template reads the same with PyYAML's own parser, and the check holds
        _assert_libyaml_where_present(pure._CfnLoader)
        assert pure.load_template() == TEMPLATE
    finally:
        monkeypatch.undo()
        importlib.reload(template)
    _assert_libyaml_where_present(template._CfnLoader)
