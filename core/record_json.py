"""A normalised record's JSON, worked out once and kept with the record.

The embedded store writes each record's snapshot as ``record.model_dump_json()`` (the ``SOURCE#``
item's data). ``profilesync resolve`` normalises in a worker process (profilesync.parallel_normalise),
which works the JSON out there, with the record's hash, and sends it along: the resolving process
then finds it ready instead of serialising every record itself (about 6 µs a record, on the
process ``resolve`` waits for). The record is frozen, so the text kept is the text it would give.
"""

from __future__ import annotations

from core.schema import SourceRecord

#: Where ``record_json`` keeps the text: an entry of the model's ``__dict__`` that is not a field,
#: like ``core.merge.RECORD_HASH_MEMO``; pydantic leaves it out of dumps and ``==``, pickling takes
#: it along, ``model_copy`` drops it (core.schema).
RECORD_JSON_MEMO = "_record_json"


def record_json(record: SourceRecord) -> str:
    """``record.model_dump_json()``, kept with the record after the first call."""
    memo: str | None = record.__dict__.get(RECORD_JSON_MEMO)
    if memo is None:
        memo = record.__dict__[RECORD_JSON_MEMO] = record.model_dump_json()
    return memo


__all__ = ["RECORD_JSON_MEMO", "record_json"]
