"""``resolve``'s scratch store leaves out what nothing in the run reads, and nothing else changes.

``profilesync resolve`` builds its profiles in a SQLite file of its own, deleted after the run
(``SQLiteProfileStore(..., scratch=True)``). Its history events (``HISTORY#``), their name index
(``NAMED#``) and holder markers (``HOLDER#``) are read only by ``profilesync history``, the privacy
commands and the profile API, on a store that outlives a run, so the scratch store does not write
them. The promises: every other item is the one a full store holds, row for row, on the fast path
(core.ingest_fresh), through the planner's commit, with later versions and merges across batches;
the limits take and refuse the same groups (the events are counted, not built); and the command's
output and quarantine are the same bytes, with later versions across batches too.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import connectors.jsonl.batched
import core.ingest_fresh as fresh_module
import profilesync.stores
from connectors.jsonl import read_jsonl
from core.batch_ingest import ingest_batch
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.sqlite_commit import is_unread
from core.testing.clock import days_ago
from core.testing.population import people, records_for
from profilesync.cli import main
from tests.unit.test_ingest_fresh import _ODD, AT, SETTINGS, TIGHT, dump, normalised, population, sqlite_store


def _ingested(
    records: list[SourceRecord],
    path: Path,
    batch_size: int,
    how: str,
    ingest_settings: IngestSettings,
    **options: Any,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row of a store the records were ingested into in batches (``ingest_batch``, or the
    planner alone with ``how="planner"``), and each batch's counts."""
    counts = []
    ingesting = ingest if how == "planner" else ingest_batch
    with sqlite_store(path, grouped=True, **options) as store:
        for start in range(0, len(records), batch_size):
            result = ingesting(records[start : start + batch_size], store, ingest_settings)
            hits = sorted((h.record_key, h.identifier_key) for h in result.guardrail_hits)
            counts.append(
                (result.written, result.new_customers, result.attached, result.merged_customers, hits)
            )
        return dump(store), counts


def _assert_scratch_keeps_what_is_read(
    records: list[SourceRecord],
    folder: Path,
    batch_size: int,
    how: str,
    ingest_settings: IngestSettings = SETTINGS,
) -> list[tuple[Any, ...]]:
    full, full_counts = _ingested(records, folder / f"full-{how}.sqlite3", batch_size, how, ingest_settings)
    scratch, scratch_counts = _ingested(
        records, folder / f"scratch-{how}.sqlite3", batch_size, how, ingest_settings, scratch=True
    )
    assert scratch_counts == full_counts
    assert scratch == [row for row in full if not is_unread(row[0], row[1])]
    assert not any(is_unread(row[0], row[1]) for row in scratch)
    return full


@pytest.mark.parametrize("how", ["batch", "planner"])
@pytest.mark.parametrize("batch_size", [1, 60, 100_000])
def test_a_scratch_store_holds_every_item_a_full_store_holds_but_the_unread_ones(
    tmp_path: Path, batch_size: int, how: str
) -> None:
    # GIVEN the bench's people in three tools with later versions of a tenth of their records and
    # spellings of one mailbox, in batches of one (every later record attaches or merges through
    # the planner's commit), of 60, and all at once (the fast path's rows)
    records = population(seed=batch_size, count=300)
    # WHEN they are ingested into a full store and into a scratch one
    full = _assert_scratch_keeps_what_is_read(records, tmp_path, batch_size, how)
    # THEN the scratch store holds every row of the full one but its events, their name index and
    # the holder markers (above), which the full store had
    kinds = {row[1].split("#")[0] for row in full} | {row[0].split("#")[0] for row in full}
    assert {"HISTORY", "HOLDER"} <= kinds
    if batch_size == 1:
        assert "NAMED" in kinds  # merges' and attachments' events name identifiers


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.fixed_dictionaries(
            {
                "source": st.sampled_from(["crm", "shop"]),
                "id": st.one_of(st.integers(0, 12).map(str), _ODD),
                "updated_at": st.sampled_from(
                    ["2026-01-01T00:00:00Z", "2026-02-03T04:05:06.789Z", "2025-12-31T23:59:59+02:00"]
                ),
                "email": st.sampled_from(
                    [None, "ann.smith@gmail.com", "annsmith+x@googlemail.com", "b@x.io"]
                ),
                "phone": st.sampled_from([None, "+14155550100", "+442079460000"]),
                "first_name": st.one_of(st.none(), _ODD),
            }
        ),
        min_size=1,
        max_size=30,
    ),
    batch_size=st.integers(1, 30),
    actor=st.one_of(st.just("ingest"), _ODD),
    tight=st.booleans(),
    how=st.sampled_from(["batch", "planner"]),
)
def test_generated_records_in_any_batches_leave_the_same_read_items(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[dict[str, Any]],
    batch_size: int,
    actor: str,
    tight: bool,
    how: str,
) -> None:
    # GIVEN records with odd text, later versions of one id (same source and id, other times),
    # shared and guarded values, an odd actor
    records = normalised([{k: v for k, v in line.items() if v is not None} for line in lines])
    ingest_settings = IngestSettings(
        policy=TIGHT.policy if tight else SETTINGS.policy, clock=lambda: AT, actor=actor
    )
    # WHEN ingested in batches into a full and a scratch store THEN the rows read are the same
    _assert_scratch_keeps_what_is_read(
        records, tmp_path_factory.mktemp("gen"), batch_size, how, ingest_settings
    )


