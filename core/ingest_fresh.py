"""New customers written as items, a batch at a time: the fast path of core.batch_ingest.

``ingest_batch`` finds the groups of a batch that touch nothing stored (``_split_fresh``: no key
of theirs has an item, a tombstone included) and plans each with the general planner: guardrails
(``group_records``), a changeset of operations (``_changeset``), then the store's ``commit``
checks every operation's condition and sizes every item. For the common group none of that can
change the outcome, and this module writes the same items without it:

    group -> no limited key held by more people than its limit (one component; holders counted as
             ``group_records`` counts them, by ``core.identity_holders.limit_holder``)
          -> the items ``_changeset`` + ``SQLiteProfileStore.commit`` would write, built as rows:
             SOURCE (the snapshot's JSON), HISTORY (``source_arrived``, its JSON written here),
             IDENT (every usable key; the group's own ``source#`` keys with hash and time),
             HOLDER (mailbox markers), PROFILE (``build_profile``'s JSON and hash, version 1, ``owned``,
             written by core.ingest_profile without the Profile model)
          -> one length check against the item and transaction limits
          -> the store inserts the IDENT and PROFILE items of all the groups with one statement
             (a group one of whose items exists now writes nothing: ``PutIdent``'s and
             ``PutProfile``'s conditions) and puts the others with another

A group this does not take goes to the general planner as before: a limited key (an email held by
more than 8 people, a phone by more than 5) that the guardrails would refuse, more items
than one transaction holds, keys or items that may be too long, a clock that is not UTC. The whole
fast path is off for probabilistic identity (the link graph reads stored neighbours and writes
match documents) and with a suppression check (core.batch_ingest sends both to ``ingest``), and on
stores that do not write rows (``WritesNewItems``: the SQLite store does, in
core.storage.sqlite_new_items; the in-memory store keeps models and DynamoDB transactions, both
planned as before). tests/unit/test_ingest_fresh.py compares every item with the general path's
over generated populations. Where the optional extension of native/ is installed
(core.ingest_native), it writes the customer id, the SOURCE rows and the events, the bytes
``_source_event_rows`` writes (tests/unit/test_rust27_native_parity.py), and runs the identifier
loop and writes the IDENT and HOLDER rows, the values ``_identifier_loop`` and
``_ident_holder_rows`` give (tests/unit/test_native28r_rows_parity.py), and writes the profile,
the text and hash core.ingest_profile's ``new_profile`` gives (tests/unit/test_native29b_profile_parity.py).
All of it in one call a slice of the batch (``_compiled_rows``: native/src/batch.rs reads each
group's records once and writes every row ``_rows`` writes; a group it declines is written by
``_rows``, tests/unit/test_native30g_batch_parity.py); the five calls a group above are what
``_rows`` makes where that call is not in the build.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import blake2b
from typing import Final, Protocol, runtime_checkable

from pydantic import TypeAdapter

from core import ingest_native
from core.governance.history import history_sort_key, quotes_identifier
from core.grow_mark import add_only_mark
from core.identity import GuardrailHit, customer_id_for
from core.identity_holders import limit_holder
from core.ingest_native import Declined, FreshRowsFound, IdentHolderRows, IdentifierLoop, SourceEventRows
from core.ingest_profile import new_profile
from core.ingest_runs import written_item
from core.ingest_settings import IngestResult, IngestSettings
from core.mailbox import marker_keys
from core.merge import record_hash
from core.record_json import record_json
from core.schema import Identifier, SourceRecord
from core.storage import profile_packing
from core.storage.sqlite_new_items import EventRow, IdentRow, MarkerRow, NewItems, SourceRow

__all__ = ["ITEM_MAX_BYTES", "NewItems", "WritesNewItems", "found_fresh"]

#: DynamoDB's limits the stores hold (core.storage.sqlite): an item, and the keys' UTF-8 bytes.
ITEM_MAX_BYTES: Final = 400 * 1024
_PK_MAX_BYTES: Final = 2048
_SK_MAX_BYTES: Final = 1024
#: What an item costs beyond its texts' bytes, at most: attribute names, 8 per value no text.
_ITEM_OVERHEAD: Final = 48 + 8 * 8
_ARRIVED: Final = "a new record"
#: A ``source_arrived`` event's id (``sourc-`` and 20 hex digits).
_EVENT_ID_CHARS: Final = 26
_BLOCKED: Final = "blocklisted value"


@runtime_checkable
class WritesNewItems(Protocol):
    """A store that writes new customers' items as rows (core.storage.sqlite)."""

    max_items_per_commit: int
    scratch: bool
    """A store that writes no history events or holder markers (core.storage.sqlite's scratch
    store): their rows are sized, not built."""

    def insert_new_items(self, groups: Sequence[NewItems]) -> set[int]:
        """Write each group's items in one transaction: its IDENT and PROFILE items only if no item
        has their keys (else the group writes nothing), the others as puts; the indices of the
        groups that wrote nothing."""
        ...


