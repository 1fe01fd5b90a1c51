"""Batch-at-a-time ingest (core.batch_ingest) stores what the planner stores, row for row.

``ingest_batch`` plans the new customers of a batch together and commits them in one go, and hands
everything that touches a stored customer to ``core.pipeline.ingest``. The promise is that nobody
can tell: every row of the SQLite store (profiles, identifiers, holder markers, source snapshots,
history, tombstones) and the resolve report are those of ``ingest`` on the same batches. These
tests resolve one file both ways, at batch sizes from 1 to the whole file, and compare a dump of
the store; the population has what could make the fast path lie: people spread over batches,
updates (newer, older, identical, one dropping the email that joined two records), values shared
past the guardrail limits and blocklisted ones, orders arriving before and after their buyer, a
repeat buyer too large for one transaction, duplicates within a batch and malformed records.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.batch_ingest as batch_module
from core.batch_ingest import ingest_batch
from core.identity import IdentityPolicy
from core.isolation import Ingest
from core.normalise import NormaliseOptions
from core.pipeline import IngestSettings, ingest
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.testing.population import malformed, people, records_for, repeat_buyer
from profilesync.resolve import ResolveReport, resolve

AT = datetime(2026, 6, 1, tzinfo=UTC)
SETTINGS = IngestSettings(clock=lambda: AT)
#: The moment every run normalises at: after the population's latest update (2026-11-30), so no time
#: is read as "now" (one past the machine's clock would be, at each run's own moment, and the runs'
#: rows would differ by when they ran).
OPTIONS = NormaliseOptions(now=datetime(2026, 12, 1, tzinfo=UTC))
#: Guardrail limits a handful of records cross, so that hypothesis meets shared values often.
TIGHT = IngestSettings(
    policy=IdentityPolicy(max_records_per_identifier={"email": 2, "phone": 2}), clock=lambda: AT
)


def population(seed: int, count: int = 160) -> list[dict[str, Any]]:
    """Overlapping people in three tools, and what could trip a batch-at-a-time plan."""
    rng = random.Random(seed)
    crowd = people(count, seed)
    lines = [r for p in crowd for r in records_for(p, rng)]
    stamp = "2026-04-01T00:00:00Z"
    # An office phone on 7 people's contacts (the limit is 5) and a family inbox on 10 (limit 8).
    for n, p in enumerate(crowd[:7]):
        lines.append(
            {
                "source": "crm",
                "id": f"office{n}",
                "updated_at": stamp,
                "email": p.email,
                "phone": "+44 20 7946 0000",
            }
        )
    lines += [
        {
            "source": "email",
            "id": f"family{n}",
            "updated_at": stamp,
            "email": "family@example.org",
            "phone": f"+1 415 555 01{n:02d}",
        }
        for n in range(10)
    ]
    # Blocklisted values glue nobody.
    lines += [
        {
            "source": "shop",
            "id": f"junk{n}",
            "updated_at": stamp,
            "email": "test@example.com",
            "phone": f"+33 1 40 00 00 {n:02d}",
        }
        for n in range(4)
    ]
    # Orders naming their buyer's record: some before the buyer (in file order), some after.
    for n, p in enumerate(crowd[20:40]):
        lines.append(
            {
                "source": "shop",
                "object_type": "order",
                "id": f"ord{n}",
                "updated_at": stamp,
                "owner_id": f"s{p.index}",
                "owner_type": "contact",
                "orders": [
                    {"id": f"ord{n}", "total": "12.50", "currency": "GBP", "created_at": "2026-03-01"}
                ],
            }
        )
    # A repeat buyer whose customer takes more than one transaction (121 records).
    lines += repeat_buyer(orders=120, email="many@example.net")
    # Updates: newer (one drops the email that joined two records), older, identical, duplicated.
    for p in crowd[40:70]:
        mine = [r for r in lines if r.get("id") in (f"c{p.index}", f"s{p.index}", f"e{p.index}")]
        if not mine:
            continue
        first = dict(mine[0])
        roll = rng.random()
        if roll < 0.3:
            first["updated_at"] = "2026-11-30T00:00:00Z"
            first["email"] = f"new.{p.index}@example.com"
            first.pop("phone", None)
        elif roll < 0.5:
            first["updated_at"] = "2025-01-01T00:00:00Z"
            first["last_name"] = "Older"
        elif roll < 0.7:
            first = dict(mine[0])  # identical: unchanged
        else:
            first["updated_at"] = "2026-10-01T00:00:00Z"
            first["first_name"] = "Renamed"
        lines.append(first)
    lines += [malformed(rng, i) for i in range(12)]
    rng.shuffle(lines)
    return lines


@contextmanager
def sqlite_store(path: Path) -> Iterator[SQLiteProfileStore]:
    with SQLiteDatabase(path) as database:
        yield SQLiteProfileStore(database)


def dump(store: SQLiteProfileStore) -> list[tuple[Any, ...]]:
    with store.database.reading() as conn:
        return conn.execute("SELECT * FROM items ORDER BY pk, sk").fetchall()


def run(
    lines: list[dict[str, Any]],
    path: Path,
    batch_size: int,
    ingesting: Ingest,
    ingest_settings: IngestSettings = SETTINGS,
    *,
    by_person: bool = False,
) -> tuple[list[tuple[Any, ...]], ResolveReport, list[str]]:
    from connectors.jsonl import read_jsonl
    from connectors.jsonl.batched import read_jsonl_batched

    quarantined: list[str] = []
    source = path.with_suffix(".jsonl")
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with sqlite_store(path) as store:
        report = resolve(
            read_jsonl_batched(source, batch_size) if by_person else read_jsonl(source),
            store,
            options=OPTIONS,
            settings=ingest_settings,
            batch_size=batch_size,
            quarantine=lambda q: quarantined.append(q.model_dump_json()),
            ingesting=ingesting,
        )
        return dump(store), report, quarantined


def same_outcome(
    lines: list[dict[str, Any]], folder: Path, batch_size: int, ingest_settings: IngestSettings = SETTINGS
) -> list[tuple[Any, ...]]:
    planned = run(lines, folder / f"planned-{batch_size}.sqlite3", batch_size, ingest, ingest_settings)
    batched = run(lines, folder / f"batched-{batch_size}.sqlite3", batch_size, ingest_batch, ingest_settings)
    assert len(batched[0]) == len(planned[0])
    for mine, theirs in zip(batched[0], planned[0], strict=True):
        assert mine == theirs
    assert batched[2] == planned[2]
    assert batched[1] == planned[1]
    return batched[0]


@pytest.mark.parametrize("batch_size", [1, 17, 250, 100_000])
def test_batch_ingest_stores_what_the_planner_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    # GIVEN a population with overlaps, updates, guardrail crossings, orders and bad records, and
    # new customers committed a few groups at a time
    monkeypatch.setattr(batch_module, "GROUPS_PER_COMMIT", 7)
    lines = population(seed=batch_size)
    # WHEN it is resolved batch at a time and through the planner, at the same batch size
    rows = same_outcome(lines, tmp_path, batch_size)
    # THEN every stored row is the same, and there was something to compare
    kinds = {row[1].split("#")[0] for row in rows}
    assert {"PROFILE", "IDENT", "SOURCE", "HISTORY", "HOLDER"} <= kinds


def _people(rows: list[tuple[Any, ...]]) -> list[str]:
    """The stored profiles' content, without ids and versions (which batches may change)."""
    found = []
    for row in rows:
        if row[1] == "PROFILE" and row[6] is not None:
            profile = json.loads(row[6])
            del profile["customer_id"], profile["version"]
            found.append(json.dumps(profile, sort_keys=True))
    return sorted(found)


