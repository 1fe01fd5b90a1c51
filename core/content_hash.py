"""Content hashes of records and profiles, and the profile JSON the stores write from the same body.

``record_hash`` says whether a record says something new (times left out), ``profile_hash`` whether a
profile changed; ``profile_json`` reuses the bytes ``profile_hash`` serialised. Both hashes are one
``content_digest`` of the bytes serialised. core.merge re-exports the hashes, their memo names and
``profile_json``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

from core.schema import Profile, SourceRecord


def record_hash(record: SourceRecord) -> str:
    """Content hash of a normalised record, without its times (``updated_at``, ``read_at``, and
    ``undated``, which says what ``updated_at`` is): equal hashes
    mean the record says the same thing. A record that comes back with the same content and only a
    newer timestamp (the echo of a push: the vendor bumps its modification time) changes no profile. A consent
    decision whose time is the record's own ``updated_at`` (the default when the tool gives none)
    is hashed without that time, for the same reason, and so is one ``dated_by_record`` (without
    the mark too): a version that keeps an earlier version's time for it (core.consent_carry) hashes
    as the version it was made from.

    Worked out once per record and kept with it (``RECORD_HASH_MEMO``): ingest asks for it when it
    checks the record against the store and again when it moves a snapshot, and a record normalised
    in a worker process (``profilesync.parallel_normalise``) arrives with it already worked out."""
    memo: str | None = record.__dict__.get(RECORD_HASH_MEMO)
    if memo is not None:
        return memo
    at = record.updated_at
    defaulted = [
        channel
        for channel, state in record.consent.items()
        if state.changed_at == at or state.dated_by_record
    ]
    # The fields added for child objects are hashed only when they say something, so a person's record
    # hashes as it did before they existed, and a stored snapshot is not taken for changed.
    plain = record.level == "person" and record.owner is None and record.order_summary is None
    exclude: Any = _RECORD_HASH_EXCLUDE if plain else _RECORD_HASH_EXCLUDE_TIME
    if defaulted:
        exclude = dict.fromkeys(exclude, True)
        exclude["consent"] = dict.fromkeys(defaulted, _DEFAULTED_TIME)
    # The bytes of ``record.model_dump_json(exclude=...)``, without decoding them to ``str`` first.
    return keep_record_hash(record, record.__pydantic_serializer__.to_json(record, exclude=exclude))


def keep_record_hash(record: SourceRecord, body: bytes) -> str:
    """The hash of ``body``, the bytes ``record_hash`` hashes for ``record``, kept with the record
    (``RECORD_HASH_MEMO``) beside their length (``HASHED_BYTES_MEMO``): ``record_hash``, and
    core.record_json, which cuts the same bytes out of the record's JSON."""
    digest = content_digest(body)
    kept = record.__dict__
    kept[RECORD_HASH_MEMO] = digest
    kept[HASHED_BYTES_MEMO] = len(body)
    return digest


def content_digest(body: bytes) -> str:
    """The content hash of serialised bytes, a record's or a profile's: blake2b, 128 bits, in hex."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


#: Where ``record_hash`` keeps a record's hash: an entry of the model's ``__dict__`` that is not a
#: field, like the memoised ``key`` (core.schema), so pydantic leaves it out of dumps and ``==``.
#: It travels with the record when the record is pickled; ``model_copy`` drops it.
RECORD_HASH_MEMO = "_record_hash"
#: Beside it (and beside a profile's ``profile_hash``): how many bytes were hashed, which the
#: in-memory store weighs the item by (core.storage.memory_sizes) without serialising it again.
HASHED_BYTES_MEMO = "_hashed_bytes"

# Read only (pydantic takes a set): what a person's record leaves out, and what any record does.
_RECORD_HASH_EXCLUDE: set[str] = {"updated_at", "read_at", "undated", "level", "owner", "order_summary"}
_RECORD_HASH_EXCLUDE_TIME: set[str] = {"updated_at", "read_at", "undated"}
#: What a consent decision dated by its record leaves out of the hash (``dated_by_record`` is
#: written only when true: a decision at the record's own time hashes as it did before the mark).
_DEFAULTED_TIME: set[str] = {"changed_at", "dated_by_record", "contrary_at", "run_at"}


def profile_hash(profile: Profile) -> str:
    """Content hash of a profile, ignoring its version and customer id.

    The bytes hashed are ``profile.model_dump_json(exclude={"version", "customer_id"}).encode()``:
    that method is this serializer call with the same (default) options, decoded to ``str``. They
    are kept for a while (``_RECENT_BODIES``), so that ``profile_json`` of the same profile, which
    the store writes next, need not serialise it a second time.
    """
    body = profile.__pydantic_serializer__.to_json(profile, exclude=_PROFILE_HASH_EXCLUDE)
    profile.__dict__[HASHED_BYTES_MEMO] = len(body)
    recent = _RECENT_BODIES
    with _RECENT_LOCK:
        recent[id(profile)] = (profile, body)
        if len(recent) > _RECENT_BODIES_KEPT:
            del recent[next(iter(recent))]  # the oldest: dicts keep insertion order
    return content_digest(body)


def keep_profile_body(profile: Profile, body: bytes) -> str:
    """``profile_hash(profile)`` when ``body`` is the bytes it would serialise (core.grow_kept puts
    them together from a kept profile's parts), kept for ``profile_json`` as ``profile_hash`` keeps them."""
    profile.__dict__[HASHED_BYTES_MEMO] = len(body)
    with _RECENT_LOCK:
        _RECENT_BODIES[id(profile)] = (profile, body)
        if len(_RECENT_BODIES) > _RECENT_BODIES_KEPT:
            del _RECENT_BODIES[next(iter(_RECENT_BODIES))]
    return content_digest(body)


def profile_json(profile: Profile) -> str:
    """``profile.model_dump_json()``, the profile as the stores keep it.

    A profile is serialised for its hash when it is planned (``profile_hash``, every field but the
    customer id and the version) and again when the store writes it, each about 10 µs. The text
    written is the hashed body with those two fields around it (the first and the last field of
    ``Profile``), so when the body is at hand this puts them around it instead of serialising again.
    Only for a customer id that JSON writes as it is (``cus_`` and base32, as every generated id);
    tests/unit/test_profile_json.py checks the text is ``model_dump_json``'s on arbitrary profiles.
    """
    with _RECENT_LOCK:
        kept = _RECENT_BODIES.pop(id(profile), None)
    customer_id = profile.customer_id
    if kept is None or kept[0] is not profile or not _PLAIN_ID.fullmatch(customer_id):
        return profile.model_dump_json()
    body = kept[1].decode()
    return f'{{"customer_id":"{customer_id}",{body[1:-1]},"version":{int(profile.version)}}}'


_PROFILE_HASH_EXCLUDE: set[str] = {"version", "customer_id"}  # read only (pydantic takes a set)
#: Bodies serialised by ``profile_hash``, by ``id()`` of their profile, which each entry keeps
#: alive (so the id cannot be reused while it is here): the profiles of one plan, whose changesets
#: the store writes next. Bounded: an older body is dropped, and its profile serialised again.
_RECENT_BODIES: dict[int, tuple[Profile, bytes]] = {}
_RECENT_BODIES_KEPT = 512
_RECENT_LOCK = threading.Lock()
#: Customer ids whose JSON string is the id itself between quotes (no escapes).
_PLAIN_ID = re.compile(r"[A-Za-z0-9_\-]+")
