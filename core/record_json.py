"""A normalised record's JSON, worked out once and kept with the record.

The embedded store writes each record's snapshot as ``record.model_dump_json()`` (the ``SOURCE#``
item's data). ``profilesync resolve`` normalises in a worker process (profilesync.parallel_normalise),
which works the JSON out there, with the record's hash, and sends it along: the resolving process
then finds it ready instead of serialising every record itself (about 6 µs a record, on the
process ``resolve`` waits for). The record is frozen, so the text kept is the text it would give.

``record_json_and_hash`` works out both from one serialisation: the bytes ``record_hash`` hashes
are the record's JSON with the fields it leaves out cut away (``_hash_body``), where serialising
the record a second time cost the worker about 3 µs a record.
"""

from __future__ import annotations

from core.content_hash import RECORD_HASH_MEMO, keep_record_hash, record_hash
from core.schema import SourceRecord

#: Where ``record_json`` keeps the text: an entry of the model's ``__dict__`` that is not a field,
#: like ``core.content_hash.RECORD_HASH_MEMO``; pydantic leaves it out of dumps and ``==``, pickling takes
#: it along, ``model_copy`` drops it (core.schema).
RECORD_JSON_MEMO = "_record_json"
#: What a record's JSON (``model_dump_json``) holds when it has refused values (``SourceRecord.dropped``
#: not empty; ``"dropped":[]`` otherwise): the stores find such records by it without parsing them.
REFUSED_NEEDLE = '"dropped":[{'


def record_json(record: SourceRecord) -> str:
    """``record.model_dump_json()``, kept with the record after the first call."""
    memo: str | None = record.__dict__.get(RECORD_JSON_MEMO)
    if memo is None:
        memo = record.__dict__[RECORD_JSON_MEMO] = record.model_dump_json()
    return memo


def record_json_and_hash(record: SourceRecord) -> None:
    """Keep ``record_json(record)`` and ``core.content_hash.record_hash(record)`` with the record, both
    from one serialisation where the hash's bytes can be cut out of the JSON (nearly every record),
    else each its own way. Either way they are exactly what the two functions give
    (tests/unit/test_record_json_and_hash.py compares them on hypothesis records)."""
    kept = record.__dict__
    if RECORD_JSON_MEMO in kept and RECORD_HASH_MEMO in kept:
        return
    # model_dump_json() is this call decoded; record_hash hashes this call with fields excluded.
    body = record.__pydantic_serializer__.to_json(record)
    # The hash kept first, then the JSON, as the two functions called in turn keep them: the
    # pickled record (the entries in that order) is then the bytes it was.
    if RECORD_HASH_MEMO not in kept:
        hashed = _hash_body(record, body)
        if hashed is None:
            record_hash(record)
        else:
            keep_record_hash(record, hashed)
    kept[RECORD_JSON_MEMO] = body.decode()


_UPDATED_AT = b',"updated_at":"'
#: The end of a person's record (no owner, no summary) up to ``read_at``'s value: all that
#: ``record_hash`` leaves out of such a record but ``updated_at``.
_PERSON_TAIL = b',"level":"person","owner":null,"order_summary":null,"read_at":'
_READ_AT = b',"read_at":'


def _hash_body(record: SourceRecord, body: bytes) -> bytes | None:
    """The bytes ``record_hash`` hashes, cut out of ``body`` (the record's JSON), or None when they
    cannot be: a consent decision at the record's own time that is not that very ``datetime``, or
    one ``dated_by_record`` at another time (carried from an earlier version, core.consent_carry).

    The JSON puts a quote that is not escaped only where a string starts or ends, so the text of a
    key with its quotes (``,"updated_at":"``) can only be that key, never part of a value: the
    first ``updated_at`` found is the field, the last ``read_at`` is the field (the last field), and
    ``{"granted":true,"changed_at":"<time>"}`` can only be a consent decision. A time's text holds
    no quote, and two times with the same text are the same time."""
    fields = record.__dict__  # the fields as they are, without pydantic's attribute look-up
    start = body.find(_UPDATED_AT)
    if start < 0:
        return None
    after = start + len(_UPDATED_AT)
    end = body.index(b'"', after) + 1
    person = fields["level"] == "person" and fields["owner"] is None and fields["order_summary"] is None
    cut = body.rfind(_PERSON_TAIL if person else _READ_AT, end)
    if cut < 0:
        return None
    consent = fields["consent"]
    if consent:
        at = fields["updated_at"]
        defaulted = marked = False
        for state in consent.values():
            if state.contrary_at is not None or state.run_at:
                return None  # a decision's run (core.consent_carry): written after its mark, left out
            changed_at = state.changed_at
            if changed_at == at:
                if changed_at is not at:
                    return None  # an equal time that may be written otherwise (another offset)
                defaulted = True
                marked = marked or state.dated_by_record
            elif state.dated_by_record:
                return None  # a time carried from an earlier version (core.consent_carry), left out
        if defaulted:
            # record_hash leaves out the time of a decision made at the record's own time, and its
            # ``dated_by_record`` mark. Those made with that very datetime serialise it as the
            # record's; any other time serialises to another text, so replacing that text's
            # decisions touches exactly the defaulted ones.
            stamp = b',"changed_at":"' + body[after : end - 1] + b'"'
            rest = body[end:cut].replace(b'{"granted":true' + stamp + b"}", b'{"granted":true}')
            rest = rest.replace(b'{"granted":false' + stamp + b"}", b'{"granted":false}')
            if marked:
                stamp += b',"dated_by_record":true}'
                rest = rest.replace(b'{"granted":true' + stamp, b'{"granted":true}')
                rest = rest.replace(b'{"granted":false' + stamp, b'{"granted":false}')
            return body[:start] + rest + b"}"
    return body[:start] + body[end:cut] + b"}"


__all__ = ["RECORD_JSON_MEMO", "record_json", "record_json_and_hash"]
