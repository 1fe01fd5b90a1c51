"""Read a JSON-lines file in batches that keep each person's lines together.

``profilesync resolve`` ingests a file a batch at a time (core.batch_ingest): the records of a batch
that share no identifier with anyone stored found new customers, planned and written together. A
record whose person an earlier batch founded goes through the per-group planner instead, which reads
that person back and writes them again: about 1.4 times the work per record. In a shuffled file read
in batches of 20,000, a person's records rarely share a batch (at 100,000 records 38% of them went
the slow way; at 1,000,000, most would), so the work per record grew with the file.

    for item in read_jsonl_batched(path, batch_size):   # drafts and quarantine entries, as read_jsonl
        if isinstance(item, BatchEnd): ...              # the lines before it are one batch

One pass first reads every line's JSON and the values that can link it to another line: its own
record (``source``, ``object_type``, ``id``), its owner's (``owner_id``), its emails (trimmed, lower
case) and phones (their last nine digits). A union-find over those values groups the lines; the
groups are packed, in the order of their first line, into batches of at most ``batch_size`` lines,
and the lines are then read again batch after batch (in file order within a batch) and turned into
drafts by ``connectors.jsonl.line_outcome``, as ``read_jsonl`` does, line numbers and all. The first
pass may be read in two parts at once (``split``: profilesync.parallel_normalise's caller reads the
second half's values with ``link_part`` while its worker reads the first); the lines are linked in
file order all the same, so the plan is the one pass's (tests/unit/test_jsonl_batched_split.py).

* Same result as reading in file order: a batch is any set of records to ``ingest_batch``, which
  stores the same people whatever the order and the cut (tests/unit/test_batch_ingest.py). The keys
  here only decide which lines share a batch; they need not be the normaliser's. A value they take
  for one that is not (two phones with the same last nine digits) puts two people in one batch; one
  they miss leaves a person's records to meet across batches, as before. A group larger than a batch
  (a value thousands of lines share) is cut into batches in file order.
* What changes is the order: of quarantine entries (batch after batch), and of versions and ids as
  any batch size changes them (a person whose records share a batch is founded once, version 1).
* Bounded memory: per line, its offset and batch (a few bytes in arrays), and during the first pass
  one dict entry per distinct value (about 100 bytes): some 250 MB at a million lines, freed before
  the lines are read again. The file is read through ``mmap``, which the system pages in and out.
* Files this cannot read line for line as ``read_jsonl`` does are read in file order, as before: a
  pipe (it cannot be read twice), a file that fits one batch, a line over ``MAX_LINE_CHARS`` bytes,
  a carriage return that ends no ``\\r\\n`` (text mode splits lines there), an empty file, a file
  that does not open.
"""

from __future__ import annotations

import codecs
import json
import mmap
import os
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from connectors.jsonl import MAX_LINE_CHARS, line_outcome, read_jsonl
from core.schema import Quarantined, RecordDraft

__all__ = [
    "BATCH_END",
    "BatchEnd",
    "BatchPlan",
    "LinkedPart",
    "Split",
    "batched_lines",
    "half_way",
    "link_part",
    "plan_batches",
    "raw_line_outcome",
    "read_jsonl_batched",
]


@dataclass(frozen=True)
class BatchEnd:
    """Between two batches of ``read_jsonl_batched``: the items before it (since the last) are one."""


BATCH_END: Final = BatchEnd()

#: Phones compared by their last digits: ``+44 20 3000 2291`` and ``020 3000 2291`` share them.
_PHONE_DIGITS: Final = 9
_NOT_DIGIT: Final = re.compile(r"\D")
_BOM: Final = codecs.BOM_UTF8
_FOREIGN_BOMS: Final = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class BatchPlan:
    """Which lines each batch reads: ``order[ends[b - 1]:ends[b]]`` are batch ``b``'s line indexes
    (0-based, ascending); line ``i`` is the bytes ``starts[i]:starts[i + 1]`` of the file."""

    starts: array[int]
    order: array[int]
    ends: list[int]

    @property
    def batches(self) -> int:
        return len(self.ends)


def read_jsonl_batched(
    path: Path | str, batch_size: int, default_source: str = "jsonl", *, split: Split | None = None
) -> Iterator[RecordDraft | Quarantined | BatchEnd]:
    """``read_jsonl(path)``'s drafts and quarantine entries, batch after batch, each batch followed by
    ``BATCH_END``; in file order (and without ``BATCH_END``) when ``plan_batches`` gives no plan.
    ``split``: the second part of the file's first pass, read apart (``plan_batches``)."""
    plan = plan_batches(path, batch_size, default_source, split=split)
    if plan is None:
        yield from read_jsonl(path, default_source)
        return
    for item in batched_lines(path, plan):
        if isinstance(item, BatchEnd):
            yield item
            continue
        outcome = raw_line_outcome(item[0], item[1], default_source)
        if outcome is not None:
            yield outcome