@settings(max_examples=60, deadline=None)
@given(record_id=_ODD, actor=st.one_of(st.just("ingest"), _ODD), second=st.booleans())
def test_the_events_a_scratch_store_leaves_out_are_counted_at_their_exact_length(
    record_id: str, actor: str, second: bool
) -> None:
    # GIVEN a new customer's group with odd text in its record key and the actor
    lines = [{"source": "crm", "id": record_id, "updated_at": "2026-01-01T00:00:00Z", "email": "a@x.io"}]
    if second:
        lines.append(
            {"source": "shop", "id": record_id + "2", "updated_at": "2026-01-02T00:00:00Z", "email": "a@x.io"}
        )
    group = normalised(lines)
    assume(len(group) == len(lines))  # an id of blanks is no id
    arrival = fresh_module._Arrival(AT, actor)
    # WHEN its rows are built with the events
    planned = fresh_module._rows(group, SETTINGS, arrival, 100, {})
    assert planned is not None
    survivor, items, _ = planned
    events = items[3]
    # THEN the length both modes count for each event and its sort key is the one written
    counted = sum(
        arrival.event_chars(fresh_module._string_json(survivor))
        + len(
            "" if fresh_module.quotes_identifier(fresh_module._ARRIVED, (r.key,)) else fresh_module._ARRIVED
        )
        + len(fresh_module._string_json(r.key))
        for r in group
    )
    assert counted == sum(len(sort_key) + len(event) for _, sort_key, event in events)


def test_the_limits_take_the_same_groups_with_and_without_the_events(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a group of two records, and the smallest item budget the full rows fit in
    group = normalised(
        [
            {
                "source": "crm",
                "id": "a",
                "updated_at": "2026-01-01T00:00:00Z",
                "email": "Ann.Smith@gmail.com",
            },
            {
                "source": "shop",
                "id": "b",
                "updated_at": "2026-01-02T00:00:00Z",
                "email": "ann.smith@gmail.com",
            },
        ]
    )
    arrival = fresh_module._Arrival(AT, "ingest")

    def fits(budget: int, scratch: bool) -> bool:
        monkeypatch.setattr(fresh_module, "ITEM_MAX_BYTES", budget)
        return fresh_module._rows(list(group), SETTINGS, arrival, 100, {}, scratch) is not None

    low, high = 0, 400 * 1024
    while low + 1 < high:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle, False) else (middle, high)
    # THEN the scratch rows fit exactly there too, and not one byte below
    assert fits(high, True)
    assert not fits(high - 1, True)
    # and what they leave out is the events and the marker, nothing else
    monkeypatch.setattr(fresh_module, "ITEM_MAX_BYTES", 400 * 1024)
    full = fresh_module._rows(list(group), SETTINGS, arrival, 100, {})
    scratch = fresh_module._rows(list(group), SETTINGS, arrival, 100, {}, True)
    assert full is not None
    assert scratch is not None
    assert full[1][3]  # events
    assert full[1][4]  # a marker
    assert scratch[1] == (full[1][0], full[1][1], full[1][2], [], [])


@contextmanager
def _stores_opened(monkeypatch: pytest.MonkeyPatch, *, scratch: bool | None) -> Iterator[list[bool]]:
    """``open_stores`` as ``resolve`` calls it, with ``scratch`` forced when given; the scratch
    flags of the profile stores it opened."""
    real = profilesync.stores.open_stores
    opened: list[bool] = []

    @contextmanager
    def opening(**kwargs: Any) -> Iterator[Any]:
        if scratch is not None:
            kwargs["scratch"] = scratch
        with real(**kwargs) as stores:
            opened.append(stores.profiles.scratch)
            yield stores

    with monkeypatch.context() as patch:
        patch.setattr(profilesync.stores, "open_stores", opening)
        yield opened


