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
drafts by ``connectors.jsonl.line_outcome``, as ``read_jsonl`` does, line numbers and all.

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
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from connectors.jsonl import MAX_LINE_CHARS, line_outcome, read_jsonl
from core.schema import Quarantined, RecordDraft

__all__ = ["BATCH_END", "BatchEnd", "BatchPlan", "plan_batches", "read_jsonl_batched"]


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
    path: Path | str, batch_size: int, default_source: str = "jsonl"
) -> Iterator[RecordDraft | Quarantined | BatchEnd]:
    """``read_jsonl(path)``'s drafts and quarantine entries, batch after batch, each batch followed by
    ``BATCH_END``; in file order (and without ``BATCH_END``) when ``plan_batches`` gives no plan."""
    plan = plan_batches(path, batch_size, default_source)
    if plan is None:
        yield from read_jsonl(path, default_source)
        return
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        starts, order, first = plan.starts, plan.order, 0
        for end in plan.ends:
            for index in order[first:end]:
                raw = data[starts[index] : starts[index + 1]]
                if index == 0 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]  # utf-8-sig, as read_jsonl opens the file
                try:  # valid UTF-8 (nearly every line): no byte for line_outcome to look for
                    line, utf8 = raw.decode("utf-8"), True
                except UnicodeDecodeError:
                    line, utf8 = raw.decode("utf-8", "surrogateescape"), False
                if line.endswith("\r\n"):
                    line = line[:-2] + "\n"  # text mode's newline translation
                outcome = line_outcome(index + 1, line, len(line), default_source, utf8=utf8)
                if outcome is not None:
                    yield outcome
            first = end
            yield BATCH_END


def plan_batches(path: Path | str, batch_size: int, default_source: str = "jsonl") -> BatchPlan | None:
    """The batches of ``path`` (see the module's docstring), or None to read it in file order."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not Path(path).is_file():
        return None  # a pipe cannot be read twice; read_jsonl says why anything else cannot be read
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, on every path)
    except OSError:
        return None  # read_jsonl says why
    with handle:
        linked = _link_lines(handle, batch_size, default_source)
    if linked is None:
        return None
    starts, parent = linked
    return _pack(starts, parent, batch_size)


def _link_lines(handle: Any, batch_size: int, default_source: str) -> tuple[array[int], list[int]] | None:
    """Each line's start, and a union-find forest over the lines (a root is its group's first line)."""
    starts: array[int] = array("q")
    parent: list[int] = []
    first_with: dict[int, int] = {}  # hash of a linking value -> the first line holding it
    offset = 0

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = node = parent[parent[node]]  # path halving
        return node

    while True:
        raw = handle.readline(MAX_LINE_CHARS + 1)
        if not raw:
            break
        index = len(parent)
        if index == 0 and raw.startswith(_FOREIGN_BOMS):
            return None  # read_jsonl refuses the file
        if len(raw) > MAX_LINE_CHARS or (b"\r" in raw and raw.find(b"\r") != len(raw) - 2):
            return None  # read_jsonl reads such a line differently: keep its order
        starts.append(offset)
        offset += len(raw)
        parent.append(index)
        text = raw[len(_BOM) :] if index == 0 and raw.startswith(_BOM) else raw
        for value in _linking_values(text, default_source):
            other = first_with.setdefault(hash(value), index)
            if other != index:
                a, b = find(index), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    if len(parent) <= batch_size:
        return None  # one batch: nothing to order
    starts.append(offset)
    return starts, parent


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
