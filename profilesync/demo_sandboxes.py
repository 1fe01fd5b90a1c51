"""The tools ``profilesync demo`` runs: their labels, the sandboxes seeded from one population (at
the vendors' higher published plans unless ``published_limits``), and the changes made in the tools
between the two rounds.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

#: The tools the demo runs unless ``--tools`` names others (any registered connector with a sandbox).
DEFAULT_TOOLS = ("hubspot", "mailchimp", "shopify")
CONNECTORS = DEFAULT_TOOLS
LABELS = {
    "hubspot": "HubSpot",
    "mailchimp": "Mailchimp",
    "shopify": "Shopify",
    "klaviyo": "Klaviyo",
    "stripe": "Stripe",
    "salesforce": "Salesforce",
    "woocommerce": "WooCommerce",
}
#: Sandbox options that run a tool at its vendor's higher published plan, so that a few thousand people
#: take seconds rather than minutes of rate-limit waits (``--published-limits`` leaves them out).
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "hubspot": {"rate_limit_per_10s": 190},
    "shopify": {"rate_scale": 50.0},
}


def label(name: str) -> str:
    """How the demo names a tool: its label, or its connector name capitalised."""
    return LABELS.get(name, name.capitalize())


def demo_tools() -> list[str]:
    """Every registered connector whose plugin ships a sandbox: what ``--tools`` may name. A sandbox
    factory takes ``people`` and ``seed`` and seeds itself from ``population(people, seed)``, so the
    same people overlap across whichever tools are chosen."""
    from profilesync.registry import all_plugins

    return sorted(p.spec.name for p in all_plugins() if p.sandbox is not None)


#: The limits the demo's sandboxes run at unless ``published_limits``: the vendors' higher published
#: plans, so that a few thousand people take seconds rather than minutes of waiting for rate limits.
FAST_LIMITS_NOTE = (
    "rate limits raised for the demo: the HubSpot sandbox allows 190 requests per 10 s (the "
    "Professional plan's limit) and the Shopify sandbox restores 5,000 query-cost points per second "
    "(50x the Standard plan's 100); --published-limits runs at the entry plans' limits"
)
SHOPIFY_RATE_SCALE = FAST_OPTIONS["shopify"]["rate_scale"]


def make_sandboxes(
    people: int, seed: int, *, published_limits: bool = False, tools: Sequence[str] = DEFAULT_TOOLS
) -> dict[str, Any]:
    """The chosen tools' sandboxes, each seeded from ``population(people, seed)``: the same people
    overlap. Built by each connector's own plugin, so any registered connector with a sandbox fits."""
    from core.errors import ConnectorConfigError
    from profilesync.registry import get

    sandboxes: dict[str, Any] = {}
    for name in dict.fromkeys(tools):
        plugin = get(name)
        if plugin.sandbox is None:
            raise ConnectorConfigError(
                f"connector {name!r} ships no sandbox, so the demo cannot run it; tools with a sandbox: "
                f"{', '.join(demo_tools())}"
            )
        options = {} if published_limits else FAST_OPTIONS.get(name, {})
        sandboxes[name] = plugin.sandbox(people=people, seed=seed, **options)
    return sandboxes


def run_sandbox(plugin: Any) -> Any:
    """The in-process sandbox of ``profilesync sync --sandbox``: the vendor's, at its higher published
    plan as the demo's (``FAST_OPTIONS``): at Shopify's Standard plan, its connector waited 12 s of
    pure pacing for the sandbox's 200 people."""
    return plugin.sandbox(**FAST_OPTIONS.get(plugin.spec.name, {}))


def change_tools(sandboxes: Mapping[str, Any], *, share: float, new_people: int, seed: int) -> dict[str, int]:
    """Edit ``share`` of each tool's records and add ``new_people`` to each; return changes per tool."""
    rng = random.Random(f"demo-changes:{seed}")
    changed: dict[str, int] = {}
    for name, sandbox in sandboxes.items():
        keys = sorted(sandbox.record_keys())
        picked = set(rng.sample(keys, max(1, int(len(keys) * share)))) if keys else set()
        sandbox.touch(picked)
        added = sandbox.add_records(new_people)
        changed[name] = len(picked) + len(added)
    return changed
