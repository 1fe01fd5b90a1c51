"""Fuzz a connector's mapping with broken vendor objects: no crash, no record unaccounted for.

``vendor_objects(plugin)`` pulls the connector's sandbox (whose objects follow the vendor's
published examples) and keeps every raw object with its page's object type. ``fuzz_mapping``
breaks them with ``core.testing.mutations.mutate``, puts them in pages of one to five, maps each
page with ``to_records`` and normalises every draft. A page must map to exactly one draft per
element, and each draft must normalise to a record or a quarantine with a reason; anything raised
is a crash. Used by tests/unit/test_mapping_fuzz.py and ``bench/bad_input.py``.
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
    plugin: ConnectorPlugin, count: int, seed: int = 1, samples: list[tuple[str, Any]] | None = None
) -> FuzzReport:
    """Map ``count`` broken vendor objects, in pages of one to five of one object type."""
    rng = random.Random(seed)
    samples = samples if samples is not None else vendor_objects(plugin)
    if plugin.sandbox is None:
        raise ValueError(f"{plugin.spec.name} ships no sandbox")
    connector = plugin.build(plugin.sandbox(people=0).settings())
    report = FuzzReport(plugin.spec.name)
    try:
        while report.objects < count:
            object_type, _ = rng.choice(samples)
            same = [raw for kind, raw in samples if kind == object_type]
            size = min(rng.randint(1, 5), count - report.objects)
            page = [mutate(rng.choice(same), rng) for _ in range(size)]
            report.objects += size
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


__all__ = ["FuzzReport", "fuzz_mapping", "vendor_objects"]
