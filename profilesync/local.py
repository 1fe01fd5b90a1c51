"""The local runtime: the deployed handlers, run in one process against an embedded AWS (moto).

``LocalRuntime`` builds, inside ``embedded_aws()``, what template.yaml deploys and the handlers touch:

* the table (``create_table``: the template's key schema, stream and TTL) and the ingest queue with its
  dead-letter queue and redrive policy, and the push on-failure queue, from the resources' own
  ``Properties`` (names resolved with ``Stage``; encryption left out: moto has no customer key);
* the template's generated secrets (the audit salt), each with a fixed local value;
* the functions' environment, resolved from the template (``Globals`` and each function's
  ``Environment``, with ``!Ref``, ``!Sub``, ``!If`` and conditions evaluated for the given parameters);
* a ``functions._wiring.Wiring`` with moto's clients, a stand-in Lambda client for the pull's
  continuations, and each connector built by its own plugin from its own settings (credentials and
  options through the same path as in Lambda) with one change only: the HTTP transport is the
  connector's in-process sandbox, so no request leaves the process.

It then drives the handlers the template names (``Handler: functions.pull.handler`` ...) as Lambda's
pollers would:

* **pull** is invoked once per connector as its schedule would (``{"connector": NAME}``), with a
  context whose remaining time counts down from the function's ``Timeout``; a continuation it asks for
  is run next, and a failed invocation is retried ``EventInvokeConfig.MaximumRetryAttempts`` times.
* **merge** gets the ingest queue's messages in events of up to the mapping's ``BatchSize``, shaped as
  Lambda's SQS event (message id, receipt handle, body, attributes). Messages that succeeded are
  deleted; those reported in ``batchItemFailures`` (or all, if the handler raised) are made visible
  again at once, standing in for the end of the 720 s visibility timeout, so SQS delivers them again
  and moves them to the DLQ after the redrive policy's ``maxReceiveCount``.
* **push** gets the table's stream (``dynamodbstreams``), filtered by the mapping's ``FilterCriteria``
  and batched by its ``BatchSize``. A reported failure is retried from the first failed record; after
  ``MaximumRetryAttempts`` the batch's description goes to the on-failure queue and the stream moves
  on; a handler that raises has its batch bisected (``BisectBatchOnFunctionError``).

``settle()`` repeats merge and push until the queue is empty and the stream is drained. What the
handlers print (Powertools' JSON logs and EMF metrics, which Lambda would send to CloudWatch) is
captured, with whatever else an invocation writes to stderr or to Python's root logger (library
warnings, such as the HTTP layer's retries), as Lambda captures it: ``metrics`` sums the EMF values
by name and dimension, and ``log_path`` keeps every line.

Differences from Lambda, each on purpose: invocations run one at a time in this process (Lambda would
run merges and pushes concurrently, which the store's conditional writes are tested for elsewhere); the
three functions share one environment (the union of what the template gives each); and pollers do not
wait for batching windows or visibility timeouts.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import random
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from core.config import ProfileSyncConfig
from core.connector import ConnectorPlugin, ConnectorSettings
from profilesync.template import create_table, load_template

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


# --- the template's intrinsic functions -------------------------------------------------------------
class TemplateError(Exception):
    """The template uses something the local runtime cannot resolve."""


@dataclass(frozen=True)
class TemplateScope:
    """What ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` resolve to: parameter values and resources' names."""

    parameters: Mapping[str, str]
    refs: Mapping[str, str] = field(default_factory=dict)
    arns: Mapping[str, str] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": "profilesync-local",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def ref(self, name: str) -> str:
        for table in (self.pseudo(), self.parameters, self.refs):
            if name in table:
                return table[name]
        raise TemplateError(f"!Ref {name}: not a parameter or a resource the local runtime created")

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"condition {name} is not defined in the template")
        return bool(self.resolve(self.conditions[name]))

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                resource, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                if attribute == "Arn" and resource in self.arns:
                    return self.arns[resource]
                raise TemplateError(f"!GetAtt {resource}.{attribute} is not known locally")
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return self._sub(text, extra)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(p) for p in self.resolve(parts))
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, text: str, extra: Mapping[str, Any]) -> str:
        out: list[str] = []
        rest = text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in extra:
                out.append(str(extra[name]))
            elif "." in name:
                resource, attribute = name.split(".", 1)
                out.append(str(self.resolve({"Fn::GetAtt": [resource, attribute]})))
            else:
                out.append(self.ref(name))
        out.append(rest)
        return "".join(out)


def template_parameters(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The template's parameters at their defaults, with ``overrides``; unknown names are refused."""
    declared: dict[str, Any] = load_template()["Parameters"]
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    for name, value in (overrides or {}).items():
        if name not in declared:
            raise TemplateError(f"template.yaml has no parameter {name!r}")
        values[name] = value
    return values


# --- Lambda's side ------------------------------------------------------------------------------------
@dataclass
class LocalContext:
    """The ``LambdaContext`` a handler gets: its remaining time counts down from the function's Timeout."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class LocalLambda:
    """Stands in for the Lambda client the pull function uses to start its continuation."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, dict[str, Any]]] = []

    def invoke(
        self,
        *,
        FunctionName: str,  # noqa: N803 - boto3's parameter names
        InvocationType: str = "Event",  # noqa: N803
        Payload: bytes = b"{}",  # noqa: N803
    ) -> dict[str, Any]:
        if InvocationType != "Event":
            raise TemplateError("the local runtime only takes asynchronous invocations")
        self.pending.append((FunctionName, json.loads(Payload)))
        return {"StatusCode": 202}


@dataclass
class FunctionDef:
    """One ``AWS::Serverless::Function`` of the template, resolved."""

    logical_id: str
    name: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    async_retries: int = 2

    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        module, _, attribute = self.handler.rpartition(".")
        loaded: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module), attribute)
        return loaded


class MetricSink:
    """Sums the EMF metrics the handlers print, by name and dimensions, and keeps every line."""

    def __init__(self, log: TextIO | None = None) -> None:
        self.values: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.log = log
        self.lines = 0

    def feed(self, text: str) -> None:
        for line in text.splitlines():
            if not line.strip():
                continue
            self.lines += 1
            if self.log is not None:
                self.log.write(line + "\n")
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            meta = doc.get("_aws") if isinstance(doc, dict) else None
            if not isinstance(meta, dict):
                continue
            for directive in meta.get("CloudWatchMetrics", []):
                dimensions = tuple(
                    sorted(
                        (d, str(doc.get(d)))
                        for group in directive.get("Dimensions", [])
                        for d in group
                        if d != "service"
                    )
                )
                for metric in directive.get("Metrics", []):
                    value = doc.get(metric["Name"])
                    values = value if isinstance(value, list) else [value]
                    total = round(sum(v for v in values if isinstance(v, int | float)))
                    self.values[(metric["Name"], dimensions)] += total

    def total(self, name: str, **dimensions: str) -> int:
        """The sum of ``name`` over every series whose dimensions include ``dimensions``."""
        wanted = set(dimensions.items())
        return int(sum(v for (n, dims), v in self.values.items() if n == name and wanted <= set(dims)))

    def snapshot(self) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
        return Counter(self.values)


# --- event shapes -----------------------------------------------------------------------------------------
def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller builds from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": dict(m.get("MessageAttributes", {})),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style matching, for the exact-value patterns of an event source mapping's filter."""
    if isinstance(pattern, list):
        return (
            any(matches(p, value) for p in pattern)
            if any(isinstance(p, dict) for p in pattern)
            else (value in pattern)
        )
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and matches(v, value[k]) for k, v in pattern.items()
        )
    return bool(pattern == value)


# --- what a run did ----------------------------------------------------------------------------------------
@dataclass
class StageCounts:
    """Counts of one ``settle`` or ``pull`` call, for progress lines and the demo's summary."""

    invocations: int = 0
    failed_invocations: int = 0
    messages: int = 0
    redelivered: int = 0
    dead_lettered: int = 0
    stream_records: int = 0
    filtered_out: int = 0
    push_retries: int = 0
    push_failures_parked: int = 0


@dataclass
class PullResult:
    connector: str
    invocations: int = 0
    pulled: int = 0
    queued: int = 0
    quarantined: int = 0
    suppressed: int = 0
    """Records of erased people the pull met and dropped (the handler's own count)."""
    pages: int = 0
    messages: int = 0
    failed_invocations: int = 0
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    status: str = ""


ProgressFn = Callable[[str, str], None]
"""``progress(stage, text)``: called while a stage runs, and with ``text`` ending in "done" at its end."""


def _quiet(stage: str, text: str) -> None:
    return None


# --- the runtime -----------------------------------------------------------------------------------------
class LocalRuntime:
    """template.yaml's table, queues and functions in an embedded AWS, wired to in-process sandboxes.

    Use as a context manager (it enters ``embedded_aws()`` and restores the environment on exit)::

        with LocalRuntime({"hubspot": PLUGIN.sandbox(people=500)}) as rt:
            rt.pull_all(); rt.settle()

    ``redeliver`` is the share of successfully merged messages that are not deleted, so SQS delivers
    them a second time (at-least-once delivery, for fault tests). ``parameters`` override template
    parameters (``Stage`` is ``local`` unless given).

    ``client_checks=False`` turns off what botocore does on the client side that the embedded AWS does
    not need, in the clients the runtime hands the handlers (DynamoDB, SQS, Streams): parameter
    validation (moto still parses each request against the service model) and SigV4 signing (moto
    checks no signature). The demo does: the tests that run the same handlers keep both on, and
    together they were about a tenth of each request's cost.
    """

    def __init__(
        self,
        sandboxes: Mapping[str, Any],
        *,
        config: ProfileSyncConfig | None = None,
        plugins: Callable[[str], ConnectorPlugin] | None = None,
        parameters: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        redeliver: float = 0.0,
        seed: int = 0,
        progress: ProgressFn | None = None,
        client_checks: bool = True,
    ) -> None:
        self.sandboxes = dict(sandboxes)
        self.client_checks = client_checks
        self.config = config
        self._lookup = plugins
        self.parameters = {"Stage": "local", "LogLevel": "INFO", **(parameters or {})}
        self.log_path = log_path
        self.redeliver = redeliver
        self._rng = random.Random(seed)
        self.progress: ProgressFn = progress or _quiet
        self.lambda_client = LocalLambda()
        self._exit = contextlib.ExitStack()
        self._redelivered: set[str] = set()
        self._iterators: dict[str, str] = {}
        self._shard_of: dict[str, str] = {}
        self._stream_backlog: list[dict[str, Any]] = []
        self.metrics = MetricSink()
        self.functions: dict[str, FunctionDef] = {}
        self.last_dispatch: dict[str, Any] | None = None

    # --- setup -------------------------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        from functions import _wiring

        _wiring.use(None)
        self._exit.close()

    def plugin(self, name: str) -> ConnectorPlugin:
        """The connector's own plugin (``name`` is a vendor), building connectors whose transport is the
        sandbox of the instance being built: the one of that vendor whose options are the settings'."""
        if self._lookup is not None:
            base = self._lookup(name)
        else:
            from profilesync.registry import get

            base = get(name)
        document = self.document
        candidates = [
            self.sandboxes[instance]
            for instance in sorted(document.connectors)
            if document.vendor(instance) == name and instance in self.sandboxes
        ]

        def build(settings: ConnectorSettings) -> Any:
            chosen = [
                s for s in candidates if dict(s.settings(transport=False).options) == dict(settings.options)
            ]
            if len(candidates) == 1:
                chosen = candidates
            if len(chosen) != 1:
                raise TemplateError(
                    f"no single {name} sandbox has the options {dict(settings.options)}: give each "
                    "instance of one vendor its own options"
                )
            return base.build(replace(settings, transport=chosen[0].transport()))

        return replace(base, build=build)

    @property
    def document(self) -> ProfileSyncConfig:
        """The configuration document the functions read: the one given, or one instance per sandbox
        (named after it, with its options and the shared budget its plan allows)."""
        if self.config is not None:
            return self.config
        connectors: dict[str, dict[str, Any]] = {}
        for name, sandbox in sorted(self.sandboxes.items()):
            entry: dict[str, Any] = {"options": dict(sandbox.settings(transport=False).options)}
            budget = getattr(sandbox, "account_budget", lambda: None)()
            if budget is not None:
                # The shared budget follows the sandbox's plan (the demo raises its limits).
                entry["rate_budget"] = list(budget)
            connectors[name] = entry
        return ProfileSyncConfig.model_validate({"connectors": connectors})

    def _start(self) -> None:
        import boto3

        from functions import _wiring
        from profilesync.embedded import embedded_aws

        wiring_class = _local_wiring_class()

        self._exit.enter_context(embedded_aws())
        model_moto_costs()
        saved = dict(os.environ)
        self._exit.callback(_restore_environment, saved)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.metrics.log = self._exit.enter_context(self.log_path.open("w", encoding="utf-8"))

        template = load_template()
        resources: dict[str, Any] = template["Resources"]
        # The document goes where a deployed function finds it: a file named by PROFILESYNC_CONFIG.
        document = self.document
        missing = sorted(set(document.connectors) - set(self.sandboxes))
        if missing:
            raise TemplateError(f"no sandbox for the configured instances {', '.join(missing)}")
        folder = Path(self._exit.enter_context(tempfile.TemporaryDirectory(prefix="profilesync-local-")))
        config_path = folder / "profilesync.json"
        config_path.write_text(document.model_dump_json(exclude_defaults=True), encoding="utf-8")
        params = template_parameters({"ConfigFile": str(config_path), **self.parameters})
        scope = TemplateScope(params, conditions=template.get("Conditions", {}))

        import botocore
        from botocore.config import Config

        session = boto3.session.Session(region_name=REGION)
        checked = (
            Config()
            if self.client_checks
            else Config(parameter_validation=False, signature_version=botocore.UNSIGNED)
        )
        self.dynamodb = session.client("dynamodb", config=checked)
        self.sqs = session.client("sqs", config=checked)
        self.streams = session.client("dynamodbstreams", config=checked)

        self.table_name = str(scope.resolve(resources["ProfilesTable"]["Properties"]["TableName"]))
        create_table(self.dynamodb, self.table_name)
        refs: dict[str, str] = {
            "ProfilesTable": self.table_name,
            "DataKey": "local-data-key",
            "AlarmTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:profilesync-local-alarms",
        }
        arns: dict[str, str] = {
            "ProfilesTable": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{self.table_name}"
        }
        # Generated secrets (the audit salt): a fixed value per name, since the embedded AWS lives in
        # this process only; Powertools caches a secret per name, so a value must not change.
        secrets_manager = session.client("secretsmanager")
        for resource in resources.values():
            if resource["Type"] == "AWS::SecretsManager::Secret":
                secret_name = str(scope.resolve(resource["Properties"]["Name"]))
                secrets_manager.create_secret(Name=secret_name, SecretString=f"local-only:{secret_name}")
        # Dead-letter queues first: a redrive policy names its DLQ's ARN.
        queues = [k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"]
        queues.sort(key=lambda k: "RedrivePolicy" in resources[k].get("Properties", {}))
        for logical_id in queues:
            scope = replace(scope, refs=refs, arns=arns)
            url, arn = self._create_queue(scope, resources[logical_id]["Properties"])
            refs[logical_id], arns[logical_id] = url, arn
        self.stream_arn = self.dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        arns["ProfilesTable.StreamArn"] = self.stream_arn
        scope = replace(scope, refs=refs, arns=arns)
        self.scope = scope
        self.queue_url, self.queue_arn = refs["IngestQueue"], arns["IngestQueue"]
        self.dlq_url = refs["IngestDeadLetterQueue"]
        self.push_failure_url = refs["PushFailureQueue"]

        # The functions, their environment as the template sets it, and the event source mappings.
        global_env = (
            template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        globals_fn = template.get("Globals", {}).get("Function", {})
        environment: dict[str, str] = {}
        functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
        # A function's !Ref is its name (the dispatcher's environment names the pull function).
        refs.update(
            {k: str(scope.resolve(v["Properties"].get("FunctionName", k))) for k, v in functions.items()}
        )
        scope = replace(scope, refs=refs)
        self.scope = scope
        for logical_id, resource in functions.items():
            props = resource["Properties"]
            env_vars = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            resolved = {k: str(scope.resolve(v)) for k, v in env_vars.items()}
            environment.update(resolved)
            retries = props.get("EventInvokeConfig", {}).get("MaximumRetryAttempts", 2)
            self.functions[logical_id] = FunctionDef(
                logical_id,
                str(scope.resolve(props.get("FunctionName", logical_id))),
                props["Handler"],
                int(props.get("Timeout", globals_fn.get("Timeout", 3))),
                int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
                resolved,
                int(retries),
            )
        self.environment = environment
        os.environ.update(environment)
        self.merge_mapping = self._mapping(resources, "IngestQueue")
        self.push_mapping = self._mapping(resources, "ProfilesTable")
        self.stream_filters = [
            json.loads(f["Pattern"])
            for f in self.push_mapping["Properties"].get("FilterCriteria", {}).get("Filters", [])
        ]

        from connectors._http import secret_env_var

        # Each instance's credentials in its own secret, as Secrets Manager holds them when deployed.
        secrets: dict[str, str] = {}
        for name in document.connectors:
            instance = document.instance(name)
            credentials = self.sandboxes[name].settings(transport=False).credentials
            secrets[secret_env_var(instance.secret or name)] = json.dumps(dict(credentials))
        self.wiring = wiring_class(
            _wiring.Settings.from_environment(),
            dynamodb=self.dynamodb,
            sqs=self.sqs,
            lambda_client=self.lambda_client,
            plugins=self.plugin,
            secrets_env=secrets,
        )
        _wiring.use(self.wiring)
        # The stream starts now: a poller reads from TRIM_HORIZON, which is empty at this point.
        self._read_stream()

    def _create_queue(self, scope: TemplateScope, props: Mapping[str, Any]) -> tuple[str, str]:
        attributes: dict[str, str] = {}
        for name in ("VisibilityTimeout", "MessageRetentionPeriod", "MaximumMessageSize", "DelaySeconds"):
            if name in props:
                attributes[name] = str(scope.resolve(props[name]))
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(scope.resolve(props["RedrivePolicy"]))
        url: str = self.sqs.create_queue(
            QueueName=str(scope.resolve(props["QueueName"])), Attributes=attributes
        )["QueueUrl"]
        arn: str = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return url, arn

    @staticmethod
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

    def function_for(self, source: str) -> FunctionDef:
        mapping = self.merge_mapping if source == "IngestQueue" else self.push_mapping
        return self.functions[mapping["Properties"]["FunctionName"]["Ref"]]

    # --- invoking ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _captured(self) -> Iterator[None]:
        """What the handler writes (logs, EMF metrics, stderr, Python's root logger) goes to the metric
        sink and the log file, not the terminal: all of it, as Lambda sends all of it to CloudWatch."""
        buffer = io.StringIO()
        service = self.environment.get("POWERTOOLS_SERVICE_NAME", "")
        handlers = list(logging.getLogger(service).handlers)
        streams = [(h, h.setStream(buffer)) for h in handlers if isinstance(h, logging.StreamHandler)]
        # Lambda's runtime gives the root logger a handler: library loggers (the HTTP layer's retry
        # warnings) reach the function's log through it. Powertools' own records are written above.
        root = logging.StreamHandler(buffer)
        root.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(name)s\t%(message)s"))
        root.addFilter(lambda record: not (service and record.name.startswith(service)))
        logging.getLogger().addHandler(root)
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                yield
        finally:
            logging.getLogger().removeHandler(root)
            for handler, previous in streams:
                if previous is not None:
                    handler.setStream(previous)
            self.metrics.feed(buffer.getvalue())

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke a function of the template with ``event``, as Lambda would (one at a time)."""
        fn = self.functions[logical_id]
        handler = fn.load()
        context = LocalContext(fn.name, fn.timeout, fn.memory)
        with self._captured(), warnings.catch_warnings():
            # Powertools warns when an invocation emitted no metric (a crash before the first one).
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            return handler(event, context)

    # --- pull ---------------------------------------------------------------------------------------------
    def pull(self, connector: str) -> PullResult:
        """What the connector's schedule does: invoke pull, then any continuation it hands over to."""
        return self._run_pull({"connector": connector})

    def _run_pull(self, first: dict[str, Any]) -> PullResult:
        fn = self.function_for_handler("functions.pull.handler")
        connector = str(first["connector"])
        result = PullResult(connector)
        queue: list[dict[str, Any]] = [first]
        while queue:
            event = queue.pop(0)
            outcome: dict[str, Any] | None = None
            for _attempt in range(fn.async_retries + 1):
                result.invocations += 1
                self.progress("pull", f"{connector}: invocation {result.invocations}")
                try:
                    outcome = self.invoke(fn.logical_id, event)
                    break
                except Exception:  # Lambda retries an asynchronous invocation that failed
                    result.failed_invocations += 1
            if outcome is None:
                result.status = "failed"
                break
            result.status = str(outcome.get("status", ""))
            for key in ("pulled", "queued", "quarantined", "suppressed", "pages", "messages"):
                setattr(result, key, getattr(result, key) + int(outcome.get(key, 0)))
            result.quarantine_reasons.update(outcome.get("quarantine_reasons", {}))
            for function_name, payload in self.lambda_client.pending:
                if function_name != fn.name:
                    raise TemplateError(f"pull invoked {function_name}, which is not itself")
                queue.append(payload)
            self.lambda_client.pending.clear()
        return result

    def function_for_handler(self, handler: str) -> FunctionDef:
        return next(f for f in self.functions.values() if f.handler == handler)

    # --- the dispatcher: schedules from the configuration document --------------------------------------
    def dispatch(self, at: datetime) -> dict[str, PullResult]:
        """What the dispatcher's one-minute schedule does at ``at``: invoke it with Scheduler's event,
        then run each pull it started (and their continuations), as Lambda would run them."""
        fn = self.function_for_handler("functions.dispatch.handler")
        event = {"action": "dispatch", "scheduled_time": at.astimezone(UTC).isoformat()}
        self.last_dispatch = self.invoke(fn.logical_id, event)
        started = list(self.lambda_client.pending)
        self.lambda_client.pending.clear()
        pull_fn = self.function_for_handler("functions.pull.handler")
        results: dict[str, PullResult] = {}
        for function_name, payload in started:
            if function_name != pull_fn.name:
                raise TemplateError(f"the dispatcher invoked {function_name}, not the pull function")
            results[str(payload["connector"])] = self._run_pull(payload)
        return results

    # --- merge: the ingest queue --------------------------------------------------------------------------
    def drain_queue(self) -> StageCounts:
        """Deliver the ingest queue to merge until it is empty (failures are redelivered, then DLQ'd)."""
        fn = self.function_for("IngestQueue")
        batch_size = int(self.merge_mapping["Properties"].get("BatchSize", 10))
        counts = StageCounts()
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(batch_size, 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            counts.invocations += 1
            counts.messages += len(messages)
            event = sqs_event(messages, self.queue_arn)
            try:
                response = self.invoke(fn.logical_id, event) or {}
                failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            except Exception:  # the whole batch failed
                counts.failed_invocations += 1
                failed = {m["MessageId"] for m in messages}
            done = [m for m in messages if m["MessageId"] not in failed]
            again = [m for m in messages if m["MessageId"] in failed]
            if self.redeliver:
                for m in list(done):
                    if m["MessageId"] not in self._redelivered and self._rng.random() < self.redeliver:
                        self._redelivered.add(m["MessageId"])
                        done.remove(m)
                        again.append(m)
                        counts.redelivered += 1
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
            if again:
                # The visibility timeout ends now rather than in 720 s: SQS delivers them again.
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                        for i, m in enumerate(again)
                    ],
                )
            self.progress("merge", f"{counts.messages:,} messages in {counts.invocations:,} invocations")
        counts.dead_lettered = self.queue_depth(self.dlq_url)
        return counts

    def queue_depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    # --- push: the table's stream ---------------------------------------------------------------------------
    def _read_stream(self) -> list[dict[str, Any]]:
        """New records of every shard since the last read, oldest first."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        out: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator: str | None = (
                self._iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                out.extend(page["Records"])
                for record in page["Records"]:
                    self._shard_of[record["dynamodb"]["SequenceNumber"]] = shard_id
                self._iterators[shard_id] = page.get("NextShardIterator") or iterator
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return out

    def _stream_event(self, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return {"Records": list(records)}

    def drain_stream(self) -> StageCounts:
        """Deliver the stream's new records that pass the mapping's filter to push, in batches."""
        fn = self.function_for("ProfilesTable")
        props = self.push_mapping["Properties"]
        batch_size = int(props.get("BatchSize", 100))
        max_retries = int(props.get("MaximumRetryAttempts", -1))
        bisect = bool(props.get("BisectBatchOnFunctionError", False))
        counts = StageCounts()
        raw = self._read_stream()
        counts.stream_records = len(raw)
        wanted: list[dict[str, Any]] = []
        from functions.events import lambda_stream_record

        for record in raw:
            shaped = {**lambda_stream_record(record), "eventSourceARN": self.stream_arn}
            if not self.stream_filters or any(matches(p, shaped) for p in self.stream_filters):
                wanted.append(shaped)
            else:
                counts.filtered_out += 1
        backlog = self._stream_backlog + wanted
        self._stream_backlog = []
        start = 0
        while start < len(backlog):
            batch = backlog[start : start + batch_size]
            start += len(batch)
            self._deliver(fn, batch, counts, max_retries, bisect)
            self.progress("push", f"{start:,}/{len(backlog):,} profile changes")
        return counts

    def _deliver(
        self,
        fn: FunctionDef,
        batch: list[dict[str, Any]],
        counts: StageCounts,
        max_retries: int,
        bisect: bool,
    ) -> None:
        attempts = 0
        while batch:
            counts.invocations += 1
            try:
                response = self.invoke(fn.logical_id, self._stream_event(batch)) or {}
                failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
            except Exception:
                counts.failed_invocations += 1
                if bisect and len(batch) > 1:
                    half = len(batch) // 2
                    self._deliver(fn, batch[:half], counts, max_retries, bisect)
                    self._deliver(fn, batch[half:], counts, max_retries, bisect)
                    return
                failed = [batch[0]["dynamodb"]["SequenceNumber"]]
            if not failed:
                return
            attempts += 1
            if 0 <= max_retries < attempts:
                self._park(batch)
                counts.push_failures_parked += len(batch)
                return
            counts.push_retries += 1
            # Lambda checkpoints before the first failed record and retries from it.
            first = min(
                range(len(batch)),
                key=lambda i: i if batch[i]["dynamodb"]["SequenceNumber"] in failed else len(batch),
            )
            batch = batch[first:]

    def _park(self, batch: Sequence[dict[str, Any]]) -> None:
        """What Lambda sends to the on-failure destination: the batch's description, no item data."""
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        body = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.stream_arn},
            "DDBStreamBatchInfo": {
                "shardId": self._shard_of.get(sequence[0], ""),
                "streamArn": self.stream_arn,
                "startSequenceNumber": sequence[0],
                "endSequenceNumber": sequence[-1],
                "batchSize": len(batch),
            },
        }
        self.sqs.send_message(QueueUrl=self.push_failure_url, MessageBody=json.dumps(body))

    # --- the whole path ----------------------------------------------------------------------------------
    def settle(self, max_rounds: int = 50) -> tuple[StageCounts, StageCounts]:
        """Merge and push until the queue is empty and the stream is drained."""
        merged, pushed = StageCounts(), StageCounts()
        for _ in range(max_rounds):
            m = self.drain_queue()
            p = self.drain_stream()
            for total, part in ((merged, m), (pushed, p)):
                for name in total.__dataclass_fields__:
                    if name != "dead_lettered":
                        setattr(total, name, getattr(total, name) + getattr(part, name))
            merged.dead_lettered = m.dead_lettered
            if m.messages == 0 and not p.stream_records and self.queue_depth(self.queue_url) == 0:
                return merged, pushed
        raise RuntimeError(f"the queue and the stream did not settle in {max_rounds} rounds")


def _local_wiring_class() -> type[Any]:
    from functools import cached_property

    from core.storage.dynamodb import DynamoDBProfileStore
    from functions._wiring import Wiring

    class LocalWiring(Wiring):
        """The functions' wiring, but the store reads customers one at a time: in one process against
        an in-process moto, parallel reads (8 threads in Lambda, where they wait on the network) only
        contend for the GIL, which made reads about twice as slow."""

        @cached_property
        def profiles(self) -> DynamoDBProfileStore:
            return DynamoDBProfileStore(self.client("dynamodb"), self.settings.table_name, read_workers=1)

    return LocalWiring


_QUERY_PATCHED = False
_QUERY_HINT = threading.local()


def model_moto_costs() -> None:
    """Make the embedded moto's reads cost about what DynamoDB's do; results are moto's own.

    * moto answers ``Query(PK = :pk)`` by sorting every item of the table and keeping those of the
      key, so each read of one customer costs O(table log table): ~80 ms at 12,000 items, which made
      the demo's few thousand customer reads take minutes. Here a table query (not an index's) looks
      only at the partition it names.
    * Sorting compares string keys as strings, and a Scan page reads from the partition its
      ``ExclusiveStartKey`` names instead of sorting and walking the whole table
      (profilesync.moto_scan).
    * Attribute values are serialised as they are held (see below).
    """
    global _QUERY_PATCHED
    if _QUERY_PATCHED:
        return
    from moto.dynamodb.models.table import Table

    from profilesync.moto_scan import items_from, patch_scan, scan_hint
    from profilesync.moto_wire import (
        in_wire_form,
        patch_action_lookup,
        patch_attribute_maps,
        patch_stream_records,
    )

    original_query = Table.query
    original_all_items = Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name") if len(args) < 7 else args[6]
        if index_name or hash_key is None or not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        _QUERY_HINT.only = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _QUERY_HINT.only = None

    def all_items(self: Any) -> Any:
        scanning = scan_hint()
        if scanning is not None and scanning[0] is self:
            lazy = items_from(self, scanning[1])
            if lazy is not None:
                return lazy
        only = getattr(_QUERY_HINT, "only", None)
        if only is not None and only[0] is self:
            items = list(self.items.get(only[1], {}).values())
        elif self.range_key_attr:
            items = [item for partition in self.items.values() for item in partition.values()]
        else:
            return original_all_items(self)
        # moto sorts on DynamoType comparisons (~1 µs each, a scan sorts the whole table on every
        # page); string keys sort the same on their values (code point order is UTF-8 byte order).
        if all(item.hash_key.type == "S" and item.range_key.type == "S" for item in items):
            return sorted(items, key=lambda item: (item.hash_key.value, item.range_key.value))
        return sorted(items, key=lambda item: (item.hash_key, item.range_key))

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    patch_scan()

    # moto serialises each DynamoDB attribute value through the generic model walker, looking up all
    # ten members of the AttributeValue union for every value: ~1.5 ms per stream record. The values
    # moto holds are already in the wire format ({"S": "..."}), so they are written as they are.
    from moto.core.serialize import JSONSerializer

    original_structure = JSONSerializer._serialize_type_structure

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and in_wire_form(value):
            serialized[self.get_serialized_name(shape, key)] = value
            return
        original_structure(self, serialized, value, shape, key)

    JSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]
    # ...and a whole item or stream record, when every value is; moto finds each request's action
    # once per class (profilesync.moto_wire).
    patch_attribute_maps()
    patch_stream_records()
    patch_action_lookup()
    _QUERY_PATCHED = True


def _restore_environment(saved: Mapping[str, str]) -> None:
    for key in list(os.environ):
        if key not in saved:
            del os.environ[key]
    os.environ.update(saved)


__all__ = [
    "LocalContext",
    "LocalLambda",
    "LocalRuntime",
    "MetricSink",
    "PullResult",
    "StageCounts",
    "TemplateError",
    "TemplateScope",
    "matches",
    "sqs_event",
    "template_parameters",
]
