"""``resolve --out``: the profiles of the embedded store as JSON lines, in two processes when it pays.

    python -m profilesync.resolve_output STORE START FD   # the second process (internal)

The embedded store keeps each profile as the JSON document ``Profile.model_dump_json`` wrote;
``document_line`` turns one into the output's flat shape without building the model, and the lines
are written in customer id order. That was a sixth of ``resolve``'s resolving process (about 40 µs
a profile, 21 a record, more than half of it json's C decoder and encoder), done after the
normalising worker has finished: the second core is free. So for a large store (``write_store``)
a second process writes the upper half of the customer ids (from ``SPLIT``: the ids are BLAKE2b
digests in base32, so the split is about even) into an unnamed temporary file while this one
writes the lower half into the output, and this one appends the other's part when both are done:
the same bytes, in up to half the wall time when the second core is free (none saved on a machine
whose cores are busy: 2.25 -> 2.5 s for 52,427 profiles at load 6). The second process is a fresh
interpreter (started by exec: nothing of this process's SQLite connections lives on in it)
importing only this module (the standard library, not pydantic: under 0.1 s to start), and it opens
the store's file read-only. Its failure is an
error of the command; if the caller dies, the part it wrote dies with the last open descriptor of
its unnamed file.

Where the extension of native/ is installed (and ``PROFILESYNC_NATIVE`` is not off), both processes
write a page of lines by one compiled call from the documents' text (``LINES``,
native/src/out_line.rs): the same bytes (tests/unit/test_native31g_line_parity.py) without json's
decoder, a dict per value and json's encoder; a document it cannot copy byte for byte is written
by the Python path above.

Nothing here imports more than the standard library and that optional extension: keep it so, the
second process starts from it.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TextIO

#: Distinct times whose output form ``_isoformat`` keeps (about 6 MB when full).
_TIMES_KEPT: Final = 65_536
#: ``json.dumps(line, ensure_ascii=False)`` without building an encoder for every line.
_LINE_ENCODER: Final = json.JSONEncoder(ensure_ascii=False)
#: Lines joined into one write.
_LINES_PER_WRITE: Final = 500
#: Profiles read per query, as the store pages them (core.storage.sqlite.PROFILES_PER_PAGE).
_PER_PAGE: Final = 500
#: Where the second process starts (the first writes the keys below it): the middle of the base32
#: alphabet of customer ids (``234567abcdefghij`` before it, ``klmnopqrstuvwxyz`` from it).
SPLIT: Final = "CUSTOMER#cus_k"
#: Profiles below which one process writes them all: starting the second costs about 50 ms.
PARALLEL_MIN_PROFILES: Final = 20_000


def document_line(document: Mapping[str, Any]) -> dict[str, Any]:
    """``profile_line`` of the profile whose JSON document (``Profile.model_dump_json``) this is,
    without building the model: the embedded store keeps profiles as JSON, and validating each one
    back into a model only to write it out as JSON again was a tenth of a resolve. The same
    output, key for key (tests/unit/test_resolve_output.py compares the two on a population)."""
    identifiers: dict[str, list[str]] = {}
    for ident in document["identifiers"]:
        if ident["kind"] != "source":
            identifiers.setdefault(ident["kind"], []).append(ident["value"])
    traits: Mapping[str, Mapping[str, Any]] = document["traits"]
    consent: Mapping[str, Mapping[str, Any]] = document["consent"]
    return {
        "customer_id": document["customer_id"],
        "sources": [
            {"source": s["source"], "object_type": s["object_type"], "id": s["id"]}
            for s in document["sources"]
        ],
        "identifiers": identifiers,
        "traits": {name: t["value"] for name, t in traits.items()},
        "provenance": {
            name: {"source": t["source"], "updated_at": _isoformat(t["updated_at"])}
            for name, t in traits.items()
        },
        "computed": document["computed"],
        "consent": {
            channel: {
                "granted": c["granted"],
                "changed_at": _isoformat(c["changed_at"]),
                "source": c["source"],
            }
            for channel, c in consent.items()
        },
        "version": document["version"],
    }


def _isoformat(text: str) -> str:
    """A time as pydantic writes it (``...Z``) in ``datetime.isoformat``'s form (``...+00:00``).

    A whole second in UTC (``2026-06-19T06:46:24Z``, nearly every time a vendor gives) is the same
    text with ``+00:00`` for the ``Z``; any other is parsed (``_parsed_isoformat``)."""
    if len(text) == 20 and text[19] == "Z" and text[10] == "T":
        return text[:19] + "+00:00"
    return _parsed_isoformat(text)


@functools.lru_cache(maxsize=_TIMES_KEPT)
def _parsed_isoformat(text: str) -> str:
    """``_isoformat`` by parsing. Kept by its text: a profile's traits and consent mostly share
    their records' few times, and parsing each one again was a third of writing a line. (A text
    that is no time raises each time: ``lru_cache`` keeps no exception.)"""
    return datetime.fromisoformat(text).isoformat()


def _load_lines() -> Callable[..., tuple[str, int]] | None:
    """``profilesync_native.profile_lines`` where the extension is installed and not turned off
    (``PROFILESYNC_NATIVE=off``, as core.ingest_native reads it): a compiled module of its own,
    so the second process still imports nothing of pydantic."""
    if os.environ.get("PROFILESYNC_NATIVE", "").strip().lower() in {"0", "off", "false", "no"}:
        return None
    try:  # optional: the extension of native/, typed by its use here (no stub to keep)
        module = importlib.import_module("profilesync_native")
    except ImportError:
        return None
    lines: Callable[..., tuple[str, int]] | None = getattr(module, "profile_lines", None)
    return lines


#: The compiled page of lines (native/src/out_line.rs), or None (the Python path): read at each
#: write, so a test or bench may swap it.
LINES: Callable[..., tuple[str, int]] | None = _load_lines()


def write_documents(
    documents: Iterator[Mapping[str, Any]], out: TextIO, progress: Callable[[int], None] | None = None
) -> int:
    """Write one line per profile read as its JSON document (``document_line``)."""
    return write_lines(map(document_line, documents), out, progress)


def _line_of(data: str | bytes) -> str:
    """One profile's line from its PROFILE item's ``data`` (its JSON, or a packed profile's bytes):
    the Python path of ``_write_range``, and the compiled one's for a document it declines."""
    return _encode_line(document_line(json.loads(data if isinstance(data, str) else _unpacked(data))))


def _write_range(
    connection: sqlite3.Connection,
    start: str,
    stop: str | None,
    out: TextIO,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the lines of the store's profiles from ``start`` to ``stop`` (``store_documents``) to
    ``out``. Where the extension of native/ has ``profile_lines`` (``LINES``), a page's lines are
    written by one compiled call from the documents' text, the bytes ``write_documents`` writes
    (tests/unit/test_native31g_line_parity.py): no dict per value, no encoder; else by
    ``write_documents``. ``progress`` is told the count at each thousand lines, as there."""
    lines = LINES
    if lines is None:
        return write_documents(store_documents(connection, start, stop), out, progress)
    count = 0
    for page in store_pages(connection, start, stop):
        text, _ = lines(page, _isoformat, _line_of)
        out.write(text)
        before, count = count, count + len(page)
        if progress is not None:
            for told in range((before // 1000 + 1) * 1000, count + 1, 1000):
                progress(told)
    return count


def write_lines(lines: Iterator[dict[str, Any]], out: TextIO, progress: Callable[[int], None] | None) -> int:
    """Write each line as JSON and a newline, a few hundred lines a write; ``progress`` is told the
    count every 1,000 lines. Returns the count."""
    count = 0
    encode = _encode_line
    pending: list[str] = []
    for line in lines:
        pending.append(encode(line))
        count += 1
        if len(pending) >= _LINES_PER_WRITE:
            pending.append("")  # the last line's newline
            out.write("\n".join(pending))
            pending.clear()
        if progress is not None and not count % 1000:
            progress(count)
    if pending:
        pending.append("")
        out.write("\n".join(pending))
    return count


def _line_encoder() -> Callable[[Any], str]:
    """``_LINE_ENCODER.encode`` (``json.dumps(value, ensure_ascii=False)``) with json's C encoder
    made once, not for every line as ``encode`` does (2.4 of its 9.4 µs a profile). Without the C
    encoder (another Python), ``encode`` itself. No check for circular references: a line is
    made of a parsed document or a model's values, never of itself
    (tests/unit/test_resolve_output.py compares it with ``json.dumps`` on hypothesis values)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _LINE_ENCODER.encode
    iterencode = make(
        None,  # no markers: no check for circular references
        _LINE_ENCODER.default,
        json.encoder.encode_basestring,  # as ensure_ascii=False
        None,  # no indent
        _LINE_ENCODER.key_separator,
        _LINE_ENCODER.item_separator,
        _LINE_ENCODER.sort_keys,
        _LINE_ENCODER.skipkeys,
        _LINE_ENCODER.allow_nan,
    )
    join = "".join

    def encode(value: Any) -> str:
        return join(iterencode(value, 0))

    return encode


_encode_line: Final = _line_encoder()


def store_documents(connection: sqlite3.Connection, start: str, stop: str | None) -> Iterator[dict[str, Any]]:
    """The live profiles of the store (a PROFILE item with data) whose partition key is at least
    ``start`` and below ``stop`` (None: to the end), as JSON documents in key order: the store's
    own ``profile_documents`` for a range, on a connection of the caller's."""
    loads = json.loads
    for page in store_pages(connection, start, stop):
        for data in page:
            yield loads(data if isinstance(data, str) else _unpacked(data))


def store_pages(connection: sqlite3.Connection, start: str, stop: str | None) -> Iterator[list[str | bytes]]:
    """``store_documents``' profiles a page at a time, as their items' ``data`` (the JSON text, or
    a packed profile's bytes)."""
    below = "AND pk < ? " if stop is not None else ""
    first = f"SELECT pk, data FROM items WHERE pk >= ? AND sk = 'PROFILE' AND data IS NOT NULL {below}"
    query = first + "ORDER BY pk LIMIT ?"
    query_after = query.replace("pk >= ?", "pk > ?", 1)
    key = start
    while True:
        arguments = (key, stop, _PER_PAGE) if stop is not None else (key, _PER_PAGE)
        rows = connection.execute(query, arguments).fetchall()
        if rows:
            yield [data for _, data in rows]
        if len(rows) < _PER_PAGE:
            return
        key = rows[-1][0]
        query = query_after


def _unpacked(data: bytes) -> str:
    """A profile packed past its threshold (a BLOB): its JSON. Imported here, for the rare packed
    profile: core.storage.profile_packing needs only the standard library and core.errors."""
    from core.storage.profile_packing import read_document

    return read_document(data)[0]


def write_store(
    store: Path, out: TextIO, progress: Callable[[int], None] | None = None, *, parallel: bool = True
) -> int:
    """Write every live profile of the embedded store file ``store`` (committed, no write under
    way) to ``out`` (a file) in customer id order; with ``parallel``, on a POSIX system, and at
    least ``PARALLEL_MIN_PROFILES`` profiles, the upper half in a second process. Returns the count."""
    with _read_only(store) as connection:
        # (pass_fds, which hands the second process its file, is POSIX only)
        if not parallel or os.name != "posix" or not _at_least(connection, PARALLEL_MIN_PROFILES):
            return _write_range(connection, "", None, out, progress)
        with tempfile.TemporaryFile(dir=Path(out.name).parent) as part:
            try:
                child = subprocess.Popen(
                    [sys.executable, "-m", __name__, str(store), SPLIT, str(part.fileno())],
                    pass_fds=(part.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={**os.environ, "PYTHONPATH": _import_path()},
                )
            except OSError:  # no interpreter to start (an embedded Python): one process writes all
                return _write_range(connection, "", None, out, progress)
            try:
                count = _write_range(connection, "", SPLIT, out, progress)
            except BaseException:
                child.kill()
                child.communicate()
                raise
            written, errors = child.communicate()
            if child.returncode != 0 or not written.strip().isdigit():
                raise OSError(
                    f"the process writing the second half of {out.name} failed (exit code "
                    f"{child.returncode}): {errors.decode(errors='replace')[-2000:]}"
                )
            out.flush()
            part.seek(0)
            shutil.copyfileobj(part, out.buffer)
            count += int(written)
            if progress is not None:
                progress(count)
            return count


def _at_least(connection: sqlite3.Connection, profiles: int) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM (SELECT 1 FROM items WHERE sk = 'PROFILE' AND data IS NOT NULL LIMIT ?)",
        (profiles,),
    ).fetchone()
    return bool(row[0] >= profiles)


def _read_only(store: Path) -> closing[sqlite3.Connection]:
    """A read-only connection to the store file, closed at the end of the ``with`` block."""
    return closing(sqlite3.connect(f"{Path(store).resolve().as_uri()}?mode=ro", uri=True))


def _import_path() -> str:
    """PYTHONPATH for the second process: where this package was imported from, then the caller's."""
    here = str(Path(__file__).resolve().parent.parent)
    return os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))


def _write_part(store: str, start: str, fd: int) -> None:
    """The second process: the profiles from ``start`` on into the file open as ``fd``; their
    count on standard output."""
    with _read_only(Path(store)) as connection, open(fd, "w", encoding="utf-8") as out:
        count = _write_range(connection, start, None, out)
    print(count)


if __name__ == "__main__":
    _write_part(sys.argv[1], sys.argv[2], int(sys.argv[3]))
