"""Start the connector instances whose schedule is due; watch that each one keeps pulling.

One EventBridge schedule invokes this function every minute with
``{"action": "dispatch", "scheduled_time": "<aws.scheduler.scheduled-time>"}``. For every instance of the
configuration document that has a schedule:

1. **due?** its latest slot at or before the scheduled time (core/schedule.py) is claimed in the table
   (a conditional write: a retried or overlapping invocation starts nothing twice), and a claimed slot
   starts the pull function asynchronously with ``{"connector": "<instance>"}``. A dispatcher that was
   down for an hour starts each instance once, not once per missed slot: a pull catches up from its
   cursor anyway, and the pull's lease keeps two runs of one instance apart.
2. **fresh?** ``PullAgeSeconds`` (dimension ``instance``): seconds since its last successful pull (the
   pull records ``last_success_at`` in the instance's SYNC# state), or since the dispatcher first started
   it when none has succeeded yet. ``StaleInstances`` counts those older than their freshness.
3. **alarms follow the document**: when the document changed since the last run (its hash is kept in the
   table), each instance's freshness alarm (``<FRESHNESS_ALARM_PREFIX><instance>``, on its
   ``PullAgeSeconds`` above its freshness, notifying ``ALARM_TOPIC_ARN``) is created or updated, and the
   alarms of instances no longer configured are deleted. Missing data counts as breaching, so a
   dispatcher that stopped running sets them off too.

Why a dispatcher rather than one EventBridge schedule per instance in template.yaml: instances (and
plugins) are then added by configuration alone, their schedules need no stack parameter or template
edit, and the local runtime runs the very same code against a simulated clock.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, ConfigDict

from functions._wiring import Wiring, WiringError, metrics_namespace, traced, wiring

if TYPE_CHECKING:
    from core.config import ProfileSyncConfig

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())

#: CloudWatch evaluates the freshness alarm over this period, with one datapoint a minute in it.
FRESHNESS_PERIOD_SECONDS = 300


class DispatchEvent(BaseModel):
    """What the dispatcher's schedule sends; ``scheduled_time`` is Scheduler's, so a retried delivery of
    one minute looks at that minute again (and its claims make it start nothing twice)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = "dispatch"
    scheduled_time: AwareDatetime | None = None


@dataclass
class DispatchOutcome:
    at: str
    started: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    ages: dict[str, int] = field(default_factory=dict)
    alarms_updated: bool = False


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise WiringError(f"{name} is not set: the dispatcher needs it (template.yaml sets it)")
    return value


