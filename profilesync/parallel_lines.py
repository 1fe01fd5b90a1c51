"""The normalising worker's outcomes, read from the file's lines: a plain record's line by one
compiled call from its bytes, every other line as connectors.jsonl reads it.

    for outcome in outcomes(path, options, normalise, batch_size, split):  # in the worker process
        ...   # SourceRecord or Quarantined, in the order read_jsonl(_batched) gives; BatchEnd between

Where native/'s extension is installed and on (``profilesync.resolve_native.worker_line_normaliser``),
each line of a batched read goes first to ``profilesync_native.normalise_line`` (native/src/norm_line*.rs):
for a line of a plain record it parses the bytes and makes the draft in compiled code (what
``connectors.jsonl.line_outcome`` makes through Python's ``json`` scanner and ``_draft_from_json``)
and normalises it by the one compiled call a record; for any other line (blank, too long, not
UTF-8, not JSON, not an object, a key given twice, a lone surrogate, a child, a number it cannot
keep as written...) it returns None and the line is read by the Python path, as before. The same
outcomes either way: tests/unit/test_native31w_line_parity.py and
tests/e2e/test_native31w_line_resolve.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from connectors.jsonl import read_jsonl
from connectors.jsonl.batched import BatchEnd, Split, batched_lines, plan_batches, raw_line_outcome
from core.normalise import NormaliseOptions
from core.schema import Quarantined, RecordDraft, SourceRecord
from profilesync import resolve_native

__all__ = ["outcomes"]

Outcome = SourceRecord | Quarantined | BatchEnd
#: What the worker reads a file with when it names no source (read_jsonl's default).
_DEFAULT_SOURCE = "jsonl"


def outcomes(
    path: Path | str,
    options: NormaliseOptions,
    normalise: Callable[[RecordDraft, NormaliseOptions], SourceRecord | Quarantined],
    batch_size: int | None = None,
    split: Split | None = None,
) -> Iterator[Outcome]:
    """The normalised outcome of each line of ``path`` (``normalise`` for each draft the Python path
    reads), in file order, or with ``batch_size`` batch after batch as ``read_jsonl_batched`` reads
    them (``split``: the second half of its first pass, read apart)."""
    if batch_size is None:
        yield from _normalised(read_jsonl(path), options, normalise)
        return
    plan = plan_batches(path, batch_size, split=split)
    if plan is None:
        yield from _normalised(read_jsonl(path), options, normalise)
        return
    line_normaliser: Callable[[bytes, str, NormaliseOptions], Any] | None = (
        resolve_native.worker_line_normaliser()
    )
    for item in batched_lines(path, plan):
        if isinstance(item, BatchEnd):
            yield item
            continue
        number, raw = item
        if line_normaliser is not None:
            outcome = line_normaliser(raw, _DEFAULT_SOURCE, options)
            if outcome is not None:
                yield outcome
                continue
        read = raw_line_outcome(number, raw, _DEFAULT_SOURCE)
        if read is None:
            continue
        yield (
            normalise(read, options)
            if type(read) is RecordDraft or not isinstance(read, Quarantined)
            else read
        )


def _normalised(
    items: Iterable[RecordDraft | Quarantined],
    options: NormaliseOptions,
    normalise: Callable[[RecordDraft, NormaliseOptions], SourceRecord | Quarantined],
) -> Iterator[Outcome]:
    for item in items:
        # The exact type first: isinstance with a model class goes through its metaclass's check.
        yield (
            normalise(item, options)
            if type(item) is RecordDraft or not isinstance(item, Quarantined)
            else item
        )