def _resolved(
    source: Path, out: Path, monkeypatch: pytest.MonkeyPatch, scratch: bool | None, identity: str = "exact"
) -> tuple[bytes, bytes, list[bool]]:
    with _stores_opened(monkeypatch, scratch=scratch) as opened, monkeypatch.context() as patch:
        # The file in file order (batches end every 9 records): people and versions cut apart, so
        # later batches attach to, update and merge the customers earlier ones founded.
        patch.setattr(connectors.jsonl.batched, "read_jsonl_batched", lambda path, size: read_jsonl(path))
        assert (
            main(
                [
                    "resolve",
                    str(source),
                    "--out",
                    str(out),
                    "--batch-size",
                    "9",
                    "--quiet",
                    "--identity",
                    identity,
                ]
            )
            == 0
        )
    return out.read_bytes(), out.with_name(out.stem + ".quarantine.jsonl").read_bytes(), opened


@pytest.mark.parametrize("identity", ["exact", "probabilistic"])
def test_resolve_writes_the_same_bytes_on_its_scratch_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identity: str
) -> None:
    # GIVEN people across three tools, later versions of some records, malformed lines, and a
    # mailbox's other spellings
    rng = random.Random(4)
    lines = [r for p in people(120, 4) for r in records_for(p, rng)]
    for n, line in enumerate(rng.sample(lines, 10)):
        line["email"] = f"Mail.Box{n}+tag@gmail.com"
    # (later than the population's 2026 times, and in the machine's past: a time ahead of it would be
    # read as each run's own start, and the two runs' bytes would differ by when they ran)
    later = f"{days_ago(1):%Y-%m-%dT%H:%M:%SZ}"
    lines += [{**line, "updated_at": later, "last_name": "Later"} for line in rng.sample(lines, 40)]
    rng.shuffle(lines)
    lines += [{"source": "crm", "id": "bad"}, {"source": "crm", "updated_at": "2026-01-01T00:00:00Z"}]
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    # WHEN resolve runs as it is (its store a scratch one) and on a full store
    scratch = _resolved(source, tmp_path / "scratch.jsonl", monkeypatch, None, identity)
    full = _resolved(source, tmp_path / "full.jsonl", monkeypatch, False, identity)
    # THEN the profiles and the quarantine are the same bytes, and only resolve's run was scratch
    assert scratch[2] == [True]
    assert full[2] == [False]
    assert scratch[:2] == full[:2]
    assert b'"version": 2}' in scratch[0]  # customers touched again
    assert scratch[1].count(b"\n") == 2


def test_a_store_is_full_unless_asked(tmp_path: Path) -> None:
    # GIVEN the stores as `sync` and the other commands open them
    with profilesync.stores.open_stores(endpoint_url=None, table="t", path=tmp_path / "s.sqlite3") as stores:
        # THEN the profile store writes every item
        assert stores.profiles.scratch is False


def test_a_scratch_commit_never_builds_the_name_index_of_the_events_it_leaves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the commit's builder of the name index items of an event, counted
    import core.storage.sqlite_commit as commit_module

    built: list[int] = []
    real = commit_module.index_pairs

    def counted(events: Any) -> Any:
        pairs = list(real(events))
        built.append(len(pairs))
        return pairs

    monkeypatch.setattr(commit_module, "index_pairs", counted)
    # WHEN people whose later records attach and merge (events naming identifiers) are ingested one
    # record a batch through the planner's commit into a full store, then into a scratch one
    records = population(seed=5, count=60)
    _ingested(records, tmp_path / "full.sqlite3", 1, "planner", SETTINGS)
    full, built[:] = list(built), []
    _ingested(records, tmp_path / "scratch.sqlite3", 1, "planner", SETTINGS, scratch=True)
    # THEN the full store built the index items and the scratch store, which writes none, built none
    assert sum(full) > 0
    assert built == []


def test_the_fixed_characters_of_an_event_are_derived_from_the_format_it_is_written_in() -> None:
    from core.governance.history import HistoryEvent

    # GIVEN the writer of a source_arrived event's JSON, every field empty
    empty = fresh_module._event_json("", "", "", "", "", "")
    # THEN the characters counted beyond the fields are its length, whatever the format holds
    assert len(empty) == fresh_module._EVENT_CHARS
    # and an event it writes is the model's JSON of the same event, byte for byte: a change of the
    # model's fields or their order fails here, not as a size limit off by a few bytes
    event = fresh_module._event_json(
        '"cus_x"', "sourc-0123", '"2026-01-01T00:00:00Z"', '"ingest"', "a new record", '"crm:contact:1"'
    )
    assert HistoryEvent.model_validate_json(event).model_dump_json() == event