@pytest.mark.parametrize("batch_size", [1, 17, 250])
def test_batches_by_person_store_what_the_planner_stores_and_the_people_of_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    # GIVEN the population without the values shared past their guardrail limits (which of their
    # holders may join depends on arrival order, so on any batching), committed 7 groups at a time
    monkeypatch.setattr(batch_module, "GROUPS_PER_COMMIT", 7)
    lines = [
        r for r in population(seed=batch_size + 40) if not str(r.get("id")).startswith(("office", "family"))
    ]

    # WHEN the file is read in batches by person (connectors.jsonl.batched), resolved batch at a
    # time and through the planner, and read in file order through the planner
    batched = run(lines, tmp_path / "batched.sqlite3", batch_size, ingest_batch, by_person=True)
    planned = run(lines, tmp_path / "planned.sqlite3", batch_size, ingest, by_person=True)
    in_order = run(lines, tmp_path / "in-order.sqlite3", batch_size, ingest)

    # THEN on the same batches every row, the report and the quarantine are the planner's
    assert batched[0] == planned[0]
    assert batched[1] == planned[1]
    assert batched[2] == planned[2]
    # AND the people and their content are those of file order; so are the counts read
    assert _people(batched[0]) == _people(in_order[0])
    assert len(_people(batched[0])) > 100
    assert sorted(batched[2]) == sorted(in_order[2])
    assert (batched[1].read, batched[1].normalised) == (in_order[1].read, in_order[1].normalised)


def test_fresh_batch_founds_customers_without_the_planner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a batch of new people only (no stored key): nothing for the planner to decide
    lines = [r for r in population(seed=3) if r.get("object_type") is None][:300]
    planned_calls: list[int] = []
    real = batch_module.ingest

    def counting(records: Any, store: Any, settings: Any = None) -> Any:
        planned_calls.append(len(records))
        return real(records, store, settings)

    monkeypatch.setattr(batch_module, "ingest", counting)
    # WHEN it is resolved in one batch
    _, report, _ = run(lines, tmp_path / "fresh.sqlite3", 10_000, ingest_batch)
    # THEN the planner saw only the batch's updates of records earlier in it (none: one batch
    # keeps the newest version), and every customer was founded by the batch path
    assert sum(planned_calls) == 0
    assert report.ingest.new_customers > 100
    assert report.ingest.written == report.normalised - report.ingest.unchanged


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from(["crm", "shop", "email"]),
            st.integers(0, 30),
            st.sampled_from([None, "a@x.io", "b@x.io", "c@x.io", "test@example.com", "d@x.io"]),
            st.sampled_from([None, "+14155550100", "+14155550101", "+442079460000"]),
            st.integers(0, 5),
            st.sampled_from([None, "Ann", "Bob"]),
        ),
        min_size=1,
        max_size=80,
    ),
    batch_size=st.integers(1, 90),
)
def test_batch_ingest_matches_the_planner_on_any_records(
    tmp_path_factory: pytest.TempPathFactory, records: list[tuple[Any, ...]], batch_size: int
) -> None:
    # GIVEN records on a handful of shared values (past tight guardrail limits), with updates
    lines = []
    for source, number, email, phone, day, name in records:
        line: dict[str, Any] = {
            "source": source,
            "id": str(number),
            "updated_at": (AT - timedelta(days=day)).isoformat(),
        }
        fields = (("email", email), ("phone", phone), ("first_name", name))
        line |= {field: value for field, value in fields if value is not None}
        lines.append(line)
    # WHEN resolved both ways THEN the stores and the reports are the same
    same_outcome(lines, tmp_path_factory.mktemp("hyp"), batch_size, TIGHT)
