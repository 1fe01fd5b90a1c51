"""Schedules come from the configuration document: a second Shopify store and a plugin are pulled on
their own schedules by the deployed dispatcher, in the local runtime, without a template edit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.hubspot import HubSpotSandbox
from connectors.shopify import make_sandbox as shopify_sandbox
from core.config import parse_config
from profilesync import registry
from profilesync.local import LocalRuntime
from profilesync.template import load_template
from tests.e2e.test_plugins import acme_site  # noqa: F401 - the example plugin, installed as pip would

T0 = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)

# The rate budgets are the sandboxes' raised plans (as in the demo), so pulls do not wait for tokens.
DOCUMENT = """
connectors:
  shopify-eu:
    vendor: shopify
    options: {shop: acme-eu}
    schedule: rate(15 minutes)
    rate_budget: [5000, 2000]
  shopify-us:
    vendor: shopify
    options: {shop: acme-us}
    schedule: rate(1 hour)
    rate_budget: [5000, 2000]
  hubspot:
    schedule: cron(0/30 * * * ? *)
    rate_budget: [19, 190]
"""


def _scan(rt: LocalRuntime) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": rt.table_name}
    while True:
        page = rt.dynamodb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _sources(items: list[dict[str, Any]]) -> set[str]:
    """The source names of the stored records (``SOURCE#<source>:<type>:<id>``)."""
    return {i["SK"]["S"].split("#")[1].split(":")[0] for i in items if i["SK"]["S"].startswith("SOURCE#")}


def test_a_second_shopify_store_is_pulled_on_its_own_schedule_by_configuration_alone() -> None:
    # GIVEN two Shopify stores (the same people shop in both) and HubSpot, declared in the document only
    config = parse_config(DOCUMENT, "profilesync.yaml")
    sandboxes = {
        "shopify-eu": shopify_sandbox(people=40, seed=11, shop="acme-eu", rate_scale=50.0),
        "shopify-us": shopify_sandbox(people=40, seed=11, shop="acme-us", rate_scale=50.0),
        "hubspot": HubSpotSandbox(people=40, seed=11, rate_limit_per_10s=190),
    }
    with LocalRuntime(sandboxes, config=config) as rt:
        # WHEN the dispatcher's one-minute schedule fires over an hour and a bit
        started: dict[datetime, list[str]] = {}
        for minute in range(0, 61, 5):
            at = T0 + timedelta(minutes=minute)
            started[at] = sorted(rt.dispatch(at))
        # AND a retried delivery of the last minute arrives again
        assert rt.dispatch(T0 + timedelta(minutes=60)) == {}
        rt.settle()
        # THEN each instance was pulled when its own schedule said, and never twice for one slot
        pulls = {
            name: [at.strftime("%H:%M") for at, names in started.items() if name in names]
            for name in config.connectors
        }
        assert pulls == {
            "shopify-eu": ["10:00", "10:15", "10:30", "10:45", "11:00"],
            "shopify-us": ["10:00", "11:00"],
            "hubspot": ["10:00", "10:30", "11:00"],
        }
        items = _scan(rt)
        # AND each store's records are its own source, so the same vendor ids never merged strangers
        sources = {
            i["SK"]["S"].split("#")[1].split(":")[0] for i in items if i["SK"]["S"].startswith("SOURCE#")
        }
        assert {"shopify-eu", "shopify-us", "hubspot"} <= sources
        assert not any(s == "shopify" for s in sources)
        # AND each instance has its own cursor and last successful run
        states = {
            i["PK"]["S"][5:]: i for i in items if i["PK"]["S"].startswith("SYNC#") and i["SK"]["S"] == "STATE"
        }
        for name in config.connectors:
            assert json.loads(states[name]["report"]["S"])["last_success_at"]
        # AND every instance got its freshness alarm, sized from its schedule, on its pull age
        cloudwatch = rt.wiring.client("cloudwatch")
        alarms = {
            a["AlarmName"]: a
            for a in cloudwatch.describe_alarms(AlarmNamePrefix="profilesync-local-freshness-")[
                "MetricAlarms"
            ]
        }
        assert set(alarms) == {f"profilesync-local-freshness-{n}" for n in config.connectors}
        us = alarms["profilesync-local-freshness-shopify-us"]
        assert us["Threshold"] == 3 * 3600
        assert us["MetricName"] == "PullAgeSeconds"
        assert {d["Name"]: d["Value"] for d in us["Dimensions"]}["instance"] == "shopify-us"
        assert us["TreatMissingData"] == "breaching"
        assert us["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:profilesync-local-alarms"]
        # AND the pull ages were published for the dashboard and the alarms
        assert rt.metrics.total("PullAgeSeconds", instance="shopify-us") >= 0
        assert ("PullAgeSeconds", (("instance", "shopify-eu"),)) in rt.metrics.values


def test_the_template_schedules_nothing_but_the_dispatcher() -> None:
    functions = {
        k: v for k, v in load_template()["Resources"].items() if v["Type"] == "AWS::Serverless::Function"
    }
    schedules = {
        (logical_id, name)
        for logical_id, fn in functions.items()
        for name, event in fn["Properties"].get("Events", {}).items()
        if event["Type"] in ("ScheduleV2", "Schedule")
    }
    # Beside it only the privacy function's hourly erase-retry, which names no connector either.
    assert schedules == {("DispatchFunction", "EveryMinute"), ("PrivacyFunction", "EraseRetrySchedule")}


def test_an_installed_plugin_is_scheduled_by_the_document_alone(acme_site: Path) -> None:  # noqa: F811
    # GIVEN the example plugin installed next to profilesync and one instance of it in the document
    plugin = registry.get("acme")
    assert plugin.sandbox is not None
    config = parse_config(
        "connectors:\n  acme-prod:\n    vendor: acme\n    schedule: rate(30 minutes)\n", "p.yaml"
    )
    with LocalRuntime({"acme-prod": plugin.sandbox(people=20, seed=2)}, config=config) as rt:
        # WHEN the dispatcher runs at its slots
        first = rt.dispatch(T0)
        between = rt.dispatch(T0 + timedelta(minutes=10))
        second = rt.dispatch(T0 + timedelta(minutes=30))
        rt.settle()
        # THEN the plugin was pulled at each of its slots and its records were merged under its name
        assert set(first) == set(second) == {"acme-prod"}
        assert between == {}
        assert first["acme-prod"].pulled > 0
        assert first["acme-prod"].status == "done"
        sources = {
            i["SK"]["S"].split("#")[1].split(":")[0] for i in _scan(rt) if i["SK"]["S"].startswith("SOURCE#")
        }
        assert sources == {"acme-prod"}
    assert "acme" not in (Path(__file__).resolve().parents[2] / "template.yaml").read_text()