def found_fresh(
    groups: list[list[SourceRecord]],
    store: WritesNewItems,
    settings: IngestSettings,
    total: IngestResult,
    lost: list[SourceRecord],
    stored: set[str],
    blocked: dict[str, bool] | None = None,
) -> list[list[SourceRecord]]:
    """Write the new customers of the ``groups`` this path takes (counted in ``total``, their
    records' keys in ``stored``; the records of a group whose items were taken meanwhile go to
    ``lost``); the groups it leaves, for the general planner. ``blocked``: per identifier key,
    whether the policy blocks it, as far as known (core.batch_ingest's split asked first).

    The clock is read once: every new customer written here arrived at that time."""
    left: list[list[SourceRecord]] = []
    taken: list[NewItems] = []
    founds: list[tuple[str, list[SourceRecord], list[GuardrailHit]]] = []
    if blocked is None:
        blocked = {}
    at = settings.clock()
    if at.tzinfo is not UTC:
        return groups  # the planner turns the time to UTC as it validates the events
    arrival = _Arrival(at, settings.actor)
    limit = store.max_items_per_commit
    unread = store.scratch
    compiled = _compiled_rows(groups, settings, arrival, limit, blocked, unread)
    for index, group in enumerate(groups):
        planned = None if compiled is None else compiled[index]
        if compiled is None or planned is Declined.DECLINED:  # the Python path (its oracle)
            planned = _rows(group, settings, arrival, limit, blocked, unread)
        if planned is None:
            left.append(group)
            continue
        survivor, items, hits = planned
        taken.append(items)
        founds.append((survivor, group, hits))
    failed = store.insert_new_items(taken) if taken else set()
    for index, (survivor, group, hits) in enumerate(founds):
        if index in failed:
            lost.extend(group)
            continue
        total.written += len(group)
        total.new_customers += 1
        total.customers.add(survivor)
        total.guardrail_hits.extend(hits)
        stored.update(r.key for r in group)
    return left


def _compiled_rows(
    groups: list[list[SourceRecord]],
    settings: IngestSettings,
    arrival: _Arrival,
    limit: int,
    blocked: dict[str, bool],
    scratch: bool,
) -> list[FreshRowsFound | Declined | None] | None:
    """``_rows`` of each group by one compiled call a batch (core.ingest_native's ``fresh_rows``,
    native/src/batch.rs): per group its rows, None (the planner's), or ``DECLINED`` (the Python
    path writes it); None when the extension has no such call or is off."""
    native = ingest_native.ROWS
    if native is None:
        return None
    sizes = (
        ITEM_MAX_BYTES,
        _ITEM_OVERHEAD,
        _PK_MAX_BYTES,
        _SK_MAX_BYTES,
        profile_packing.PACK_THRESHOLD_BYTES,
    )
    python = (_past_limit, _owned_json)
    batch = native.fresh_rows(
        blocked, settings.policy, settings.rules, arrival, sizes, limit, scratch, python
    )
    return None if batch is None else native.batch_groups(batch, groups)


