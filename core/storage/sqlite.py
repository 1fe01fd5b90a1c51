"""The SQLite ``ProfileStore``: the embedded default of ``profilesync resolve`` and ``sync``.

It keeps the DynamoDB store's items (see core.storage.sqlite_database for the table) and the port's
exact semantics: ``commit`` (core.storage.sqlite_commit) applies each changeset all-or-nothing under
the conditions its operations carry (a profile write at the version read, an identifier write at
the owner read) and hands back the changesets that lost, in one SQLite transaction per call.
``max_items_per_commit`` stays DynamoDB's 100, and a customer who outgrows one DynamoDB item is
quarantined here as there.

Reads go in batches (``pk IN (...)``), never one query per key, and each read runs in one read
transaction, so it never sees half of another process's commit.

A *scratch* store (``scratch=True``: ``profilesync resolve``'s own file, deleted after its run)
leaves out the items nothing in that run reads: history events (``HISTORY#``), their name index
(``NAMED#``) and mailbox holder markers (``HOLDER#``), which only ``profilesync history``, the
privacy commands and the profile API read, on a store that outlives the run. Everything else is as
in any store: every condition is checked and every item sized as before (a changeset too large
with its events is refused as before), only those items are not written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from core.ports import RETIRED_OWNER, CustomerState, Ownership, ProfileItem
from core.schema import Profile, SourceRecord
from core.storage.parts_state import LazyProfileState
from core.storage.profile_packing import read_document
from core.storage.sqlite_commit import _CUSTOMER, _IDENT, SQLiteCommit
from core.storage.sqlite_commit import ITEM_MAX_BYTES as ITEM_MAX_BYTES
from core.storage.sqlite_commit import PARTITION_KEY_MAX_BYTES as PARTITION_KEY_MAX_BYTES
from core.storage.sqlite_commit import SORT_KEY_MAX_BYTES as SORT_KEY_MAX_BYTES
from core.storage.sqlite_commit import _item_bytes as _item_bytes
from core.storage.sqlite_database import IN_MEMORY, SQLiteDatabase, select_in
from core.storage.sqlite_links import SQLiteLinkIndex
from core.storage.sqlite_new_items import SQLiteNewItems
from core.storage.sqlite_parts import SQLiteCustomerParts

if TYPE_CHECKING:
    from core.storage.sqlite_history import SQLiteHistoryStore

#: The same limit as one DynamoDB transaction, so behaviour (how plans are cut) matches.
TRANSACTION_MAX_ITEMS: Final = 100
PROFILES_PER_PAGE: Final = 500
T = TypeVar("T")


def database_epoch_key(database: SQLiteDatabase) -> str:
    """Which store a database's erasure epoch is (core.erasure_epoch.ErasureEpochs.epoch_key): its
    file, or the in-memory database object."""
    path = database.path
    return f"sqlite:{id(database)}" if path == IN_MEMORY else f"sqlite:{os.path.realpath(path)}"


class SQLiteProfileStore(SQLiteCommit, SQLiteLinkIndex, SQLiteNewItems, SQLiteCustomerParts):
    """``ProfileStore`` (its ``commit``: core.storage.sqlite_commit), ``ReadsProfiles``, ``LinkIndex``
    (core.storage.sqlite_links) and ``WritesNewItems`` (core.storage.sqlite_new_items) over a
    ``SQLiteDatabase``; thread-safe."""

    def __init__(
        self,
        database: SQLiteDatabase,
        *,
        max_items_per_commit: int = TRANSACTION_MAX_ITEMS,
        scratch: bool = False,
    ) -> None:
        self.database = database
        self.max_items_per_commit = max_items_per_commit
        self.scratch = scratch
        """Leave out the items nothing in a ``resolve`` run reads (see the module's docstring)."""

    @property
    def erasure_epoch_key(self) -> str:
        """The epoch ``NoErasureSince`` reads, in the commit's transaction (core.ports.ChecksErasureEpoch):
        the suppression store over the same database bumps it with its entries."""
        return database_epoch_key(self.database)

    # -- reads ---------------------------------------------------------------------------------

    def get_owners(self, keys: Sequence[str]) -> dict[str, Ownership]:
        found = self.get_owners_and_tombstones(keys)
        return {k: o for k, o in found.items() if o.customer_id != RETIRED_OWNER}

    def get_owners_and_tombstones(self, keys: Sequence[str]) -> dict[str, Ownership]:
        out: dict[str, Ownership] = {}
        unique = list(dict.fromkeys(keys))
        if not unique:
            return out
        with self.database.reading() as conn:
            rows = select_in(
                conn,
                "SELECT pk, owner, hash, updated_at, data, attrs FROM items WHERE sk = 'IDENT' "
                "AND pk IN ({keys})",
                [_IDENT + k for k in unique],
            )
            for pk, owner, record_hash, updated_at, match, run in rows:
                key = pk[6:]  # len("IDENT#")
                at = datetime.fromisoformat(updated_at) if updated_at else None
                out[key] = Ownership(key, owner, record_hash, at, match, run)
        return out

    def get_customers(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        unique = list(dict.fromkeys(customer_ids))
        if not unique:
            return {}
        profiles: dict[str, tuple[int, str | None, str | None, str | None]] = {}
        snapshots: dict[str, dict[str, SourceRecord]] = {}
        with self.database.reading() as conn:
            rows = select_in(
                conn,
                "SELECT pk, sk, version, hash, data, attrs FROM items WHERE pk IN ({keys}) "
                "AND (sk = 'PROFILE' OR (sk >= 'SOURCE#' AND sk < 'SOURCE$'))",
                [_CUSTOMER + c for c in unique],
            )
            for pk, sk, version, item_hash, data, attrs in rows:
                cid = pk[9:]  # len("CUSTOMER#")
                if sk == "PROFILE":
                    profiles[cid] = (version or 0, item_hash, data, attrs)
                else:
                    record = SourceRecord.model_validate_json(data)
                    snapshots.setdefault(cid, {})[record.key] = record
        out: dict[str, CustomerState] = {}
        for cid in unique:
            profile_row = profiles.get(cid)
            if profile_row is None and cid not in snapshots:
                continue
            version, item_hash, data, attrs = profile_row or (0, None, None, None)
            extra: dict[str, Any] = json.loads(attrs) if attrs else {}
            packed_owned = None
            if data is not None and not isinstance(data, str):  # packed past its threshold
                data, packed_owned = read_document(data)
            out[cid] = LazyProfileState.read(
                data,
                customer_id=cid,
                version=version,
                profile_hash=item_hash,
                owned=packed_owned if packed_owned is not None else frozenset(extra.get("owned", ())),
                snapshots=snapshots.get(cid, {}),
                merged_into=extra.get("merged_into"),
                merging_into=extra.get("merging_into"),
                absorbing=frozenset(extra.get("absorbing", ())),
                add_only=extra.get("add_only"),
            )
        return out

    def get_profiles(self, customer_ids: Sequence[str]) -> dict[str, ProfileItem]:
        """Profile items only (the push path needs no source snapshots)."""
        out: dict[str, ProfileItem] = {}
        unique = list(dict.fromkeys(customer_ids))
        if not unique:
            return out
        with self.database.reading() as conn:
            rows = select_in(
                conn,
                "SELECT pk, data, attrs FROM items WHERE sk = 'PROFILE' AND pk IN ({keys})",
                [_CUSTOMER + c for c in unique],
            )
            for pk, data, attrs in rows:
                extra = json.loads(attrs) if attrs else {}
                profile = Profile.model_validate_json(read_document(data)[0]) if data else None
                out[pk[9:]] = ProfileItem(pk[9:], profile, extra.get("merged_into"))
        return out

    def iter_profiles(self) -> Iterator[Profile]:
        """Every live profile in customer id order, read a page at a time (memory stays bounded)."""
        for profiles, _ in self.profile_pages():
            yield from profiles

    def profile_documents(self) -> Iterator[dict[str, Any]]:
        """Every live profile as its JSON document (what ``Profile.model_dump_json`` wrote), in
        customer id order: for writers of JSON output, which need no model (``resolve --out``)."""
        for page, _ in self._pages(json.loads, None, PROFILES_PER_PAGE):
            yield from page

    def profile_pages(
        self, start: str | None = None, *, items_per_page: int = PROFILES_PER_PAGE
    ) -> Iterator[tuple[list[Profile], str | None]]:
        """Every live profile (a PROFILE item with data: not merged away, not erased) in customer
        id order, a page at a time, each with the customer id to resume after (``None`` at the end).
        Each page is its own read: writes between pages are seen by the pages after them."""
        return self._pages(Profile.model_validate_json, start, items_per_page)

    def _pages(
        self, parse: Callable[[str], T], start: str | None, items_per_page: int
    ) -> Iterator[tuple[list[T], str | None]]:
        after = _CUSTOMER + start if start is not None else ""
        while True:
            with self.database.reading() as conn:
                rows = conn.execute(
                    "SELECT pk, data FROM items WHERE pk > ? AND sk = 'PROFILE' AND data IS NOT NULL "
                    "ORDER BY pk LIMIT ?",
                    (after, items_per_page),
                ).fetchall()
            last = rows[-1][0][9:] if len(rows) == items_per_page else None
            yield [parse(data if isinstance(data, str) else read_document(data)[0]) for _, data in rows], last
            if last is None:
                return
            after = _CUSTOMER + last

    def frozen_customers(self) -> list[tuple[str, str]]:
        """The customers with a ``merging_into`` mark (core.ports.ListsFrozen): one pass over the
        table's rows in SQLite, which hands back only the PROFILE rows whose ``attrs`` JSON names the
        mark (a few bytes each: no profile is read or parsed)."""
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT pk, attrs FROM items WHERE sk = 'PROFILE' AND instr(attrs, '\"merging_into\"') > 0"
            ).fetchall()
        marks = ((pk[9:], json.loads(attrs).get("merging_into")) for pk, attrs in rows)
        return sorted((cid, into) for cid, into in marks if into)

    def ident_owners(self) -> dict[str, str]:
        """Every identifier key and its owner (a full scan: for checks and tools, not the hot path)."""
        with self.database.reading() as conn:
            rows = conn.execute("SELECT pk, owner FROM items WHERE sk = 'IDENT'").fetchall()
        return {pk[6:]: owner for pk, owner in rows if owner != RETIRED_OWNER}

    def ident_items(self) -> dict[str, Ownership]:
        """Every identifier ownership, with record hashes and watermarks (for tests and tools)."""
        with self.database.reading() as conn:
            rows = conn.execute("SELECT pk, owner, hash, updated_at FROM items WHERE sk = 'IDENT'").fetchall()
        return {
            pk[6:]: Ownership(pk[6:], owner, h, datetime.fromisoformat(at) if at else None)
            for pk, owner, h, at in rows
            if owner != RETIRED_OWNER
        }

    @property
    def history(self) -> SQLiteHistoryStore:
        """The customers' histories, in this store's items (``PutHistory`` writes them)."""
        from core.storage.sqlite_history import SQLiteHistoryStore

        return SQLiteHistoryStore(self.database)

    def inherit_history(self, absorbed: str, survivor: str) -> int:
        """Copy ``absorbed``'s history to ``survivor`` (core.governance.history.HistoryStore); a
        scratch store keeps no history, so it copies nothing."""
        if self.scratch:
            return 0
        return self.history.inherit_history(absorbed, survivor)


__all__ = ["TRANSACTION_MAX_ITEMS", "SQLiteProfileStore"]