def config_hash(config: ProfileSyncConfig) -> str:
    """A digest of what the freshness alarms depend on (instances, schedules, freshness)."""
    alarms = {name: config.freshness(name) for name in sorted(config.connectors)}
    text = json.dumps({k: v.total_seconds() if v else None for k, v in alarms.items()}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def last_success(w: Wiring, instance: str) -> datetime | None:
    """When the instance's last pull invocation ended well, from its SYNC# state's report."""
    report = w.sync_state.get_sync_state(instance).report
    if not report:
        return None
    try:
        stamp = json.loads(report).get("last_success_at")
    except ValueError:
        return None
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None


def run_dispatch(event: DispatchEvent, w: Wiring, now: datetime) -> DispatchOutcome:
    """The body of the handler (tests and the local runtime call it with their own clock)."""
    from core.storage.dynamodb_schedule import DynamoDBScheduleStore

    config = w.settings.document
    store = DynamoDBScheduleStore(w.client("dynamodb"), w.settings.table_name)
    at = event.scheduled_time or now
    outcome = DispatchOutcome(at=at.isoformat())
    pull_function = _required(os.environ, "PULL_FUNCTION_NAME")
    for instance in config.scheduled():
        slot = config.schedule(instance).latest_slot(at)
        if slot is not None and store.claim(instance, slot, now):
            response = w.client("lambda").invoke(
                FunctionName=pull_function,
                InvocationType="Event",
                Payload=json.dumps({"connector": instance}).encode(),
            )
            if response.get("StatusCode") != 202:
                logger.error("Lambda did not queue the pull", extra={"instance": instance})
                continue
            outcome.started.append(instance)
        else:
            outcome.not_due.append(instance)

    for instance in sorted(config.connectors):
        freshness = config.freshness(instance)
        if freshness is None:
            continue
        since = last_success(w, instance) or store.first_seen(instance)
        age = int((now - since).total_seconds()) if since is not None else 0
        outcome.ages[instance] = max(0, age)
        if age > freshness.total_seconds():
            outcome.stale.append(instance)
        with single_metric(
            name="PullAgeSeconds",
            unit=MetricUnit.Seconds,
            value=max(0, age),
            namespace=metrics_namespace(),
            default_dimensions={"instance": instance},
        ):
            pass
    metrics.add_metric(name="StaleInstances", unit=MetricUnit.Count, value=len(outcome.stale))
    metrics.add_metric(name="PullsStarted", unit=MetricUnit.Count, value=len(outcome.started))

    digest = config_hash(config)
    if store.alarms_hash() != digest:
        reconcile_freshness_alarms(w, config)
        store.set_alarms_hash(digest)
        outcome.alarms_updated = True
    return outcome


def reconcile_freshness_alarms(w: Wiring, config: ProfileSyncConfig) -> None:
    """One freshness alarm per instance with a freshness, named and sized from the document; the
    alarms of instances that left the document are deleted."""
    prefix = _required(os.environ, "FRESHNESS_ALARM_PREFIX")
    topic = os.environ.get("ALARM_TOPIC_ARN", "").strip()
    cloudwatch = w.client("cloudwatch")
    wanted: set[str] = set()
    for instance in sorted(config.connectors):
        freshness = config.freshness(instance)
        if freshness is None:
            continue
        name = f"{prefix}{instance}"
        wanted.add(name)
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=(
                f"No pull of {instance} succeeded for {freshness}: the connector stopped pulling "
                "(see docs/operations.md, 'Freshness')."
            ),
            Namespace=metrics_namespace(),
            MetricName="PullAgeSeconds",
            Dimensions=[
                {"Name": "instance", "Value": instance},
                {"Name": "service", "Value": os.environ.get("POWERTOOLS_SERVICE_NAME", "profilesync")},
            ],
            Statistic="Maximum",
            Period=FRESHNESS_PERIOD_SECONDS,
            EvaluationPeriods=1,
            Threshold=freshness.total_seconds(),
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="breaching",
            **({"AlarmActions": [topic], "OKActions": [topic]} if topic else {}),
        )
    paginator = cloudwatch.get_paginator("describe_alarms")
    existing = [
        alarm["AlarmName"]
        for page in paginator.paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])
        for alarm in page.get("MetricAlarms", [])
    ]
    gone = [name for name in existing if name not in wanted]
    for start in range(0, len(gone), 100):  # DeleteAlarms takes at most 100 names
        cloudwatch.delete_alarms(AlarmNames=gone[start : start + 100])
    logger.info("freshness alarms reconciled", extra={"alarms": sorted(wanted), "deleted": gone})


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Start the due pulls and publish each instance's pull age; see the module docstring."""
    request = DispatchEvent.model_validate(event)
    outcome = run_dispatch(request, wiring(), datetime.now(UTC))
    if outcome.stale:
        logger.warning("instances without a recent successful pull", extra={"stale": outcome.stale})
    logger.info("dispatched", extra=asdict(outcome))
    return asdict(outcome)


__all__ = [
    "FRESHNESS_PERIOD_SECONDS",
    "DispatchEvent",
    "DispatchOutcome",
    "config_hash",
    "handler",
    "last_success",
    "reconcile_freshness_alarms",
    "run_dispatch",
]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done (functions/__init__.py paused the collector): freeze what they
    # built and collect again (core.runtime). Not when imported elsewhere: that process is not ours.
    from core.runtime import resume_gc

    resume_gc()
