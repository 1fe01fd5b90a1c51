"""Schedule expressions (EventBridge Scheduler syntax) and the configuration document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import ProfileSyncConfig, parse_config
from core.errors import ConfigurationError
from core.schedule import ScheduleError, parse_schedule

WED = datetime(2026, 3, 11, 10, 7, 31, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("expression", "latest"),
    [
        ("rate(15 minutes)", datetime(2026, 3, 11, 10, 0, tzinfo=UTC)),
        ("rate(1 hour)", datetime(2026, 3, 11, 10, 0, tzinfo=UTC)),
        ("cron(0 6 * * ? *)", datetime(2026, 3, 11, 6, 0, tzinfo=UTC)),
        ("cron(0/20 9-17 ? * MON-FRI *)", datetime(2026, 3, 11, 10, 0, tzinfo=UTC)),
        ("cron(0 12 ? * SAT,SUN *)", datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        ("cron(30 2 L * ? *)", datetime(2026, 2, 28, 2, 30, tzinfo=UTC)),  # last day of the month
        ("cron(0 0 ? * 6L *)", datetime(2026, 2, 27, 0, 0, tzinfo=UTC)),  # last Friday
        ("cron(0 0 ? * 2#1 *)", datetime(2026, 3, 2, 0, 0, tzinfo=UTC)),  # first Monday
        ("cron(0 0 15W * ? *)", datetime(2026, 2, 16, 0, 0, tzinfo=UTC)),  # 15 Feb is a Sunday
        ("cron(0 12 LW * ? *)", datetime(2026, 2, 27, 12, 0, tzinfo=UTC)),  # last weekday of Feb
        ("cron(0 8 1 JAN ? 2025)", datetime(2025, 1, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_latest_slot_follows_eventbridge_semantics(expression: str, latest: datetime) -> None:
    assert parse_schedule(expression).latest_slot(WED) == latest


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("rate(0 minutes)", "at least 1"),
        ("rate(5 weeks)", "is not a schedule"),
        ("cron(0 6 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(61 * * * ? *)", "minutes 61 is outside 0-59"),
        ("cron(0 6 * *)", "six fields"),
        ("cron(0 6 ? * 2#6 *)", "week must be 1 to 5"),
        ("hourly", "is not a schedule"),
    ],
)
def test_a_bad_expression_is_refused_with_what_is_wrong(expression: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        parse_schedule(expression)


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    step=st.sampled_from([1, 5, 7, 15, 30]),
    at=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
)
def test_a_cron_slot_is_the_latest_matching_minute_at_or_before_now(
    minute: int, hour: int, step: int, at: datetime
) -> None:
    # GIVEN "every `step` minutes from `minute`, in hour `hour` and the one after, on weekdays"
    hours = f"{hour}-{min(hour + 1, 23)}"
    schedule = parse_schedule(f"cron({minute % step}/{step} {hours} ? * MON-FRI *)")
    slot = schedule.latest_slot(at)
    assert slot is not None
    # THEN the slot is at or before `at`, matches the fields, and no later minute up to `at` matches
    assert slot <= at
    assert slot.minute % step == minute % step
    assert slot.hour in (hour, min(hour + 1, 23))
    assert slot.isoweekday() <= 5
    assert schedule.latest_slot(slot) == slot
    probe = slot + timedelta(minutes=1)
    while probe <= at and probe - slot < timedelta(days=4):
        matches = (
            probe.minute % step == minute % step
            and probe.hour in (hour, min(hour + 1, 23))
            and probe.isoweekday() <= 5
        )
        assert not matches, probe
        probe += timedelta(minutes=1)


def test_rate_slots_count_from_the_epoch_so_a_late_dispatcher_does_not_move_them() -> None:
    schedule = parse_schedule("rate(15 minutes)")
    slots = {schedule.latest_slot(WED + timedelta(seconds=s)) for s in range(0, 600, 7)}
    assert slots == {datetime(2026, 3, 11, 10, 0, tzinfo=UTC), datetime(2026, 3, 11, 10, 15, tzinfo=UTC)}


DOCUMENT = """
version: 1
defaults:
  schedule: rate(30 minutes)
connectors:
  shopify-eu:
    vendor: shopify
    options: {shop: acme-eu}
    freshness: 2h
  shopify-us:
    vendor: shopify
    options: {shop: acme-us}
    schedule: cron(0 * * * ? *)
  hubspot: {}
  audience-b:
    vendor: mailchimp
    schedule: off
"""


def test_the_document_declares_instances_their_vendors_schedules_and_freshness() -> None:
    config = parse_config(DOCUMENT, "profilesync.yaml")
    assert {n: config.vendor(n) for n in config.connectors} == {
        "shopify-eu": "shopify",
        "shopify-us": "shopify",
        "hubspot": "hubspot",
        "audience-b": "mailchimp",
    }
    assert config.schedule("hubspot").expression == "rate(30 minutes)"  # the default
    assert config.scheduled() == ["hubspot", "shopify-eu", "shopify-us"]  # audience-b is off
    assert config.freshness("shopify-eu") == timedelta(hours=2)
    assert config.freshness("shopify-us") == timedelta(hours=3)  # three times the hourly gap
    assert config.freshness("hubspot") == timedelta(minutes=90)
    assert config.freshness("audience-b") is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("connectors: {Shop EU: {}}", "connectors.Shop EU.[key]: instance names are lower-case"),
        ("connectors: {a: {shedule: rate(1 hour)}}", "connectors.a.shedule: unknown setting"),
        ("conectors: {}", "conectors: unknown setting"),
        ("connectors: {a: {schedule: 'rate(5 weeks)'}}", "connectors.a.schedule: 'rate(5 weeks)' is not"),
        ("connectors: {a: {freshness: soon}}", "connectors.a.freshness: 'soon' is not a duration"),
        ("connectors: {a: {rate_budget: [0, 1]}}", "connectors.a.rate_budget.0"),
        ("version: 2", "version"),
        ("- a list", "must be a mapping"),
        ("connectors: [", "not valid YAML"),
    ],
)
def test_a_bad_document_names_the_file_the_place_and_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_config(text, "deploy/profilesync.yaml")
    message = str(raised.value)
    assert message.startswith("deploy/profilesync.yaml: ")
    assert fragment in message
    assert "\n" not in message


def test_an_unconfigured_instance_is_named_with_the_configured_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"'zendesk' is not configured \(configured: a, b\)"):
        ProfileSyncConfig.model_validate({"connectors": {"a": {}, "b": {}}}).instance("zendesk")


def test_json_documents_read_the_same() -> None:
    config = parse_config('{"connectors": {"shopify-eu": {"vendor": "shopify"}}}', "p.json")
    assert config.vendor("shopify-eu") == "shopify"