class _Arrival:
    """What every ``source_arrived`` event of one call shares: its time and actor, as JSON and as
    the start of its sort key and of its id's text (core.governance.history)."""

    __slots__ = ("actor", "id_time", "sort_prefix", "time")

    def __init__(self, at: datetime, actor: str) -> None:
        stamp = history_sort_key(at, "")  # "<time>#"
        self.time = _time_json(at)
        self.actor = _string_json(actor)
        self.sort_prefix = "HISTORY#" + stamp
        self.id_time = stamp + "x"  # event_id_for's text holds history_sort_key(at, "x")

    def event_chars(self, customer_json: str) -> int:
        """The characters of an event of this customer and of its sort key, but its reason's and
        record key's JSON: what ``_rows`` counts against the limits, whether it writes the event
        or not (a scratch store)."""
        fixed = _EVENT_CHARS + len(customer_json) + len(self.time) + len(self.actor)
        return fixed + 2 * _EVENT_ID_CHARS + len(self.sort_prefix)

    def event_id(self, customer_id: str, record_key: str, record_hash: str) -> str:
        """``event_id_for(customer_id, "source_arrived", at, record_key, record_hash)``."""
        text = f"{customer_id}\x1fsource_arrived\x1f{self.id_time}\x1f{record_key}\x1f{record_hash}"
        return "sourc-" + blake2b(text.encode(), digest_size=10).hexdigest()


def _rows(
    group: list[SourceRecord],
    settings: IngestSettings,
    arrival: _Arrival,
    limit: int,
    blocked: dict[str, bool],
    scratch: bool = False,
) -> tuple[str, NewItems, list[GuardrailHit]] | None:
    """The survivor and the items ``_changeset`` of this group as one new customer would write, by
    kind, with the group's guardrail hits; None when the general planner must decide (see the
    module's docstring). ``scratch``: the events and markers are counted in the limits as before
    but not built (a scratch store writes none)."""
    native = ingest_native.ROWS  # the compiled path (optional), or None
    policy = settings.policy
    limits = policy.max_records_per_identifier  # IdentityPolicy.limit_for, but for source keys
    if len(group) > 1:
        group.sort(key=_key)
    found: IdentifierLoop | Declined | None = Declined.DECLINED
    if native is not None:  # the compiled loop (core.ingest_native), the same values or DECLINED
        found = native.identifier_loop(group, blocked, policy.is_blocked, limits, _past_limit)
    if found is Declined.DECLINED:
        found = _identifier_loop(group, blocked, policy.is_blocked, limits)
    if found is None:
        return None  # the guardrails would refuse a key: components are the planner's
    hits, desired, markers, longest, longest_ident = found
    if 4 * (7 + longest) > _SK_MAX_BYTES or 4 * (6 + longest_ident) > _PK_MAX_BYTES:
        return None  # a key that may be longer than DynamoDB takes: sized exactly by the planner
    survivor = customer_id_for(group[0].key) if native is None else native.customer_id(group[0].key)
    if 2 * len(group) + len(desired) + len(markers) + 1 > limit:
        return None  # more than one transaction: the planner takes the group in rounds

    pk = "CUSTOMER#" + survivor
    cid_json = _string_json(survivor)
    fixed = arrival.event_chars(cid_json)
    built = None
    if native is not None:  # the compiled loop (core.ingest_native), the same rows or None
        built = native.source_event_rows(group, survivor, cid_json, arrival, fixed, scratch)
    if built is None:
        built = _source_event_rows(group, survivor, cid_json, arrival, fixed, scratch)
    sources, events, by_key, chars = built
    keyed = None
    if native is not None:
        keyed = native.ident_holder_rows(desired, markers, by_key, survivor, scratch)
    if keyed is None:
        keyed = _ident_holder_rows(desired, markers, by_key, survivor, scratch)
    idents, held, counted = keyed
    chars += counted
    profiled = None if native is None else native.new_profile(survivor, group, settings.rules)
    document, item_hash = new_profile(survivor, group, settings.rules) if profiled is None else profiled
    owned = _owned_json(desired)
    add_only = add_only_mark(settings.rules, group)  # as core.ingest_changeset writes it
    if add_only is not None:  # json.dumps({"owned": ..., "add_only": ...}), as the planner's row
        owned = f'{owned[:-1]}, "add_only": {json.dumps(add_only)}}}'
    rows = 2 * len(sources) + len(idents) + len(markers) + 1  # events, and the profile
    chars += len(document) + len(owned) + rows * (2 * len(survivor) + 16)  # keys' prefixes, ids
    if 4 * chars + _ITEM_OVERHEAD * rows > ITEM_MAX_BYTES:
        return None  # an item (or the transaction) may be too large: sized exactly by the planner
    if len(document) + len(owned) > profile_packing.PACK_THRESHOLD_BYTES:
        return None  # the profile item is packed (core.storage.profile_packing): the planner writes it
    return survivor, (idents, [(pk, item_hash, document, owned)], sources, events, held), hits


