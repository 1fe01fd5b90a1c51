"""What an export (core.privacy.export_person) adds from governance: the person's history and who
read their profile in the last 90 days. Pure; the stores are the governance ports.

Both are read for the live customer the export found: a survivor holds copies of the events of the
customers merged into it, and the read audit records every read under the live customer that
answered it. Reads expire after ``READ_AUDIT_DAYS`` (the table's TTL; the embedded store deletes
them when opened), so the export asks for that window; the history is read whole, in pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.governance.history import MAX_PAGE, HistoryEvent, HistoryStore
from core.governance.reading import ReadAudit, ReadRecord

#: "Who looked at this person in the last 90 days": the read audit's retention (docs/governance.md).
READ_AUDIT_DAYS = 90
#: At most this many reads are exported (newest first): a person read more often than this in 90
#: days is being read by a process, whose reads say the same thing.
MAX_EXPORTED_READS = 10_000


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """The governance part of an export."""

    history: tuple[HistoryEvent, ...] = ()
    """Every event of the customer, newest first (inherited copies included)."""
    reads: tuple[ReadRecord, ...] = ()
    """Who read the customer's profile in the last ``READ_AUDIT_DAYS`` days, newest first."""


def person_record(
    customer_id: str | None, history: HistoryStore | None, reads: ReadAudit | None, *, now: datetime
) -> PersonRecord:
    """The history and the reads of ``customer_id`` (nothing without a customer or a store)."""
    if customer_id is None:
        return PersonRecord()
    events: list[HistoryEvent] = []
    if history is not None:
        after: str | None = None
        while True:
            page = history.list_history(customer_id, limit=MAX_PAGE, after=after)
            events.extend(page.events)
            if page.next is None:
                break
            after = page.next
    read: list[ReadRecord] = []
    if reads is not None:
        since = now - timedelta(days=READ_AUDIT_DAYS)
        read = [
            r for r in reads.reads_of(customer_id, since=since, limit=MAX_EXPORTED_READS) if r.at >= since
        ]
    return PersonRecord(tuple(events), tuple(read))


def person_record_json(record: PersonRecord) -> dict[str, object]:
    """The export answer's ``history`` and ``reads`` (the person's own data: nothing is masked)."""
    return {
        "history": [e.model_dump(mode="json", exclude={"handed_over"}) for e in record.history],
        "reads": [
            {
                "at": r.at.isoformat(),
                "principal": r.principal,
                "role": r.role,
                "route": r.route,
                "lookup": r.lookup,
                "fields": list(r.fields),
                "request_id": r.request_id,
            }
            for r in record.reads
        ],
    }


__all__ = ["MAX_EXPORTED_READS", "READ_AUDIT_DAYS", "PersonRecord", "person_record", "person_record_json"]
