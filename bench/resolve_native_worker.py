"""The normalising worker's compiled calls against the Python path, one step at a time.

    python -m bench.resolve_native_worker --file FILE [--rounds 5]

Reads and normalises ``FILE`` (a JSON-lines file, e.g. ``bench.resolve_scaling``'s) in this
process, then times, alternating the two paths each round on fresh copies of the records: each
record's JSON and hash (``core.record_json.record_json_and_hash`` against native/'s
``record_json_and_hash``), pickling the chunks of 500 as the worker does
(``profilesync.parallel_normalise._pickled``, naming ``core.schema_base._reassemble`` or
native/'s ``reassemble``) and reading them back (``pickle.loads``: ``core.schema_base._reassemble``
against native/'s ``reassemble``). It checks the two paths' memos and models equal, and prints
CPU µs a record of each round and the ratio of the compiled path's best to the Python path's
(below 1.0: the compiled path is cheaper). CPU time, not wall time: compare the ratio of one run.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import time
from pathlib import Path
from typing import Any

from connectors.jsonl import read_jsonl
from core.content_hash import record_hash
from core.normalise import NormaliseOptions, normalise_record
from core.record_json import record_json_and_hash
from core.schema import RecordDraft, SourceRecord
from profilesync import parallel_normalise, resolve_native

CHUNK = parallel_normalise.CHUNK_SIZE


def _records(path: Path) -> bytes:
    options = NormaliseOptions()
    records = [
        outcome
        for item in read_jsonl(path)
        if type(item) is RecordDraft
        for outcome in [normalise_record(item, options)]
        if type(outcome) is SourceRecord
    ]
    return pickle.dumps(records)  # fresh copies, without memos, for each round


def _json_and_hash(records: list[SourceRecord], compiled: Any) -> float:
    started = time.process_time()
    if compiled is None:
        for record in records:
            record_json_and_hash(record)
    else:
        native = compiled.record_json_and_hash
        for record in records:
            native(record, record_hash)
    return time.process_time() - started


def _hand_over(records: list[SourceRecord], compiled: Any) -> tuple[float, float, list[Any]]:
    chunks = [records[at : at + CHUNK] for at in range(0, len(records), CHUNK)]
    saved = resolve_native._MODULE
    resolve_native._MODULE = compiled
    try:
        started = time.process_time()
        blobs = [parallel_normalise._pickled(chunk) for chunk in chunks]
        pickling = time.process_time() - started
    finally:
        resolve_native._MODULE = saved
    started = time.process_time()
    back = [record for blob in blobs for record in pickle.loads(blob)]
    return pickling, time.process_time() - started, back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    compiled = resolve_native._MODULE
    if compiled is None:
        raise SystemExit(f"the compiled path is not in use: {resolve_native.UNAVAILABLE}")
    blob = _records(args.file)
    count = len(pickle.loads(blob))
    gc.disable()  # as the worker's chunks and the resolving process's batches run (core.runtime)
    times: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, module in (("python", None), ("compiled", compiled)):
            records = pickle.loads(blob)
            times.setdefault(f"JSON and hash, {name}", []).append(_json_and_hash(records, module))
            pickling, reading, back = _hand_over(records, module)
            times.setdefault(f"pickling, {name}", []).append(pickling)
            times.setdefault(f"reading back, {name}", []).append(reading)
            if name == "python":
                expected = [list(record.__dict__.items()) for record in records]
            else:
                assert [list(record.__dict__.items()) for record in records] == expected
                assert [list(record.__dict__.items()) for record in back] == expected
            del records, back
            gc.collect()
    print(f"{count:,} records, load {os.getloadavg()[0]:.1f}, CPU µs a record, best of {args.rounds}:")
    for step in ("JSON and hash", "pickling", "reading back"):
        python, native = times[f"{step}, python"], times[f"{step}, compiled"]
        rounds = " ".join(f"{seconds / count * 1e6:.2f}" for seconds in native)
        print(
            f"  {step:<14} python {min(python) / count * 1e6:6.2f}  compiled {min(native) / count * 1e6:6.2f}"
            f"  ratio {min(native) / min(python):.2f}  (compiled rounds: {rounds})"
        )


if __name__ == "__main__":
    main()