def _identifier_loop(
    group: list[SourceRecord],
    blocked: dict[str, bool],
    is_blocked: Callable[[Identifier], bool],
    limits: Mapping[str, int],
) -> IdentifierLoop | None:
    """The group's guardrail hits, the keys its customer takes (sorted), their mailbox markers,
    and the longest record key and IDENT key (code points); None when the guardrails would refuse
    a key (a limited key held by more people than its limit). ``blocked``: the batch's answers of
    ``is_blocked`` by key, filled in here. The Python path, and the oracle of core.ingest_native's
    compiled one."""
    hits: list[GuardrailHit] = []
    usable: dict[str, None] = {}  # the keys the customer takes, in order of first sight
    holders: dict[str, int] = {}  # per limited key, the records that may hold it (at least its holders)
    longest = 0
    for record in group:
        record_key = record.key
        longest = max(longest, len(record_key))
        for ident in record.identifiers:
            key = ident.key
            kind = ident.kind
            if kind == "source":
                usable[key] = None
                continue
            refused = blocked.get(key)
            if refused is None:
                refused = blocked[key] = is_blocked(ident)
            if refused:
                hits.append(GuardrailHit(record_key, key, _BLOCKED))
                continue
            usable[key] = None
            # (a guest child may hold it too, and so may a child of its own person, a converted
            # lead: a child with an owner has an email or a phone only then, core.identity_holders)
            if kind in limits:
                holders[key] = holders.get(key, 0) + 1
    for key, count in holders.items():
        if count > limits[key.partition("#")[0]] and _past_limit(group, key, limits):
            return None
    desired = sorted(usable)
    markers: dict[str, None] = {}
    for key in desired:
        if key.startswith("email#"):
            markers.update(dict.fromkeys(marker_keys(key)))  # mailbox, folded spelling
    longest_ident = max(map(len, [*desired, *markers]), default=0)
    return hits, desired, list(markers), longest, longest_ident


def _ident_holder_rows(
    desired: list[str], markers: list[str], by_key: Mapping[str, SourceRecord], survivor: str, scratch: bool
) -> IdentHolderRows:
    """The IDENT rows of the ``desired`` keys (the group's own ``source#`` keys with their record's
    hash and run), the HOLDER rows of the mailbox ``markers`` (none for a scratch store), and the
    characters they count against the limits: the Python path, and the oracle of
    core.ingest_native's compiled one."""
    chars = 0
    idents: list[IdentRow] = []
    for key in desired:
        snap = by_key.get(key[7:]) if key.startswith("source#") else None
        if snap is None:  # not a source key, or a child's link to an owner not in the group
            idents.append(("IDENT#" + key, None, survivor, None, None))
            chars += len(key)
        else:
            h = record_hash(snap)
            last, kept = written_item(snap, None)  # the newest of the versions it stands for, the run
            moment = last.isoformat()
            idents.append(("IDENT#" + key, h, survivor, moment, kept))
            chars += len(key) + len(h) + len(moment) + len(kept)
    held: list[MarkerRow] = []
    for mailbox in markers:
        if not scratch:
            held.append(("IDENT#" + mailbox, "HOLDER#" + survivor, survivor))
        chars += len(mailbox)
    return idents, held, chars


