"""The normalising worker's compiled calls, chosen where the optional extension is installed.

``profilesync_native`` (native/, ``make native``; its worker part is native/src/worker*.rs) keeps a
normalised record's JSON and content hash with it as ``core.record_json.record_json_and_hash``
does: the JSON from pydantic's own serialiser, the hash's bytes cut out of it and hashed with
BLAKE2b in compiled code. It keeps exactly the Python path's memos, in the Python path's order, or
raises before it keeps any; on any error the Python path runs for that record instead (and raises
what it raises). Without the extension, or with ``PROFILESYNC_NATIVE=off`` (as core.ingest_native
reads it), the Python function itself is used.

For the hand-over to the resolving process, the worker's pickles name
``profilesync_native.reassemble`` (native/src/worker_handover.rs) instead of
``core.schema_base._reassemble`` for a model in the common case: it builds the same model (the
same ``__dict__`` object, the shared set of fields) without a Python frame per model; a model
that is not the common case is pickled by ``_Frozen.__reduce__`` as before.

The normalisers' models are assembled by ``profilesync_native.assemble_model``
(native/src/norm_assemble.rs): ``core.schema_base.assemble_model`` without a Python frame per model,
the same objects (chosen with ``core.normalise.use_assembler``; its oracle:
tests/unit/test_native29n_assemble_parity.py); its records' email addresses by
``profilesync_native.normalise_email`` (native/src/norm_email.rs: the ASCII addresses
``normalise_email``'s one regex decides, the Python function for the rest; chosen with
``core.normalise.use_email_normaliser``; tests/unit/test_native29n_email_parity.py); and its orders
by ``profilesync_native.order`` (native/src/norm_order.rs: ``_order``'s common shape without its
Python frame; ``core.normalise.use_order_reader``; tests/unit/test_native29n_order_parity.py).
And each record is normalised by one compiled call, ``profilesync_native.normalise_record``
(native/src/norm_record*.rs: ``core.normalise.normalise_record`` for the common record, which calls
back only what stays Python's, and the Python function itself for every other record;
tests/unit/test_native30w_record_parity.py). With batches, a plain record's line is read from its
bytes by ``profilesync_native.normalise_line`` (native/src/norm_line*.rs: the JSON parsed and the
draft made in compiled code, then the one call a record; None for every other line, which the
Python path reads; tests/unit/test_native31w_line_parity.py).

tests/unit/test_native28w_worker_parity.py holds the compiled call to the Python path's memos and
pickled bytes on hypothesis records of every shape the canonical schema allows.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, Final

from core.content_hash import record_hash
from core.record_json import record_json_and_hash as python_json_and_hash
from core.schema import SourceRecord

__all__ = [
    "UNAVAILABLE",
    "handover_reassemble",
    "line_counts",
    "record_counts",
    "record_json_and_hash",
    "worker_assembler",
    "worker_email_normaliser",
    "worker_json_and_hash",
    "worker_line_normaliser",
    "worker_order_reader",
    "worker_record_normaliser",
]


def _load() -> tuple[Any, str]:
    if os.environ.get("PROFILESYNC_NATIVE", "").strip().lower() in {"0", "off", "false", "no"}:
        return None, "PROFILESYNC_NATIVE is off"
    try:  # optional: the extension of native/
        module = importlib.import_module("profilesync_native")
    except ImportError as error:
        return None, f"profilesync_native is not installed ({error}); `make native` builds it"
    if not hasattr(module, "normalise_record"):  # an extension built before the worker's part
        return None, "profilesync_native has no normalise_record (an older build): `make native`"
    return module, ""


_MODULE, _WHY = _load()
#: Why the compiled calls are not used ("" when they are).
UNAVAILABLE: Final[str] = _WHY


def record_json_and_hash(record: SourceRecord) -> None:
    """``core.record_json.record_json_and_hash(record)`` by the compiled call, or by the Python
    path where the compiled call raises (a text it cannot take as the Python path does)."""
    try:
        _MODULE.record_json_and_hash(record, record_hash)
    except Exception:
        python_json_and_hash(record)


def worker_json_and_hash() -> Callable[[SourceRecord], None]:
    """The function the normalising worker keeps each record's JSON and hash with: the compiled
    one where the extension is installed and on, else core.record_json's."""
    return python_json_and_hash if _MODULE is None else record_json_and_hash


def handover_reassemble() -> Callable[..., Any] | None:
    """What the worker's pickles name to read a model back with (profilesync.parallel_normalise's
    ``_pickled``): native/'s ``reassemble``, or None for ``core.schema_base._reassemble``."""
    return None if _MODULE is None else _MODULE.reassemble


def worker_assembler() -> Callable[..., Any] | None:
    """What the normalising worker assembles its models with (``core.normalise.use_assembler``):
    native/'s ``assemble_model``, or None for ``core.schema_base.assemble_model``."""
    return None if _MODULE is None else _MODULE.assemble_model


def worker_email_normaliser() -> Callable[[Any], str] | None:
    """What the normalising worker reads email addresses with (``core.normalise.use_email_normaliser``):
    native/'s ``normalise_email``, or None for ``core.normalise.normalise_email``."""
    return None if _MODULE is None else _MODULE.normalise_email


def worker_order_reader() -> Callable[[Any], Any] | None:
    """What the normalising worker reads orders with (``core.normalise.use_order_reader``):
    native/'s ``order``, or None for ``core.normalise._money._order``."""
    return None if _MODULE is None else _MODULE.order


def worker_record_normaliser() -> Callable[..., Any] | None:
    """What the normalising worker normalises each draft with, in place of
    ``core.normalise.normalise_record``: native/'s ``normalise_record`` (the same outcome, one
    compiled call for the common record), or None for the Python function."""
    return None if _MODULE is None else _MODULE.normalise_record


def worker_line_normaliser() -> Callable[..., Any] | None:
    """What the normalising worker reads a batched line's bytes with (profilesync.parallel_lines):
    native/'s ``normalise_line`` (a plain record's line parsed, drafted and normalised in one
    compiled call, None for every other line), or None where the extension is not installed, off,
    or built before it."""
    return getattr(_MODULE, "normalise_line", None)


def line_counts() -> tuple[int, int]:
    """``(taken, declined)``: the lines native/'s ``normalise_line`` read itself and those it left
    to the Python path, in this process so far ((0, 0) without it)."""
    counts = getattr(_MODULE, "normalise_line_counts", None)
    return (0, 0) if counts is None else counts()


def record_counts() -> tuple[int, int]:
    """``(taken, declined)``: the drafts native/'s ``normalise_record`` wrote itself and those it
    gave the Python function, in this process so far ((0, 0) without the extension)."""
    return (0, 0) if _MODULE is None else _MODULE.normalise_record_counts()
