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
by name and dimension, and ``log_path`` keeps every line. The functions log at the runtime's
``LogLevel`` whatever imported their modules before in the process (``local_logs``).

The parts live beside this module: the template's intrinsic functions (``local_template``), Lambda's
side and the event shapes (``local_lambda``), the setup (``local_setup``), the pollers
(``local_pollers``), the log capture (``local_logs``) and the embedded AWS's wiring and moto patches
(``local_moto``).

Differences from Lambda, each on purpose: invocations run one at a time in this process (Lambda would
run merges and pushes concurrently, which the store's conditional writes are tested for elsewhere); the
three functions share one environment (the union of what the template gives each); and pollers do not
wait for batching windows or visibility timeouts.
"""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import ProfileSyncConfig
from core.connector import ConnectorPlugin, ConnectorSettings
from profilesync import local_pollers as pollers
from profilesync import local_setup as setup
from profilesync.local_lambda import (
    FunctionDef,
    LocalContext,
    LocalLambda,
    MetricSink,
    ProgressFn,
    PullResult,
    StageCounts,
    _quiet,
    matches,
    sqs_event,
)
from profilesync.local_logs import captured
from profilesync.local_moto import model_moto_costs
from profilesync.local_template import ACCOUNT_ID, REGION, TemplateError, TemplateScope, template_parameters

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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

    # Set up on entering (profilesync.local_setup.start): the embedded AWS's clients and resources, the
    # template's resolved scope, functions' environment and event source mappings, and the wiring.
    dynamodb: DynamoDBClient
    sqs: Any
    streams: Any
    table_name: str
    stream_arn: str
    scope: TemplateScope
    queue_url: str
    queue_arn: str
    dlq_url: str
    push_failure_url: str
    environment: dict[str, str]
    merge_mapping: dict[str, Any]
    push_mapping: dict[str, Any]
    stream_filters: list[Any]
    wiring: Any

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
        connector_sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.sandboxes = dict(sandboxes)
        #: What the connectors built here wait with (their RetryPolicy's sleep: retries, a vendor
        #: job's polls); None: real time. A test passes a recorder, and waits are counted, not slept.
        self.connector_sleep = connector_sleep
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
            setup.start(self)
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
            settings = replace(settings, transport=chosen[0].transport())
            if self.connector_sleep is not None:
                from connectors._http import RetryPolicy

                retry = settings.retry if isinstance(settings.retry, RetryPolicy) else RetryPolicy()
                settings = replace(settings, retry=replace(retry, sleep=self.connector_sleep))
            return base.build(settings)

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

    def function_for(self, source: str) -> FunctionDef:
        mapping = self.merge_mapping if source == "IngestQueue" else self.push_mapping
        return self.functions[mapping["Properties"]["FunctionName"]["Ref"]]

    # --- invoking ---------------------------------------------------------------------------------------
    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke a function of the template with ``event``, as Lambda would (one at a time)."""
        fn = self.functions[logical_id]
        handler = fn.load()
        context = LocalContext(fn.name, fn.timeout, fn.memory)
        # What it writes goes to this runtime's log, its Powertools loggers at this runtime's level,
        # however an earlier import in the process made them (local_logs).
        package = fn.handler.partition(".")[0]
        with captured(self.environment, package, self.metrics.feed), warnings.catch_warnings():
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

    # --- the pollers: the ingest queue to merge, the table's stream to push (local_pollers) -------------
    def drain_queue(self) -> StageCounts:
        """Deliver the ingest queue to merge until it is empty (failures are redelivered, then DLQ'd)."""
        return pollers.drain_queue(self)

    def drain_stream(self) -> StageCounts:
        """Deliver the stream's new records that pass the mapping's filter to push, in batches."""
        return pollers.drain_stream(self)

    def queue_depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

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


__all__ = [
    "ACCOUNT_ID",
    "REGION",
    "FunctionDef",
    "LocalContext",
    "LocalLambda",
    "LocalRuntime",
    "MetricSink",
    "PullResult",
    "StageCounts",
    "TemplateError",
    "TemplateScope",
    "matches",
    "model_moto_costs",
    "sqs_event",
    "template_parameters",
]
