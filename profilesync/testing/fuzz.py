"""Fuzz a connector's mapping with broken vendor objects: no crash, no record unaccounted for.

``vendor_objects(plugin)`` pulls the connector's sandbox (whose objects follow the vendor's
published examples) and keeps every raw object with its page's object type. ``fuzz_mapping`` takes
a third of its pages from the vendor's own objects in its published spec instead, where there is
one (``profilesync.testing.spec_objects``: Stripe's example objects; spec-complete HubSpot, Klaviyo
and Mailchimp objects), breaks them with ``core.testing.mutations.mutate``, puts them in pages of
one to five, maps each page with ``to_records`` and normalises every draft. A page must map to
exactly one draft per element, and each draft must normalise to a record or a quarantine with a
reason; anything raised is a crash. Used by tests/unit/test_mapping_fuzz.py and ``bench/bad_input.py``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.connector import ConnectorPlugin, RawPage
from core.normalise import normalise_record
from core.retirement import tombstone_of
from core.schema import Quarantined, SourceDeletion, SourceRecord
from core.testing.mutations import mutate


@dataclass
class FuzzReport:
    """What one fuzz run saw: ``objects = normalised + quarantined + deleted + unaccounted``."""

    connector: str
    objects: int = 0
    normalised: int = 0
    quarantined: int = 0
    unaccounted: int = 0
    deleted: int = 0
    """Objects the vendor reports deleted (Salesforce's ``IsDeleted``), mapped to tombstones that name
    a record (``core.retirement.tombstone_of``): accounted for, not records."""
    from_specs: int = 0
    """Objects broken from the vendor's spec objects rather than the sandbox's."""
    crashes: int = 0
    first_crash: str = ""
    reasons: Counter[str] = field(default_factory=Counter)


def vendor_objects(plugin: ConnectorPlugin, people: int = 40, seed: int = 7) -> list[tuple[str, Any]]:
    """``(object type, raw object)`` of everything a full pull of the plugin's sandbox returns."""
    if plugin.sandbox is None:
        raise ValueError(f"{plugin.spec.name} ships no sandbox to take vendor objects from")
    sandbox = plugin.sandbox(people=people, seed=seed)
    connector = plugin.build(sandbox.settings())
    try:
        return [(page.object_type, record) for page in connector.pull(None) for record in page.records]
    finally:
        connector.close()


def fuzz_mapping(
    plugin: ConnectorPlugin,
    count: int,
    seed: int = 1,
    samples: list[tuple[str, Any]] | None = None,
    spec_samples: list[tuple[str, Any]] | None = None,
) -> FuzzReport:
    """Map ``count`` broken vendor objects, in pages of one to five of one object type: a third of
    the pages from ``spec_samples`` (default: the vendor's spec objects), the rest from ``samples``
    (default: the sandbox's)."""
    from profilesync.testing.spec_objects import spec_objects

    rng = random.Random(seed)
    samples = samples if samples is not None else vendor_objects(plugin)
    spec_samples = spec_samples if spec_samples is not None else spec_objects(plugin.spec.name, samples)
    if plugin.sandbox is None:
        raise ValueError(f"{plugin.spec.name} ships no sandbox")
    connector = plugin.build(plugin.sandbox(people=0).settings())
    report = FuzzReport(plugin.spec.name)
    try:
        while report.objects < count:
            specs = bool(spec_samples) and rng.random() < 1 / 3
            pool = spec_samples if specs else samples
            object_type, _ = rng.choice(pool)
            same = [raw for kind, raw in pool if kind == object_type]
            size = min(rng.randint(1, 5), count - report.objects)
            page = [mutate(rng.choice(same), rng) for _ in range(size)]
            report.objects += size
            report.from_specs += size if specs else 0
            try:
                drafts = connector.to_records(RawPage(page, None, object_type))
                outcomes = [tombstone_of(d) if d.deleted else normalise_record(d) for d in drafts]
            except Exception as error:
                report.crashes += 1
                report.unaccounted += size
                report.first_crash = report.first_crash or f"{type(error).__name__}: {error}"[:300]
                continue
            report.unaccounted += abs(size - len(drafts))
            for outcome in outcomes[:size]:
                if isinstance(outcome, SourceRecord):
                    report.normalised += 1
                elif isinstance(outcome, SourceDeletion):
                    report.deleted += 1
                elif isinstance(outcome, Quarantined) and outcome.reason:
                    report.quarantined += 1
                    report.reasons[outcome.reason.split(":")[0].split(";")[0][:60]] += 1
                else:
                    report.unaccounted += 1
    finally:
        connector.close()
    return report


@dataclass
class ResolveFuzzReport:
    """What a fuzz run through ``resolve`` saw: ``read = normalised + quarantined`` and the store's
    invariants (``core.testing.invariants``) are what must hold."""

    read: int = 0
    normalised: int = 0
    quarantined: int = 0
    profiles: int = 0
    crashes: int = 0
    first_crash: str = ""
    store_problems: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)


def mutated_population_lines(count: int, seed: int = 1, share: float = 0.5) -> list[str]:
    """``count`` JSON lines of real-looking records (``core.testing.population``: people across a
    CRM, a shop with orders and an email tool), a ``share`` of them broken with ``mutate``."""
    import json

    from core.testing.population import population

    rng = random.Random(seed)
    pairs = population(max(1, count // 3), seed=seed)
    while len(pairs) < count:
        pairs += population(max(1, count // 3), seed=seed + len(pairs))
    lines = []
    for _, record in pairs[:count]:
        value = mutate(record, rng) if rng.random() < share else record
        lines.append(json.dumps(value))  # a lone surrogate is written escaped, as exports do
    return lines


def fuzz_resolve(lines: list[str], store: Any, batch_size: int = 100) -> ResolveFuzzReport:
    """Resolve JSON ``lines`` (as ``profilesync resolve`` reads them) into ``store``; anything raised
    is a crash, and the store is checked for consistency after the run."""
    import json

    from connectors.jsonl import draft_from_flat
    from core.testing.invariants import store_problems
    from profilesync.resolve import resolve

    items: list[Any] = []
    for number, line in enumerate(lines, 1):
        value = json.loads(line)
        if isinstance(value, dict):
            items.append(draft_from_flat(value))
        else:
            items.append(Quarantined(source="jsonl", source_id=f"line {number}", reason="not a JSON object"))
    report = ResolveFuzzReport(read=len(lines))
    try:
        result = resolve(items, store, batch_size=batch_size)
    except Exception as error:
        report.crashes = 1
        report.first_crash = f"{type(error).__name__}: {error}"[:300]
        return report
    report.normalised, report.quarantined = result.normalised, result.quarantined
    report.reasons = result.quarantine_reasons
    profiles = list(store.iter_profiles())
    report.profiles = len(profiles)
    report.store_problems = store_problems(profiles, store.ident_owners())
    return report


__all__ = [
    "FuzzReport",
    "ResolveFuzzReport",
    "fuzz_mapping",
    "fuzz_resolve",
    "mutated_population_lines",
    "vendor_objects",
]
