"""The SQLite store's ``commit``: each changeset all or nothing under its operations' conditions.

Mixed into ``SQLiteProfileStore`` (core.storage.sqlite, which sets ``database`` and
``max_items_per_commit``). One ``commit`` call is one SQLite transaction: the conditions of every
changeset are checked against one read of the items they name (``_Conditions``), made after the
write lock was taken, and kept up to date as the changesets before it apply; a changeset whose
conditions fail writes nothing and the next ones go on. Every item written is held to DynamoDB's
item and key sizes, and a changeset to one transaction's 4 MB (``RecordRejectedError``, and the
commit writes nothing), so a plan that fits here fits a ``TransactWriteItems`` too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from core.erasure_epoch import epoch_text
from core.errors import RecordRejectedError
from core.governance.history_names import NAMED_PREFIX, index_pairs
from core.merge import profile_json
from core.ports import (
    Changeset,
    DeleteHolder,
    DeleteIdent,
    DeleteSource,
    MarkAbsorbing,
    MarkMerging,
    NoErasureSince,
    Operation,
    PutHistory,
    PutHolder,
    PutIdent,
    PutProfile,
    PutSource,
    Tombstone,
    TouchSource,
    Unsuppressed,
)
from core.record_json import record_json
from core.storage import profile_packing
from core.storage.dynamodb_transactions import TRANSACTION_BUDGET_BYTES, too_large
from core.storage.item_bytes import row_bytes, utf8_len
from core.storage.sqlite_database import SQLiteDatabase, select_in
from core.storage.sqlite_new_items import PUT_ITEM

#: DynamoDB's limits on one item and its keys (UTF-8 bytes), held here too: a customer whose item
#: outgrows them is refused the same way on every store. The item's is read from
#: core.storage.profile_packing at each use (a test lowers it there); this name stays for importers.
ITEM_MAX_BYTES: Final = profile_packing.ITEM_MAX_BYTES
PARTITION_KEY_MAX_BYTES: Final = 2048
SORT_KEY_MAX_BYTES: Final = 1024

_DELETE = "DELETE FROM items WHERE pk = ? AND sk = ?"
_SET_VERSION_ATTRS = "UPDATE items SET version = ?, attrs = ? WHERE pk = ? AND sk = 'PROFILE'"
#: A touch: the watermark, and the content run when it gives one (core.content_run).
_SET_UPDATED_AT = "UPDATE items SET updated_at = ?, attrs = COALESCE(?, attrs) WHERE pk = ? AND sk = 'IDENT'"
_CUSTOMER = "CUSTOMER#"
_IDENT = "IDENT#"

# What the conditions of a commit are checked against: the identifier items (owner, record hash,
# updated_at) and the profile items (version, attrs) a commit names, read once, then kept current.
_IdentRow = tuple[str, str | None, str | None, str | None]  # owner, hash, updated_at, run (attrs)
_ProfileRow = tuple[int, str | None]  # version, attrs (JSON)
#: An item as written: pk, sk, version, hash, owner, updated_at, data, attrs.
#: ``data`` is bytes in a PROFILE item packed past its threshold (core.storage.profile_packing).
_Row = tuple[str, str, int | None, str | None, str | None, str | None, str | bytes | None, str | None]


class SQLiteCommit:
    """``commit`` (core.ports.ProfileStore) for ``SQLiteProfileStore``."""

    database: SQLiteDatabase
    max_items_per_commit: int
    scratch: bool

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        todo = [c for c in changesets if c.operations]
        for changeset in todo:
            if len(changeset) > self.max_items_per_commit:
                raise ValueError(
                    f"changeset {changeset.label!r} has {len(changeset)} operations, more than one "
                    f"transaction holds ({self.max_items_per_commit}); split it before committing"
                )
        if not todo:
            return []
        failed: list[Changeset] = []
        with self.database.writing() as conn:
            state = _Conditions.read(conn, todo, scratch=self.scratch)
            for changeset in todo:
                if all(state.holds(op) for op in changeset.operations):
                    size = 0
                    for op in changeset.operations:
                        row = state.apply(op)
                        if row is not None:
                            size += _item_bytes(changeset, row)
                    if size > TRANSACTION_BUDGET_BYTES:
                        # Raising inside the transaction rolls it back: this commit writes nothing.
                        raise too_large(changeset, size)
                else:
                    failed.append(changeset)
            state.write(conn)
        return failed


def _item_bytes(changeset: Changeset, row: _Row) -> int:
    """The size of an item as DynamoDB counts it (core.storage.item_bytes: its attributes' names and
    values under the DynamoDB layout; a PROFILE item's ``owned`` and other sets by their JSON, a few
    bytes more, unless that passes the limit), or ``RecordRejectedError`` if DynamoDB would refuse
    it."""
    pk, sk = row[0], row[1]
    # A character is at most 4 bytes: a key that short cannot be too long (most are).
    if (len(pk) * 4 > PARTITION_KEY_MAX_BYTES and _utf8_len(pk) > PARTITION_KEY_MAX_BYTES) or (
        len(sk) * 4 > SORT_KEY_MAX_BYTES and _utf8_len(sk) > SORT_KEY_MAX_BYTES
    ):
        raise RecordRejectedError(
            f"changeset {changeset.label!r} writes an item whose key is longer than DynamoDB takes "
            f"({PARTITION_KEY_MAX_BYTES:,} and {SORT_KEY_MAX_BYTES:,} bytes): {pk[:60]!r} / {sk[:60]!r}"
        )
    limit = profile_packing.ITEM_MAX_BYTES
    size = row_bytes(row, bound=True)  # exact but for a PROFILE row's attrs (JSON, a little more)
    if size > limit:
        size = row_bytes(row)
    if size > limit:
        raise RecordRejectedError(
            f"changeset {changeset.label!r} writes {pk} / {sk} of about {size // 1024:,} KB, over the "
            f"{limit // 1024:,} KB one item holds; the customer's records are too large to "
            "store together"
        )
    return size


#: The operations that put a whole item (``row_of``).
ItemPut = PutSource | PutIdent | PutHolder | PutHistory | PutProfile | Tombstone


def row_of(op: ItemPut) -> _Row:
    """The item ``op`` puts, as this store writes it (pk, sk, version, hash, owner, updated_at, data,
    attrs). The in-memory store sizes its commits by the same rows (core.storage.memory_sizes)."""
    match op:
        case PutSource():
            pk, sk = _CUSTOMER + op.customer_id, "SOURCE#" + op.record.key
            return (pk, sk, None, op.record_hash, None, None, record_json(op.record), None)
        case PutIdent():
            at = op.updated_at.isoformat() if op.updated_at is not None else None
            # A source key's content run (core.content_run) in ``attrs``, unused by an IDENT item before.
            return (_IDENT + op.key, "IDENT", None, op.record_hash, op.customer_id, at, op.match, op.run)
        case PutHolder():
            return (_IDENT + op.key, "HOLDER#" + op.customer_id, None, None, op.customer_id, None, None, None)
        case PutHistory():
            pk, sk = _CUSTOMER + op.event.customer_id, "HISTORY#" + op.event.sort_key
            return (pk, sk, None, None, None, None, op.event.model_dump_json(), None)
        case PutProfile():
            document, owned = profile_json(op.profile), sorted(op.owned)
            # Past its threshold the profile and its keys are one packed BLOB (core.storage.profile_packing).
            packed = profile_packing.pack_profile(document, owned)
            extra: dict[str, Any] = {"owned": owned} if packed is None else {}
            if op.absorbing:
                extra["absorbing"] = sorted(op.absorbing)
            if op.add_only is not None:
                extra["add_only"] = op.add_only
            data: str | bytes = document if packed is None else packed
            attrs, version = json.dumps(extra), op.profile.version
            return (_CUSTOMER + op.customer_id, "PROFILE", version, op.profile_hash, None, None, data, attrs)
        case Tombstone():
            # A Put, as in DynamoDB: the tombstone holds its version and merged_into only.
            attrs, version = json.dumps({"merged_into": op.merged_into}), op.expected_version + 1
            return (_CUSTOMER + op.customer_id, "PROFILE", version, None, None, None, None, attrs)


def is_unread(pk: str, sk: str) -> bool:
    """Whether an item is one a scratch store leaves out: a history event (``HISTORY#``), its name
    index (``NAMED#``), a holder marker (``HOLDER#``)."""
    return sk.startswith(("HISTORY#", "HOLDER#")) or pk.startswith(NAMED_PREFIX)


_utf8_len = utf8_len  # the name core.storage.memory_sizes imports


class _Conditions:
    """The items a commit's conditions name, as they stand inside the commit's transaction, and the
    writes the commit makes.

    The conditions are checked against one read of the items (made after the write lock was taken)
    that every applied operation updates, so a changeset sees the ones applied before it. The
    writes are gathered per item, the last one winning as it would in order, and sent at the end
    with one ``executemany`` per kind of statement: items are distinct, so the order between them
    does not matter, and SQLite steps through a batch of parameters without returning to Python.
    For a scratch store (``scratch``) the items it leaves out (``is_unread``) are sized as any
    other, but never gathered, and an event's name index items are never built.
    """

    def __init__(
        self,
        idents: dict[str, _IdentRow | None],
        profiles: dict[str, _ProfileRow | None],
        suppressed: frozenset[str] = frozenset(),
        *,
        scratch: bool = False,
        epoch: str = "0",
    ) -> None:
        self.idents = idents
        self.profiles = profiles
        self.suppressed = suppressed
        """The hashes of ``Unsuppressed`` conditions that have a ``SUPPRESS#`` row (none are written
        by a commit, so the one read holds for the whole transaction)."""
        self.epoch = epoch
        """The erasure epoch, read in the transaction when a ``NoErasureSince`` asks ("0" else)."""
        self.scratch = scratch
        self.puts: dict[tuple[str, str], _Row | None] = {}  # None: delete the item
        self.profile_updates: dict[str, tuple[int, str]] = {}  # customer -> (version, attrs)
        self.touches: dict[str, tuple[str, str | None]] = {}  # identifier key -> updated_at, run

    @classmethod
    def read(cls, conn: Any, changesets: Sequence[Changeset], *, scratch: bool = False) -> _Conditions:
        ident_keys: set[str] = set()
        customer_ids: set[str] = set()
        guards: set[str] = set()
        epoch_asked = False
        for changeset in changesets:
            for op in changeset.operations:
                if isinstance(op, PutIdent | DeleteIdent | TouchSource):
                    ident_keys.add(op.key)
                elif isinstance(op, PutProfile | MarkAbsorbing | MarkMerging | Tombstone):
                    customer_ids.add(op.customer_id)
                elif isinstance(op, Unsuppressed):
                    guards.add(op.hash)
                elif isinstance(op, NoErasureSince):
                    epoch_asked = True
        idents: dict[str, _IdentRow | None] = dict.fromkeys(ident_keys)
        for pk, owner, record_hash, updated_at, run in select_in(
            conn,
            "SELECT pk, owner, hash, updated_at, attrs FROM items WHERE sk = 'IDENT' AND pk IN ({keys})",
            [_IDENT + k for k in ident_keys],
        ):
            idents[pk[6:]] = (owner, record_hash, updated_at, run)
        profiles: dict[str, _ProfileRow | None] = dict.fromkeys(customer_ids)
        for pk, version, attrs in select_in(
            conn,
            "SELECT pk, version, attrs FROM items WHERE sk = 'PROFILE' AND pk IN ({keys})",
            [_CUSTOMER + c for c in customer_ids],
        ):
            profiles[pk[9:]] = (version or 0, attrs)
        suppressed = frozenset(
            pk[len("SUPPRESS#") :]
            for (pk,) in select_in(
                conn,
                "SELECT pk FROM items WHERE sk = 'SUPPRESS' AND pk IN ({keys})",
                ["SUPPRESS#" + h for h in guards],
            )
        )
        epoch = "0"
        if epoch_asked:  # in the write transaction: an erasure's suppress (and bump) waits for it
            row = conn.execute(
                "SELECT version, owner FROM items WHERE pk = 'SUPPRESS#epoch' AND sk = 'EPOCH'"
            ).fetchone()
            epoch = epoch_text(int(row[0]), row[1]) if row is not None else "0"
        return cls(idents, profiles, suppressed, scratch=scratch, epoch=epoch)

    def holds(self, op: Operation) -> bool:
        """Whether ``op``'s condition holds: DynamoDB's ConditionExpression of the same operation."""
        if isinstance(op, PutSource | DeleteSource | PutHolder | DeleteHolder | PutHistory):
            return True
        if isinstance(op, Unsuppressed):
            return op.hash not in self.suppressed
        if isinstance(op, NoErasureSince):
            return op.epoch == self.epoch
        if isinstance(op, PutIdent):
            ident = self.idents[op.key]
            if op.expected_at is not None and (
                ident is None or ident[2] is None or datetime.fromisoformat(ident[2]) != op.expected_at
            ):
                return False  # a touch moved the time since it was read
            if (
                op.expected_at is not None
                and op.checks_run
                and (ident is None or ident[3] != op.expected_run)
            ):
                return False  # a touch of the run alone since it was read
            return (ident[0] if ident is not None else None) == op.expected_owner
        if isinstance(op, DeleteIdent):
            ident = self.idents[op.key]
            return ident is not None and ident[0] == op.expected_owner
        if isinstance(op, TouchSource):
            ident = self.idents[op.key]
            return (
                ident is not None
                and ident[1] == op.record_hash
                and ident[2] is not None
                and datetime.fromisoformat(ident[2]) == op.previous
                and (not op.checks_run or ident[3] == op.previous_run)
            )
        profile = self.profiles[op.customer_id]
        return (profile[0] if profile is not None else None) == op.expected_version

    def apply(self, op: Operation) -> _Row | None:
        """Record the write of ``op`` (its condition holds) and keep the items read current; the
        whole item it puts, if it puts one (its size is checked against DynamoDB's)."""
        match op:
            case PutSource() | PutHolder():
                # A holder sits next to the key's IDENT item, as in DynamoDB: ``IDENT#<key>`` /
                # ``HOLDER#<cid>`` (sized, not written, by a scratch store).
                row = row_of(op)
                if not (self.scratch and isinstance(op, PutHolder)):
                    self.puts[row[:2]] = row
                return row
            case DeleteSource():
                self.puts[(_CUSTOMER + op.customer_id, "SOURCE#" + op.source_key)] = None
            case DeleteHolder():
                self.puts[(_IDENT + op.key, "HOLDER#" + op.customer_id)] = None
            case PutIdent():
                row = row_of(op)
                self.puts[row[:2]] = row
                self.touches.pop(op.key, None)
                self.idents[op.key] = (op.customer_id, op.record_hash, row[5], op.run)
                return row
            case PutHistory():
                # In the customer's partition, as core.storage.sqlite_history keeps events.
                row = row_of(op)
                if self.scratch:
                    return row  # sized, not written: nor is the index of the names it holds
                self.puts[row[:2]] = row
                # The index of the names it holds (core.governance.history_names).
                for pair in index_pairs([(op.event.customer_id, op.event)]):
                    self.puts[pair] = (*pair, None, None, None, None, None, None)
                return row
            case DeleteIdent():
                self.puts[(_IDENT + op.key, "IDENT")] = None
                self.touches.pop(op.key, None)
                self.idents[op.key] = None
            case Unsuppressed() | NoErasureSince():
                pass  # a condition only
            case TouchSource():
                ident = self.idents[op.key]
                assert ident is not None  # the condition held
                at = op.updated_at.isoformat()
                self.idents[op.key] = (ident[0], ident[1], at, op.run or ident[3])
                put = self.puts.get((_IDENT + op.key, "IDENT"))
                if put is not None:  # written by this commit: the touch goes into that write
                    self.puts[(_IDENT + op.key, "IDENT")] = (*put[:5], at, put[6], op.run or put[7])
                else:
                    self.touches[op.key] = (at, op.run)
            case PutProfile() | Tombstone():
                return self._put_profile(op.customer_id, row_of(op))
            case MarkAbsorbing() | MarkMerging():
                version, attrs = self.profiles[op.customer_id] or (0, None)
                extra = json.loads(attrs) if attrs else {}
                if isinstance(op, MarkAbsorbing):
                    extra["absorbing"] = sorted({*extra.get("absorbing", ()), op.absorbed})
                else:
                    extra["merging_into"] = op.into
                text = json.dumps(extra)
                self.profiles[op.customer_id] = (version + 1, text)
                key = (_CUSTOMER + op.customer_id, "PROFILE")
                put = self.puts.get(key)
                if put is not None:  # written by this commit: the update goes into that write
                    self.puts[key] = (*key, version + 1, *put[3:7], text)
                else:
                    self.profile_updates[op.customer_id] = (version + 1, text)
            case _:
                raise TypeError(f"unknown operation {op!r}")
        return None

    def _put_profile(self, customer_id: str, row: _Row) -> _Row:
        self.puts[row[:2]] = row
        self.profile_updates.pop(customer_id, None)
        assert row[2] is not None  # a profile item has a version
        self.profiles[customer_id] = (row[2], row[7])
        return row

    def write(self, conn: Any) -> None:
        """Send the writes gathered: one statement per kind, each over all its items."""
        puts = [row for row in self.puts.values() if row is not None]
        deletes = [key for key, row in self.puts.items() if row is None]
        if deletes:
            conn.executemany(_DELETE, deletes)
        if puts:
            conn.executemany(PUT_ITEM, puts)
        if self.profile_updates:
            conn.executemany(
                _SET_VERSION_ATTRS,
                [(version, attrs, _CUSTOMER + cid) for cid, (version, attrs) in self.profile_updates.items()],
            )
        if self.touches:
            conn.executemany(
                _SET_UPDATED_AT, [(at, run, _IDENT + key) for key, (at, run) in self.touches.items()]
            )
