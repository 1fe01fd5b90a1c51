"""The local runtime's setup (``profilesync.local``): what template.yaml deploys, built in the embedded
AWS: the table, the queues with their redrive policies, the generated secrets, the functions with
their resolved environment and event source mappings, the connectors' secrets and the wiring.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilesync import local_pollers as pollers
from profilesync.local_lambda import FunctionDef
from profilesync.local_moto import _local_wiring_class, _restore_environment, model_moto_costs
from profilesync.local_template import ACCOUNT_ID, REGION, TemplateError, TemplateScope, template_parameters
from profilesync.template import create_table, load_template

if TYPE_CHECKING:
    from profilesync.local import LocalRuntime


def start(rt: LocalRuntime) -> None:
    from functions import _wiring
    from profilesync.embedded import embedded_aws

    wiring_class = _local_wiring_class()

    rt._exit.enter_context(embedded_aws())
    model_moto_costs()
    saved = dict(os.environ)
    rt._exit.callback(_restore_environment, saved)
    if rt.log_path is not None:
        rt.log_path.parent.mkdir(parents=True, exist_ok=True)
        rt.metrics.log = rt._exit.enter_context(rt.log_path.open("w", encoding="utf-8"))

    template = load_template()
    resources: dict[str, Any] = template["Resources"]
    # The document goes where a deployed function finds it: a file named by PROFILESYNC_CONFIG.
    document = rt.document
    missing = sorted(set(document.connectors) - set(rt.sandboxes))
    if missing:
        raise TemplateError(f"no sandbox for the configured instances {', '.join(missing)}")
    folder = Path(rt._exit.enter_context(tempfile.TemporaryDirectory(prefix="profilesync-local-")))
    config_path = folder / "profilesync.json"
    config_path.write_text(document.model_dump_json(exclude_defaults=True), encoding="utf-8")
    params = template_parameters({"ConfigFile": str(config_path), **rt.parameters})
    scope = TemplateScope(params, conditions=template.get("Conditions", {}))

    import botocore
    from botocore.config import Config

    from core.storage.aws_clients import aws_client

    # The clients come from the process's botocore session, as the functions' own do (functions._wiring):
    # each runtime gets new clients, but botocore's service models and endpoint data, which never
    # change, are read once per process, not once per runtime (~0.1 s a client).
    checked = (
        Config(region_name=REGION)
        if rt.client_checks
        else Config(region_name=REGION, parameter_validation=False, signature_version=botocore.UNSIGNED)
    )
    rt.dynamodb = aws_client("dynamodb", config=checked)
    rt.sqs = aws_client("sqs", config=checked)
    rt.streams = aws_client("dynamodbstreams", config=checked)

    rt.table_name = str(scope.resolve(resources["ProfilesTable"]["Properties"]["TableName"]))
    create_table(rt.dynamodb, rt.table_name)
    refs: dict[str, str] = {
        "ProfilesTable": rt.table_name,
        "DataKey": "local-data-key",
        "AlarmTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:profilesync-local-alarms",
    }
    arns: dict[str, str] = {"ProfilesTable": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{rt.table_name}"}
    # Generated secrets (the audit salt): a fixed value per name, since the embedded AWS lives in
    # this process only; Powertools caches a secret per name, so a value must not change.
    secrets_manager = aws_client("secretsmanager", config=Config(region_name=REGION))
    from core.storage.ident_keys import DEFAULT_IDENT_SALT

    salt = DEFAULT_IDENT_SALT
    for resource in resources.values():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            secret_name = str(scope.resolve(resource["Properties"]["Name"]))
            secrets_manager.create_secret(Name=secret_name, SecretString=f"local-only:{secret_name}")
            if secret_name.endswith("audit-salt"):
                salt = f"local-only:{secret_name}"
    from core.storage.ident_keys import mark_new_table

    # A new table: no identifier or index item under an old key; marked with its stack's salt.
    mark_new_table(rt.dynamodb, rt.table_name, salt)
    # Dead-letter queues first: a redrive policy names its DLQ's ARN.
    queues = [k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"]
    queues.sort(key=lambda k: "RedrivePolicy" in resources[k].get("Properties", {}))
    for logical_id in queues:
        scope = replace(scope, refs=refs, arns=arns)
        url, arn = _create_queue(rt, scope, resources[logical_id]["Properties"])
        refs[logical_id], arns[logical_id] = url, arn
    rt.stream_arn = rt.dynamodb.describe_table(TableName=rt.table_name)["Table"]["LatestStreamArn"]
    arns["ProfilesTable.StreamArn"] = rt.stream_arn
    scope = replace(scope, refs=refs, arns=arns)
    rt.scope = scope
    rt.queue_url, rt.queue_arn = refs["IngestQueue"], arns["IngestQueue"]
    rt.dlq_url = refs["IngestDeadLetterQueue"]
    rt.push_failure_url = refs["PushFailureQueue"]

    # The functions, their environment as the template sets it, and the event source mappings.
    global_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    globals_fn = template.get("Globals", {}).get("Function", {})
    environment: dict[str, str] = {}
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    # A function's !Ref is its name (the dispatcher's environment names the pull function).
    refs.update({k: str(scope.resolve(v["Properties"].get("FunctionName", k))) for k, v in functions.items()})
    scope = replace(scope, refs=refs)
    rt.scope = scope
    for logical_id, resource in functions.items():
        props = resource["Properties"]
        env_vars = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        resolved = {k: str(scope.resolve(v)) for k, v in env_vars.items()}
        environment.update(resolved)
        retries = props.get("EventInvokeConfig", {}).get("MaximumRetryAttempts", 2)
        rt.functions[logical_id] = FunctionDef(
            logical_id,
            str(scope.resolve(props.get("FunctionName", logical_id))),
            props["Handler"],
            int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
            resolved,
            int(retries),
        )
    rt.environment = environment
    os.environ.update(environment)
    rt.merge_mapping = _mapping(resources, "IngestQueue")
    rt.push_mapping = _mapping(resources, "ProfilesTable")
    rt.stream_filters = [
        json.loads(f["Pattern"])
        for f in rt.push_mapping["Properties"].get("FilterCriteria", {}).get("Filters", [])
    ]

    from connectors._http import secret_env_var

    # Each instance's credentials in its own secret, as Secrets Manager holds them when deployed.
    secrets: dict[str, str] = {}
    for name in document.connectors:
        instance = document.instance(name)
        credentials = rt.sandboxes[name].settings(transport=False).credentials
        secrets[secret_env_var(instance.secret or name)] = json.dumps(dict(credentials))
    rt.wiring = wiring_class(
        _wiring.Settings.from_environment(),
        dynamodb=rt.dynamodb,
        sqs=rt.sqs,
        lambda_client=rt.lambda_client,
        plugins=rt.plugin,
        secrets_env=secrets,
    )
    _wiring.use(rt.wiring)
    # The stream starts now: a poller reads from TRIM_HORIZON, which is empty at this point.
    pollers.read_stream(
        rt,
    )


def _create_queue(rt: LocalRuntime, scope: TemplateScope, props: Mapping[str, Any]) -> tuple[str, str]:
    attributes: dict[str, str] = {}
    for name in ("VisibilityTimeout", "MessageRetentionPeriod", "MaximumMessageSize", "DelaySeconds"):
        if name in props:
            attributes[name] = str(scope.resolve(props[name]))
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(scope.resolve(props["RedrivePolicy"]))
    url: str = rt.sqs.create_queue(QueueName=str(scope.resolve(props["QueueName"])), Attributes=attributes)[
        "QueueUrl"
    ]
    arn: str = rt.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _mapping(resources: Mapping[str, Any], source: str) -> dict[str, Any]:
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        arn = resource["Properties"].get("EventSourceArn", {})
        target = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
        if target == source:
            found: dict[str, Any] = resource
            return found
    raise TemplateError(f"template.yaml has no event source mapping from {source}")
