"""The in-memory ``ReadAudit``: the fake at that port (core.storage.dynamodb_reads is the real one).

It keeps every record; the DynamoDB one lets them expire after the retention period (TTL), so both
answer "who read this person since <date>" the same way for any date within the retention."""

from __future__ import annotations

import threading
from datetime import datetime

from core.governance.reading import ReadRecord


class InMemoryReadAudit:
    """Every read recorded, in a list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[ReadRecord] = []

    def record_read(self, record: ReadRecord) -> None:
        with self._lock:
            self.records.append(record)

    def reads_of(self, customer_id: str, *, since: datetime, limit: int = 100) -> list[ReadRecord]:
        with self._lock:
            found = [r for r in self.records if r.customer_id == customer_id and r.at >= since]
        found.sort(key=lambda r: (r.at, r.request_id), reverse=True)
        return found[: max(1, limit)]


__all__ = ["InMemoryReadAudit"]
