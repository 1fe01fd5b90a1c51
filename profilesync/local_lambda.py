"""Lambda's side of the local runtime (``profilesync.local``): the context a handler gets, the stand-in
Lambda client, a function of the template, the EMF metric sink, the event shapes Lambda's pollers
build, and the counts of what a run did.
"""

from __future__ import annotations

import importlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from profilesync.local_template import ACCOUNT_ID, REGION, TemplateError


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