def _source_event_rows(
    group: list[SourceRecord], survivor: str, cid_json: str, arrival: _Arrival, fixed: int, scratch: bool
) -> SourceEventRows:
    """The group's SOURCE rows and ``source_arrived`` events (none for a scratch store), its records
    by key, and the characters they count against the limits: the Python path, and the oracle of
    core.ingest_native's compiled one."""
    pk = "CUSTOMER#" + survivor
    at_json = arrival.time
    actor = arrival.actor
    event_id = arrival.event_id
    sort_prefix = arrival.sort_prefix
    sources: list[SourceRow] = []
    events: list[EventRow] = []
    chars = 0
    by_key: dict[str, SourceRecord] = {}
    for record in group:
        record_key = record.key
        by_key[record_key] = record
        h = record_hash(record)
        snapshot = record_json(record)  # worked out in the normalising worker, if there is one
        sources.append((pk, "SOURCE#" + record_key, h, snapshot))
        reason = "" if quotes_identifier(_ARRIVED, (record_key,)) else _ARRIVED
        key_json = _string_json(record_key)
        chars += fixed + len(reason) + len(key_json)  # the event and its sort key
        if not scratch:
            eid = event_id(survivor, record_key, h)
            event = _event_json(cid_json, eid, at_json, actor, reason, key_json)
            events.append((pk, sort_prefix + eid, event))
        chars += len(record_key) + len(h) + len(snapshot)
    return sources, events, by_key, chars


def _past_limit(group: list[SourceRecord], key: str, limits: Mapping[str, int]) -> bool:
    """Whether more holders (``limit_holder``: people, not records) than its kind's limit hold
    ``key`` in the group, as ``group_records`` counts them. Asked only when more records than the
    limit might hold it (the holders are never more than those records)."""
    holders: set[str] = set()
    for record in group:
        if any(ident.key == key for ident in record.identifiers):
            holder = limit_holder(record)
            if holder is not None:
                holders.add(holder)
    return len(holders) > limits[key.partition("#")[0]]


def _event_json(cid_json: str, eid: str, at_json: str, actor: str, reason: str, key_json: str) -> str:
    """A ``source_arrived`` event's JSON as ``HistoryEvent.model_dump_json`` writes it (the ids,
    time, actor and key given as JSON, but ``eid`` and ``reason``, which need no escaping)."""
    return (
        f'{{"customer_id":{cid_json},"event_id":"{eid}","at":{at_json},'
        f'"kind":"source_arrived","actor":{actor},"reason":"{reason}",'
        f'"source_keys":[{key_json}],"customers":[],"identifiers":[],'
        f'"handed_over":[],"inherited_from":null}}'
    )


#: The characters of a ``source_arrived`` event's JSON beyond its id, customer id, time, actor,
#: reason and record key: its format's, every field empty.
_EVENT_CHARS: Final = len(_event_json("", "", "", "", "", ""))


def _key(record: SourceRecord) -> str:
    return record.key


_TIME: Final = TypeAdapter(datetime)
_TEXT: Final = TypeAdapter(str)


@lru_cache(maxsize=64)
def _time_json(at: datetime) -> str:
    """``at`` as pydantic writes it in an event's JSON (``"2026-01-05T10:00:00.5Z"``)."""
    return _TIME.dump_json(at).decode()


def _string_json(text: str) -> str:
    """``text`` as a JSON string, as pydantic writes it: as it is between quotes when it holds
    nothing to escape (printable ASCII without quotes or backslashes), else pydantic's own."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return _TEXT.dump_json(text).decode()


def _owned_json(keys: list[str]) -> str:
    """``json.dumps({"owned": keys})``, the profile item's ``attrs`` (core.storage.sqlite), without
    the encoder for the common keys (printable ASCII without quotes or backslashes)."""
    text = "".join(keys)  # one check of all of them: each key passes exactly when their text does
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '{"owned": ["' + '", "'.join(keys) + '"]}' if keys else '{"owned": []}'
    return json.dumps({"owned": keys})
