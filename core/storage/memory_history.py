"""The in-memory ``HistoryStore``: the fake at that port, with the paging and idempotency of the
DynamoDB one (core.storage.dynamodb_history)."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

from core.governance.history import HistoryEvent, HistoryPage, check_page_size, inherited
from core.governance.history_names import NAMED_PAGE, NamedPage, indexed_names, named_pk


class InMemoryHistoryStore:
    """Events per customer, kept sorted by their sort key (time, then event id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, list[str]] = {}
        self._events: dict[str, dict[str, HistoryEvent]] = {}
        self._named: dict[str, set[str]] = {}
        """The index of the names in the events (core.governance.history_names): customers by
        the ``NAMED#`` key of each name."""

    def append_history(self, events: Sequence[HistoryEvent]) -> None:
        with self._lock:
            for event in events:
                self._put(event.customer_id, event)

    def _put(self, partition: str, event: HistoryEvent) -> None:
        key = event.sort_key
        held = self._events.setdefault(partition, {})
        if key not in held:
            bisect.insort(self._keys.setdefault(partition, []), key)
        held[key] = event  # the same key again is the same event: last write wins, as in DynamoDB
        for name in indexed_names(event):
            self._named.setdefault(named_pk(name), set()).add(partition)

    def list_history(
        self, customer_id: str, *, limit: int = 50, after: str | None = None, newest_first: bool = True
    ) -> HistoryPage:
        limit = check_page_size(limit)
        with self._lock:
            keys = list(self._keys.get(customer_id, []))
            held = dict(self._events.get(customer_id, {}))
        if newest_first:
            keys.reverse()
            chosen = [k for k in keys if after is None or k < after]
        else:
            chosen = [k for k in keys if after is None or k > after]
        page = chosen[:limit]
        more = len(chosen) > limit
        return HistoryPage(tuple(held[k] for k in page), page[-1] if more else None)

    def inherit_history(self, absorbed: str, survivor: str) -> int:
        with self._lock:
            events = list(self._events.get(absorbed, {}).values())
            for event in events:
                self._put(survivor, inherited(event, absorbed))
        return len(events)

    def histories_naming(self, name: str, *, after: str | None = None, limit: int = NAMED_PAGE) -> NamedPage:
        with self._lock:
            customers = sorted(c for c in self._named.get(named_pk(name), ()) if after is None or c > after)
        page = customers[: max(1, limit)]
        return NamedPage(tuple(page), page[-1] if len(customers) > len(page) else None)

    def put_named(self, events: Sequence[tuple[str, HistoryEvent]]) -> None:
        with self._lock:
            for customer, event in events:
                for name in indexed_names(event):
                    self._named.setdefault(named_pk(name), set()).add(customer)

    def forget_named(self, pairs: Sequence[tuple[str, str]]) -> None:
        with self._lock:
            for name, customer in pairs:
                held = self._named.get(named_pk(name))
                if held is not None:
                    held.discard(customer)
                    if not held:
                        del self._named[named_pk(name)]


__all__ = ["InMemoryHistoryStore"]