def batched_lines(path: Path | str, plan: BatchPlan) -> Iterator[tuple[int, bytes] | BatchEnd]:
    """Each line's number and bytes (with its ``\n``; the first line's byte-order mark taken off, as
    ``utf-8-sig`` opens the file), batch after batch as ``plan`` orders them, ``BATCH_END`` after
    each batch: the lines ``read_jsonl_batched`` reads (and the normalising worker, which reads a
    plain record's bytes in compiled code: profilesync.parallel_lines)."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        starts, order, first = plan.starts, plan.order, 0
        for end in plan.ends:
            for index in order[first:end]:
                raw = data[starts[index] : starts[index + 1]]
                if index == 0 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]  # utf-8-sig, as read_jsonl opens the file
                yield index + 1, raw
            first = end
            yield BATCH_END


def raw_line_outcome(number: int, raw: bytes, default_source: str) -> RecordDraft | Quarantined | None:
    """``line_outcome`` of line ``number`` given as its bytes (``batched_lines``), decoded as
    ``read_jsonl``'s text mode decodes it."""
    try:  # valid UTF-8 (nearly every line): no byte for line_outcome to look for
        line, utf8 = raw.decode("utf-8"), True
    except UnicodeDecodeError:
        line, utf8 = raw.decode("utf-8", "surrogateescape"), False
    if line.endswith("\r\n"):
        line = line[:-2] + "\n"  # text mode's newline translation
    return line_outcome(number, line, len(line), default_source, utf8=utf8)


#: The lines of a file from one line's start to its end as the first pass reads them (``link_part``):
#: each line's length in bytes and its linking values.
LinkedPart = tuple["array[int]", list[list[str]]]
#: Where the second part of a file starts (a line's start), and how to get its ``LinkedPart`` (None:
#: a line there makes the file read in file order), read apart (by another process).
Split = tuple[int, Callable[[], "LinkedPart | None"]]


def plan_batches(
    path: Path | str, batch_size: int, default_source: str = "jsonl", *, split: Split | None = None
) -> BatchPlan | None:
    """The batches of ``path`` (see the module's docstring), or None to read it in file order.

    ``split``: the lines from its offset on were read apart (``link_part``), and this pass reads the
    lines before it, then links the part's lines after them, as one pass would: the same plan
    (profilesync.parallel_normalise reads the two halves in two processes at once). The part is
    asked for once whatever happens, unless the file cannot be opened."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not Path(path).is_file():
        return None  # a pipe cannot be read twice; read_jsonl says why anything else cannot be read
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, on every path)
    except OSError:
        return None  # read_jsonl says why
    with handle:
        linked = _link_lines(handle, batch_size, default_source, split)
    if linked is None:
        return None
    starts, parent = linked
    return _pack(starts, parent, batch_size)


def _link_lines(
    handle: Any, batch_size: int, default_source: str, split: Split | None = None
) -> tuple[array[int], list[int]] | None:
    """Each line's start, and a union-find forest over the lines (a root is its group's first line);
    with ``split``, the lines before its offset read here and the rest from its part."""
    starts: array[int] = array("q")
    parent: list[int] = []
    first_with: dict[int, int] = {}  # hash of a linking value -> the first line holding it
    offset = 0

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = node = parent[parent[node]]  # path halving
        return node

    def link(index: int, values: list[str]) -> None:
        for value in values:
            other = first_with.setdefault(hash(value), index)
            if other != index:
                a, b = find(index), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)

    stop = None if split is None else split[0]
    refused = False
    while stop is None or offset < stop:
        raw = handle.readline(MAX_LINE_CHARS + 1)
        if not raw:
            break
        index = len(parent)
        if index == 0 and raw.startswith(_FOREIGN_BOMS):
            refused = True  # read_jsonl refuses the file
            break
        if not _read_as_is(raw):
            refused = True  # read_jsonl reads such a line differently: keep its order
            break
        starts.append(offset)
        offset += len(raw)
        parent.append(index)
        text = raw[len(_BOM) :] if index == 0 and raw.startswith(_BOM) else raw
        link(index, _linking_values(text, default_source))
    if split is not None:
        part = split[1]()  # asked for even when refused: its reader waits for this pass to take it
        if part is None or refused:
            return None
        for length, values in zip(*part, strict=True):
            index = len(parent)
            starts.append(offset)
            offset += length
            parent.append(index)
            link(index, values)
    if refused or len(parent) <= batch_size:
        return None  # refused, or one batch: nothing to order
    starts.append(offset)
    return starts, parent


def _read_as_is(raw: bytes) -> bool:
    """Whether ``read_jsonl`` reads this line (of ``readline(MAX_LINE_CHARS + 1)``) as these bytes:
    not over ``MAX_LINE_CHARS``, and no carriage return but one ending ``\\r\\n``."""
    return len(raw) <= MAX_LINE_CHARS and (b"\r" not in raw or raw.find(b"\r") == len(raw) - 2)


#: How much of a line ``half_way`` reads at a time looking for its end.
_HALF_WAY_CHUNK: Final = 64 * 1024


def half_way(path: Path | str) -> int:
    """The start of the first line of ``path`` at or after its middle byte (its size if none):
    where ``link_part`` may read the second half from. Read a chunk at a time: a line whose rest
    is over ``MAX_LINE_CHARS`` gives the size (the plan refuses that line wherever it is cut)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        middle = size // 2
        if middle == 0:
            return 0
        offset = middle - 1
        handle.seek(offset)
        while offset - middle <= MAX_LINE_CHARS:
            chunk = handle.read(_HALF_WAY_CHUNK)
            end = chunk.find(b"\n")
            if end >= 0:
                return offset + end + 1
            if not chunk:
                break
            offset += len(chunk)
        return size


