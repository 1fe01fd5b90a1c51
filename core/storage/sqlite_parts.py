"""The SQLite store's ``ReadsCustomerParts`` (core.ports): a customer's profile item alone, and the
snapshots of a few of its records (core.ingest_grow's reads), each one indexed lookup."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from core.ports import CustomerState
from core.record_json import REFUSED_NEEDLE
from core.schema import SourceRecord
from core.storage.parts_state import LazyProfileState
from core.storage.profile_packing import read_document
from core.storage.sqlite_database import SQLiteDatabase, select_in

_CUSTOMER = "CUSTOMER#"


class SQLiteCustomerParts:
    """Mixed into ``SQLiteProfileStore`` (which sets ``database``)."""

    database: SQLiteDatabase

    def get_customer_head(self, customer_id: str) -> CustomerState | None:
        with self.database.reading() as conn:
            row = conn.execute(
                "SELECT version, hash, data, attrs FROM items WHERE pk = ? AND sk = 'PROFILE'",
                (_CUSTOMER + customer_id,),
            ).fetchone()
        if row is None:
            return None
        version, item_hash, data, attrs = row
        extra: dict[str, Any] = json.loads(attrs) if attrs else {}
        packed_owned = None
        if data is not None and not isinstance(data, str):  # packed past its threshold
            data, packed_owned = read_document(data)
        return LazyProfileState.read(
            data or None,
            customer_id=customer_id,
            version=version or 0,
            profile_hash=item_hash,
            owned=packed_owned if packed_owned is not None else frozenset(extra.get("owned", ())),
            snapshots={},
            merged_into=extra.get("merged_into"),
            merging_into=extra.get("merging_into"),
            absorbing=frozenset(extra.get("absorbing", ())),
            add_only=extra.get("add_only"),
        )

    def customers_with_refused_values(self) -> list[str]:
        """The customers holding a record with values normalisation refused (``dropped``): her erasure
        reads only these for records naming her in a refused value (core.privacy_refused). A record's
        JSON holds ``REFUSED_NEEDLE`` only then (a quote inside a value is escaped, so a match that is
        not the record's own list only costs a read): one pass over the table in SQLite's C."""
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT pk FROM items"
                " WHERE sk >= 'SOURCE#' AND sk < 'SOURCE$' AND instr(data, ?) > 0",
                (REFUSED_NEEDLE,),
            ).fetchall()
        return [pk[len(_CUSTOMER) :] for (pk,) in rows if pk.startswith(_CUSTOMER)]

    def get_snapshots(self, customer_id: str, keys: Sequence[str]) -> dict[str, SourceRecord]:
        out: dict[str, SourceRecord] = {}
        if not keys:
            return out
        with self.database.reading() as conn:
            rows = select_in(
                conn,
                "SELECT data FROM items WHERE pk = ? AND sk IN ({keys})",
                ["SOURCE#" + k for k in dict.fromkeys(keys)],
                _CUSTOMER + customer_id,
            )
            for (data,) in rows:
                record = SourceRecord.model_validate_json(data)
                out[record.key] = record
        return out


__all__ = ["SQLiteCustomerParts"]
