"""The in-memory store's ``ReadsCustomerParts`` (core.ports): a customer's profile item alone, and
the snapshots of a few of its records (core.ingest_grow's reads)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from core.ports import CustomerState
from core.schema import SourceRecord

if TYPE_CHECKING:
    from core.storage.memory import _Customer


class InMemoryCustomerParts:
    """Mixed into ``InMemoryProfileStore``, whose lock and customers it reads."""

    _lock: threading.Lock
    _customers: Mapping[str, _Customer]

    def get_customer_head(self, customer_id: str) -> CustomerState | None:
        with self._lock:
            c = self._customers.get(customer_id)
            if c is None or not c.exists:
                return None
            return CustomerState(
                customer_id=customer_id,
                version=c.version,
                profile=c.profile,
                profile_hash=c.profile_hash,
                owned=c.owned,
                snapshots={},
                merged_into=c.merged_into,
                merging_into=c.merging_into,
                absorbing=c.absorbing,
                add_only=c.add_only,
            )

    def customers_with_refused_values(self) -> list[str]:
        """The customers holding a record with values normalisation refused (``dropped``): her erasure
        reads only these for records naming her in a refused value (core.privacy_refused)."""
        with self._lock:
            return [cid for cid, c in self._customers.items() if any(r.dropped for r in c.snapshots.values())]

    def get_snapshots(self, customer_id: str, keys: Sequence[str]) -> dict[str, SourceRecord]:
        with self._lock:
            c = self._customers.get(customer_id)
            if c is None:
                return {}
            return {k: c.snapshots[k] for k in keys if k in c.snapshots}


__all__ = ["InMemoryCustomerParts"]
