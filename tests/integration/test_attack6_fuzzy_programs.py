"""attack6: random programs of deliveries, erasures, sign-ups again and vendor deletions, where
identity is probabilistic.

The records are versions of the personas of test_link_graph_promises: Ann in many tools with no
identifier in common (her name, birth date and address join her; often past the cap of fuzzy
links), her namesake at her address with another birth date (review pairs), who may marry and move,
a record with Ann's name and address and no birth date, Tom and Sue Parker and a nameless household
record holding both their emails. A program is a list of steps drawn by hypothesis:

* a delivery of some versions, shuffled, in batches of a drawn size (a later or an older version);
* an erasure of the customer holding a drawn record, named by its record id, with the settings
  ingest uses (the link graph around her is planned again);
* a sign-up again of a person erased earlier (her suppression lifted);
* a deletion of a record at its vendor (retirement).

A model beside the store says which version of each record is live: the newest one delivered that
the store's suppression did not drop when it came (the product's own check is the oracle for which
values an erasure suppressed: which of her values were hers alone is another suite's concern), not
of an erased customer since, not retired. After every step the customers and the pending review
pairs are those of a fresh store given the live versions in one batch, and no review item, and no
stored item but the erasure's bookkeeping, histories included (they were left aside until the
index of the names histories hold: a gap these programs found), names a record erased and not
delivered again.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.privacy import lift_suppression
from core.retirement import retire_records
from core.schema import Identifier, SourceDeletion, SourceRecord
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import Flat, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import (
    BOOKKEEPING,
    SALT,
    Stores,
    dynamodb_stores,
    memory_stores,
    sqlite_stores,
)
from tests.integration.test_link_graph_interleaved import _same as same_customers
from tests.integration.test_link_graph_interleaved import _same_queue as same_queue
from tests.integration.test_link_graph_promises import histories

#: Programs a run tries (``ATTACK6_EXAMPLES=300`` to hunt; 12 take about 1 s in memory, 2 s on SQLite).
EXAMPLES = int(os.environ.get("ATTACK6_EXAMPLES", "12"))
#: Most steps of a program after the first delivery (``ATTACK6_STEPS=20`` to hunt longer programs).
STEPS = int(os.environ.get("ATTACK6_STEPS", "8"))
#: After every version (``flat`` days stay within 2026).
DELETED_AT = datetime(2027, 1, 1, tzinfo=UTC)


def _settings(stores: Stores) -> IngestSettings:
    return replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))


def _key(line: Flat) -> str:
    return f"{line['source']}:contact:{line['id']}"


def _record(line: Flat) -> SourceRecord | None:
    found = normalise_record(draft_from_flat(dict(line)))
    return found if isinstance(found, SourceRecord) else None


@dataclass
class Model:
    """What the store should hold: the live version of each record, and what was erased."""

    live: dict[str, Flat] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    erased: dict[str, set[str]] = field(default_factory=dict)
    """Each erasure's request (the record id it named) -> the record keys its customer held."""

    def deliver(self, stores: Stores, lines: list[Flat]) -> None:
        """The versions of one batch, as the store takes them: the newest of each record that is
        not quarantined, stale or suppressed (checked now, as the batch's merge checks: with the
        model, so a record her erasure's fingerprints make hers is suppressed, core.suppression_fuzzy)."""
        settings = _settings(stores)
        check, model = settings.suppression, settings.linkage.model if settings.linkage else None
        assert check is not None
        newest: dict[str, Flat] = {}
        for line in lines:
            key = _key(line)
            if _record(line) is None or key in self.retired:
                continue  # quarantined; or older than its deletion (every version is)
            if key not in newest or line["updated_at"] > newest[key]["updated_at"]:
                newest[key] = line
        for key, line in newest.items():
            record = _record(line)
            assert record is not None
            if key in self.live and self.live[key]["updated_at"] >= line["updated_at"]:
                continue
            if check.split([record], model, settings.policy)[1]:
                continue
            self.live[key] = line

    def gone(self) -> set[str]:
        """Records erased and not delivered again since."""
        return {k for keys in self.erased.values() for k in keys} - set(self.live)


@st.composite
def programs(draw: st.DrawFn, steps: int) -> tuple[list[Flat], list[tuple[Any, ...]]]:
    versions = draw(histories())
    keys = sorted({_key(line) for line in versions})
    # Most programs start from every record delivered, so that what follows has someone to erase.
    program: list[tuple[Any, ...]] = []
    if draw(st.integers(0, 3)):
        everything = list(range(len(versions)))
        program.append(("deliver", everything, draw(st.sampled_from([1, 3, 500])), draw(st.integers(0, 99))))
    for _ in range(draw(st.integers(1, steps))):
        kind = draw(st.sampled_from(["deliver", "deliver", "deliver", "erase", "erase", "again", "retire"]))
        if kind == "deliver":
            chosen = draw(st.lists(st.integers(0, len(versions) - 1), min_size=1, max_size=len(versions)))
            program.append(("deliver", chosen, draw(st.sampled_from([1, 3, 500])), draw(st.integers(0, 99))))
        elif kind == "again":
            program.append(("again", draw(st.integers(0, 9))))
        else:
            program.append((kind, draw(st.sampled_from(keys))))
    return versions, program