def link_part(path: Path | str, begin: int, default_source: str = "jsonl") -> LinkedPart | None:
    """The lines of ``path`` from ``begin`` (a line's start) to its end, as the first pass of
    ``plan_batches`` reads them: their lengths and linking values; None when one of them makes the
    file read in file order."""
    lengths: array[int] = array("q")
    values: list[list[str]] = []
    with open(path, "rb") as handle:
        handle.seek(begin)
        while raw := handle.readline(MAX_LINE_CHARS + 1):
            first = begin == 0 and not lengths
            if (first and raw.startswith(_FOREIGN_BOMS)) or not _read_as_is(raw):
                return None
            lengths.append(len(raw))
            values.append(
                _linking_values(raw[len(_BOM) :] if first and raw.startswith(_BOM) else raw, default_source)
            )
    return lengths, values


def _linking_values(raw: bytes, default_source: str) -> list[str]:
    """The values by which this line's record may be the same person as another line's."""
    try:
        data = _loads(raw)
    except (ValueError, RecursionError):  # not JSON, or not UTF-8: quarantined when read again
        return []
    if not isinstance(data, dict):
        return []
    source = data.get("source") or default_source
    values: list[str] = []
    record_id = data.get("id")
    if isinstance(record_id, str | int):
        values.append(f"s\0{source}\0{data.get('object_type') or 'contact'}\0{record_id}")
    owner_id = data.get("owner_id")
    if isinstance(owner_id, str | int) and owner_id != "":
        values.append(f"s\0{source}\0{data.get('owner_type') or 'contact'}\0{owner_id}")
    values.extend(
        "e\0" + email.strip().lower()
        for email in _as_list(data.get("email"))
        if isinstance(email, str) and "@" in email
    )
    for phone in _as_list(data.get("phone")):
        if isinstance(phone, str):
            digits = _NOT_DIGIT.sub("", phone)
            if len(digits) >= 7:
                values.append("p\0" + digits[-_PHONE_DIGITS:])
    return values


#: The scanner of ``json.loads``'s own decoder (the C one): one value from an index, as ``(value, end)``.
_SCAN: Final[Callable[[str, int], tuple[Any, int]]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(raw: bytes) -> Any:
    """``json.loads(raw)``; a line that is one object in UTF-8 (nearly every line) in one scan, without
    the encoding detection and the whitespace matches around it (a sixth of planning a line)."""
    if raw[:1] != b"{" or raw[1:2] == b"\x00":  # loads reads "{\x00..." as UTF-16
        return json.loads(raw)
    text = raw.decode("utf-8", "surrogatepass")  # as loads decodes UTF-8
    try:
        data, end = _SCAN(text, 0)
    except StopIteration:  # a value missing inside the object ('{"a": }'): loads says so
        return json.loads(raw)
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return json.loads(raw)  # which raises: more after the object
    return data


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _pack(starts: array[int], parent: list[int], batch_size: int) -> BatchPlan:
    """Pack the groups, in the order of their first line, into batches of at most ``batch_size``
    lines; a group larger than a batch is cut into batches of its lines in file order."""
    lines = len(parent)
    size: array[int] = array("i", bytes(4 * lines))
    for index in range(lines):
        root = index
        while parent[root] != root:
            root = parent[root]
        parent[index] = root  # every line now points at its root (roots come first: min index)
        size[root] += 1
    batch_of: array[int] = array("i", bytes(4 * lines))
    seen: dict[int, int] = {}  # lines placed so far of each group larger than a batch
    batches, fill = 0, 0
    for index in range(lines):
        root = parent[index]
        if root == index:
            count = size[index]
            if fill and fill + count > batch_size:
                batches, fill = batches + 1, 0
            batch_of[index] = batches
            if count > batch_size:
                seen[index] = 1
                batches += (count + batch_size - 1) // batch_size  # its own batches
                fill = 0
                continue
            fill += count
        elif root in seen:
            batch_of[index] = batch_of[root] + seen[root] // batch_size
            seen[root] += 1
        else:
            batch_of[index] = batch_of[root]
    total = batches + (1 if fill else 0)
    del parent[:], size
    # A counting sort of the lines by batch; ascending within each.
    ends = [0] * total
    for batch in batch_of:
        ends[batch] += 1
    running = 0
    for batch, count in enumerate(ends):
        running += count
        ends[batch] = running
    place = [0, *ends[:-1]]
    order: array[int] = array("i", bytes(4 * lines))
    for index in range(lines):
        batch = batch_of[index]
        order[place[batch]] = index
        place[batch] += 1
    return BatchPlan(starts, order, ends)
