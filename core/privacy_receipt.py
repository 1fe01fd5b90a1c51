"""The receipt of an erasure (core.privacy): what it leaves by policy, why, and until when."""

from __future__ import annotations

from datetime import datetime, timedelta

#: How long DynamoDB point-in-time recovery keeps the table's earlier states (its maximum window).
BACKUP_RETENTION_DAYS = 35
#: How long the ingest queue keeps a message (template.yaml); suppression drops it at merge anyway.
INGEST_RETENTION_DAYS = 4


def kept_by_policy(at: datetime, *, suppressed: int, pending: bool) -> list[dict[str, str]]:
    """What an erasure leaves by policy, why, and until when: the receipt's ``kept``."""
    kept = [
        {
            "what": "audit record",
            "holds": "a keyed hash of the identifier, who asked, when, counts and each tool's outcome",
            "why": "accountability for the request (GDPR art. 5(2)); it holds no personal data",
            "until": "kept with the table; the privacy role can neither change nor delete it",
        },
        {
            "what": f"suppression entries ({suppressed})",
            "holds": "keyed hashes of the identifiers the person held alone and of their record ids",
            "why": "so that no tool's next pull, and no push, brings the person back",
            "until": "until lifted by an explicit, audited request (the person signed up again)",
        },
        {
            "what": "point-in-time backups of the table",
            "holds": "the table as it was before the erasure",
            "why": "disaster recovery; restores are done by operators and must re-run erasures",
            "until": (at + timedelta(days=BACKUP_RETENTION_DAYS)).isoformat(),
        },
        {
            "what": "ingest queue messages in flight",
            "holds": "records pulled before the erasure and not yet merged",
            "why": "they are dropped at merge by the suppression entries, never stored",
            "until": (at + timedelta(days=INGEST_RETENTION_DAYS)).isoformat(),
        },
    ]
    if pending:
        kept.append(
            {
                "what": "pending tool erasures",
                "holds": "the ids of the person's records in the tools that have not confirmed",
                "why": 'to ask those tools again ({"action": "erase-retry"})',
                "until": "until every tool confirms",
            }
        )
    return kept


__all__ = ["BACKUP_RETENTION_DAYS", "INGEST_RETENTION_DAYS", "kept_by_policy"]
