"""The compiled common path (native/) against the Python path on the rows it writes, in one process.

    python -m bench.resolve_native_rows [--records 50000] [--file FILE] [--rounds 5]

Reads the population of ``bench.resolve_scaling`` (or ``--file``) by person and normalises it as
``resolve``'s worker does (each record's hash and JSON kept with it, as the resolving process
receives them), groups the first batch's records by person as ingest's fresh path does, and times
core.ingest_fresh's rows of a new customer both ways, alternating, ``--rounds`` times: the customer
id and ``_source_event_rows`` (the SOURCE rows, and the ``source_arrived`` events a full store
writes: ``scratch`` is ``resolve``'s store, which writes none), the identifier loop and the IDENT
and HOLDER rows (``_identifier_loop`` and ``_ident_holder_rows``, the blocklist's answers known
for every key, as the batch's split leaves them in ``resolve``), the profile (core.ingest_profile's
``new_profile``; the same both ways for either store), and ``_rows`` whole (every row but
the inserts, the profile included), and ``_rows`` compiled as five calls a group against one
call a batch (native/src/batch.rs, ``_compiled_rows``). It checks that both ways give the same
rows and prints CPU µs a record, best of the rounds, and the ratio. CPU time, not wall time,
compares on a shared machine; compare the figures of one run.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import core.ingest_native as native_module
from bench.ingest_parts import batches
from bench.resolve_scaling import source_file
from core.identity import customer_id_for
from core.ingest_fresh import (
    _Arrival,
    _compiled_rows,
    _ident_holder_rows,
    _identifier_loop,
    _past_limit,
    _rows,
    _source_event_rows,
    _string_json,
)
from core.ingest_native import Declined
from core.ingest_profile import new_profile
from core.ingest_settings import IngestSettings
from core.schema import SourceRecord

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)


def _groups(records: list[SourceRecord]) -> list[list[SourceRecord]]:
    """The batch's records by person: each record with those that share its first identifier (a
    stand-in for ingest's grouping that keeps every record once, sorted by key)."""
    by_key: dict[str, list[SourceRecord]] = {}
    for record in records:
        first = min((i.key for i in record.identifiers), default=record.key)
        by_key.setdefault(first, []).append(record)
    return [sorted({r.key: r for r in group}.values(), key=lambda r: r.key) for group in by_key.values()]


def _cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        result = work()
        return time.process_time() - started, result
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--file", type=Path, help="read this file instead of a generated one")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    native = native_module.ROWS
    if native is None:
        raise SystemExit(f"the compiled path is not available: {native_module.UNAVAILABLE}")
    with tempfile.TemporaryDirectory(prefix="native-rows-") as folder:
        groups = _groups(batches(source_file(args.file, Path(folder), args.records))[0])
    records = sum(map(len, groups))
    settings = IngestSettings(clock=lambda: AT)
    arrival = _Arrival(AT, settings.actor)

    def events(compiled: bool, scratch: bool) -> Callable[[], list[Any]]:
        def work() -> list[Any]:
            out = []
            for group in groups:
                if compiled:
                    survivor = native.customer_id(group[0].key)
                    cid_json = _string_json(survivor)
                    fixed = arrival.event_chars(cid_json)
                    out.append(native.source_event_rows(group, survivor, cid_json, arrival, fixed, scratch))
                else:
                    survivor = customer_id_for(group[0].key)
                    cid_json = _string_json(survivor)
                    fixed = arrival.event_chars(cid_json)
                    out.append(_source_event_rows(group, survivor, cid_json, arrival, fixed, scratch))
            return out

        return work

    policy = settings.policy
    limits = policy.max_records_per_identifier
    answers = {
        i.key: policy.is_blocked_once(i)
        for g in groups
        for r in g
        for i in r.identifiers
        if i.kind != "source"
    }
    survivors = [customer_id_for(group[0].key) for group in groups]

    def identifiers(compiled: bool, scratch: bool) -> Callable[[], list[Any]]:
        def work() -> list[Any]:
            out: list[Any] = []
            blocked = dict(answers)
            for group, survivor in zip(groups, survivors, strict=True):
                by_key = {r.key: r for r in group}
                if compiled:
                    found = native.identifier_loop(group, blocked, policy.is_blocked, limits, _past_limit)
                    assert found is not None
                    assert not isinstance(found, Declined)
                    out.append(found)
                    out.append(native.ident_holder_rows(found[1], found[2], by_key, survivor, scratch))
                else:
                    python = _identifier_loop(group, blocked, policy.is_blocked, limits)
                    assert python is not None
                    out.append(python)
                    out.append(_ident_holder_rows(python[1], python[2], by_key, survivor, scratch))
            return out

        return work

    def profiles(compiled: bool, scratch: bool) -> Callable[[], list[Any]]:
        def work() -> list[Any]:
            rules = settings.rules
            if compiled:
                return [native.new_profile(s, g, rules) for g, s in zip(groups, survivors, strict=True)]
            return [new_profile(s, g, rules) for g, s in zip(groups, survivors, strict=True)]

        return work

    def whole(compiled: bool, scratch: bool) -> Callable[[], list[Any]]:
        def work() -> list[Any]:
            native_module.ROWS = native if compiled else None
            try:
                return [_rows(group, settings, arrival, 10_000, {}, scratch) for group in groups]
            finally:
                native_module.ROWS = native

        return work

    def batch(one_call: bool, scratch: bool) -> Callable[[], list[Any]]:
        def work() -> list[Any]:
            if one_call:
                found = _compiled_rows(groups, settings, arrival, 10_000, {}, scratch)
                assert found is not None
                assert Declined.DECLINED not in found
                return found
            return [_rows(group, settings, arrival, 10_000, {}, scratch) for group in groups]

        return work

    print(f"{records:,} records in {len(groups):,} groups, best of {args.rounds} rounds, alternating")
    makers = (
        ("id, SOURCE rows and events", events, ("Python", "compiled")),
        ("identifiers, IDENT, HOLDER", identifiers, ("Python", "compiled")),
        ("the profile", profiles, ("Python", "compiled")),
        ("_rows whole", whole, ("Python", "compiled")),
        ("_rows, compiled", batch, ("five calls a group", "one call a batch")),
    )
    for label, make, (old, new) in makers:
        for scratch in (True, False):
            best = {False: float("inf"), True: float("inf")}
            for _ in range(args.rounds):
                outputs = {}
                for compiled in (False, True):
                    seconds, outputs[compiled] = _cpu(make(compiled, scratch))
                    best[compiled] = min(best[compiled], seconds)
                assert outputs[True] == outputs[False], "the compiled path wrote other rows"
            python, compiled_s = (best[c] / records * 1e6 for c in (False, True))
            store = "scratch (resolve)" if scratch else "full (sync)"
            print(
                f"  {label:<28} {store:<18} {old} {python:6.2f} µs a record, {new} {compiled_s:6.2f}"
                f" ({compiled_s / python:.2f}x)"
            )


if __name__ == "__main__":
    main()
