"""The demo report names a tool as the rest of the demo does (profilesync.demo_sandboxes.label): the
customers-per-combination chart kept a copy of the labels that lacked Klaviyo and Stripe and, for a
tool it did not list, printed the connector's bare name where every other section capitalised it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.schema import Profile, SourceRef
from profilesync.demo_sandboxes import LABELS, label
from profilesync.report import combinations

AT = datetime(2026, 1, 2, tzinfo=UTC)


def _customer(number: int, *tools: str) -> Profile:
    sources = tuple(
        SourceRef(source=tool, object_type="contact", id=str(number), updated_at=AT) for tool in tools
    )
    return Profile(customer_id=f"cus_{number}", identifiers=(), sources=sources)


@pytest.mark.parametrize("tool", [*sorted(LABELS), "acme"])
def test_a_tool_alone_is_named_as_the_demo_names_it(tool: str) -> None:
    # GIVEN customers known to one tool only (a listed one, or one the labels do not know)
    profiles = [_customer(1, tool), _customer(2, tool)]
    # WHEN the report counts customers per combination of tools
    # THEN the tool carries the demo's label for it
    assert combinations(profiles) == [(f"{label(tool)} only", 2)]


def test_a_combination_names_each_of_its_tools_as_the_demo_does() -> None:
    # GIVEN a customer known to Stripe and Klaviyo, and one to HubSpot and Shopify
    profiles = [
        _customer(1, "stripe", "klaviyo"),
        _customer(2, "hubspot", "shopify"),
        _customer(3, "hubspot"),
    ]
    # WHEN counted per combination THEN every tool is labelled, the larger combinations first
    assert combinations(profiles) == [("Klaviyo + Stripe", 1), ("HubSpot + Shopify", 1), ("HubSpot only", 1)]
