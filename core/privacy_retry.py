"""After an erasure: asking the tools again for what they have not confirmed (``{"action":
"erase-retry"}``, hourly), and lifting the suppression of a person who signed up again (``{"action":
"unsuppress"}``). Both audited like the erasure (core.privacy)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from core.connector import Connector
from core.mailbox import mailbox_key
from core.privacy_request import StoredIds, folded_source, respelt_source, subject_hash
from core.privacy_store import AuditRecord, ErasureStore
from core.schema import Identifier
from core.suppression import SuppressionStore, keyed_hash
from core.tool_erasure import ToolResult, erase_in_tool

#: After this many rounds of asking, a tool that still has not confirmed raises the alarm.
ERASE_ATTEMPTS_BEFORE_ALARM = 5


# --- asking the tools again --------------------------------------------------------------------------


@dataclass
class RetryReport:
    """What one ``retry_erasures`` run did."""

    pending: int = 0
    completed: int = 0
    still_failing: int = 0
    alarming: int = 0
    """Erasures asked ``ERASE_ATTEMPTS_BEFORE_ALARM`` times or more that still failed."""
    tools: dict[str, Counter[str]] = field(default_factory=dict)


def retry_erasures(
    erasure: ErasureStore,
    tools: Mapping[str, Connector],
    *,
    unavailable: Mapping[str, str] | None = None,
    invocation: str = "",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RetryReport:
    """Ask each tool again for what it has not confirmed, for every pending erasure; an erasure all
    of whose tools have now answered is audited (``erase-retry``, outcome ``erased``) and forgotten."""
    report = RetryReport()
    for pending in erasure.pending_erasures():
        report.pending += 1
        remaining: dict[str, tuple[str, ...]] = {}
        answers: dict[str, str] = {}
        for name, keys in sorted(pending.tools.items()):
            targets = [Identifier.from_key(k) for k in keys]
            result = erase_in_tool(name, tools.get(name), targets, held=pending.held_at(name))
            if tools.get(name) is None and result.status == "failed":
                result = ToolResult(name, "failed", (unavailable or {}).get(name, "unavailable"), 0, keys)
            answers[name] = result.label
            report.tools.setdefault(name, Counter())[result.label] += 1
            if not result.done:
                remaining[name] = result.remaining or keys
        if not remaining:
            erasure.delete_pending(pending.request_id)
            report.completed += 1
            erasure.put_audit(
                AuditRecord(
                    action="erase-retry",
                    request_id=pending.request_id,
                    at=now(),
                    subject_hash=pending.subject_hash,
                    outcome="erased",
                    counts={"attempts": pending.attempts + 1},
                    tools=answers,
                    requested_by=pending.requested_by,
                    invocation=invocation,
                )
            )
            continue
        attempts = pending.attempts + 1
        unheld = tuple(t for t in pending.unheld if t in remaining)
        erasure.put_pending(replace(pending, tools=remaining, attempts=attempts, unheld=unheld))
        report.still_failing += 1
        if attempts >= ERASE_ATTEMPTS_BEFORE_ALARM:
            report.alarming += 1
    return report


# --- lifting a suppression ---------------------------------------------------------------------------


def lift_suppression(
    identifier: Identifier,
    *,
    suppression: SuppressionStore,
    erasure: ErasureStore,
    salt: str,
    request_id: str,
    requested_by: str,
    invocation: str = "",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    stored_ids: StoredIds | None = None,
) -> int:
    """Lift the suppression of a person who signed up again: every entry the erasure of
    ``identifier`` left (their other identifiers and record ids too). Audited; returns how many.
    ``stored_ids``: as for ``erase_person``, so a record id named by the vendor's other spelling (a
    Shopify GID) lifts the erasure that suppressed it as stored."""
    subject = subject_hash(salt, identifier)
    lifted = suppression.lift(subject)
    mailbox = mailbox_key(identifier.key)
    if not lifted and mailbox is not None:
        # Erased under another spelling of the address: its mailbox entry leads to that erasure.
        lifted = suppression.lift(keyed_hash(salt, mailbox))
    if not lifted and (folded := folded_source(identifier)) is not None:
        # A record id spelt as the vendor shows it (``HubSpot:Contact:1``): erased as stored.
        lifted = suppression.lift(subject_hash(salt, folded))
    if not lifted and (respelt := respelt_source(identifier, stored_ids or {})) != identifier:
        # A record id as the vendor also writes it (a Shopify GID): erased as its connector stores it.
        lifted = suppression.lift(subject_hash(salt, respelt))
    erasure.put_audit(
        AuditRecord(
            action="unsuppress",
            request_id=request_id,
            at=now(),
            subject_hash=subject,
            outcome="lifted" if lifted else "not_suppressed",
            counts={"lifted": len(lifted)},
            requested_by=requested_by,
            invocation=invocation,
        )
    )
    return len(lifted)


__all__ = ["ERASE_ATTEMPTS_BEFORE_ALARM", "RetryReport", "lift_suppression", "retry_erasures"]