def _same(got: Stores, fresh: Stores, when: Any) -> None:
    same_customers(got, fresh, when)
    same_queue(got, fresh, when)


def _run(
    stores_of: Callable[[], AbstractContextManager[Stores]],
    versions: list[Flat],
    program: list[tuple[Any, ...]],
) -> None:
    model = Model()
    keys = sorted({_key(line) for line in versions})
    with stores_of() as stores:
        for n, step in enumerate(program):
            when = (n, step[0], step[1:] if step[0] != "deliver" else step[2:])
            if step[0] == "deliver":
                lines = [versions[i] for i in step[1]]
                random.Random(step[3]).shuffle(lines)
                for start in range(0, len(lines), step[2]):
                    batch = lines[start : start + step[2]]
                    model.deliver(stores, batch)
                    resolve_lines(batch, stores.profiles, batch_size=step[2], settings=_settings(stores))
            elif step[0] == "erase":
                key = step[1]
                owner = stores.profiles.get_owners([f"source#{key}"]).get(f"source#{key}")
                if owner is None or key not in model.live:
                    continue
                held = set(stores.profiles.get_customers([owner.customer_id])[owner.customer_id].snapshots)
                report = stores.erase(
                    Identifier.assemble(kind="source", value=key),
                    f"req-{n}",
                    IdentityPolicy(),
                    _settings(stores),
                )
                assert report.outcome == "erased", (when, report)
                # The erasure deletes the tombstones of her retired records (their ids suppressed):
                # signed up again, a late copy of one is a record like any other.
                tombstones = stores.profiles.get_owners_and_tombstones(
                    [f"source#{k}" for k in sorted(model.retired)]
                )
                forgotten = {k for k in model.retired if f"source#{k}" not in tombstones}
                model.retired -= forgotten
                model.erased[key] = held | forgotten
                event("an erasure")
                for k in held:
                    model.live.pop(k, None)
            elif step[0] == "again":
                requests = sorted(model.erased)
                if not requests:
                    continue
                request = requests[step[1] % len(requests)]
                lift_suppression(
                    Identifier.assemble(kind="source", value=request),
                    suppression=stores.suppression,
                    erasure=stores.erasure,
                    salt=SALT,
                    request_id=f"again-{n}",
                    requested_by="dpo",
                )
                event("a sign-up again")
            elif step[0] == "retire":
                key = step[1]
                if key not in model.live:
                    continue  # never stored, or gone: a deletion then leaves nothing to retire
                source, _, source_id = key.split(":")
                deletion = SourceDeletion(
                    source=source, object_type="contact", source_id=source_id, deleted_at=DELETED_AT
                )
                retire_records(
                    [deletion], stores.profiles, stores.erasure, _settings(stores), sleep=lambda _: None
                )
                model.retired.add(key)
                event("a retirement")
                model.live.pop(key, None)
                for held in model.erased.values():
                    held.discard(key)  # delivered again after its erasure, retired now: a tombstone stays
            with memory_stores() as fresh:
                resolve_lines(list(model.live.values()), fresh.profiles, batch_size=500)
                _same(stores, fresh, when)
            gone = model.gone()
            if gone and step[0] == "deliver":
                event("a delivery after an erasure")
            pairs = sorted({(a, b) if a < b else (b, a) for a in gone for b in keys if a != b})
            assert not (stores.profiles.get_reviews(pairs) if pairs else {}), (
                when,
                "review items name",
                gone,
            )
            rows = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
            assert not [r[:2] for r in rows for k in gone if k in str(r)], (when, gone)


@pytest.mark.slow
@pytest.mark.parametrize("stores_of", [memory_stores, sqlite_stores], ids=["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=programs(steps=STEPS))
def test_random_programs_keep_the_customers_of_the_live_records_and_no_trace_of_the_erased(
    stores_of: Callable[[], AbstractContextManager[Stores]], drawn: tuple[list[Flat], list[tuple[Any, ...]]]
) -> None:
    _run(stores_of, *drawn)


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=programs(steps=4))
def test_the_same_on_dynamodb(drawn: tuple[list[Flat], list[tuple[Any, ...]]]) -> None:
    versions, program = drawn
    _run(dynamodb_stores, versions[:10], [s for s in program if s[0] != "deliver" or max(s[1]) < 10])
