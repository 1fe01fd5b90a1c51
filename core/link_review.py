"""The review queue of probabilistic identity: list the pairs the matcher was unsure about, and let a
person accept or reject one. Pure over the store's ports.

Ingest files a pair scored between the ``review`` and ``link`` thresholds (or a likely typo, or a
conflicting birth date) as a ``REVIEW#`` item (core.link_index). ``pending`` lists them with what a
person needs to decide: both records' source keys, the score and its per-field weights, since when.
``decide`` stores a person's decision on the item and re-resolves the customers at once:

- **accept** joins the two records: their customers merge (``complete_merge``; the merge event says
  who accepted), unless they are one customer already;
- **reject** refuses the pair: the customer holding both is split the way the link graph now
  groups its records (``split_customer``, which reads the decision: the fuzzy links chaining the
  two give way). Records that a shared identifier joins stay together; the outcome says so.

Then the two customers are planned again as ingest would (core.link_relink ``relink_customers``),
so that ``decide`` leaves what the next ingest makes. A decision that contradicts a standing one
(core.link_review_rule: an accept joining a rejected pair through accepted pairs and identifiers,
or a reject of a pair accepted pairs join) is refused (``ReviewContradictsError``) naming it.

The decision is then part of the graph (core.linkage.graph: an accepted pair a must-link edge, a
rejected one a cannot-link constraint on the fuzzy links): every later ingest reads it for the
pair, whatever order and batches the records come in, and whether or not the blocking keys still
pair them (the records' review partners: core.link_scope_graph), so the customers stay the
components of the graph with the decisions applied. It is bound to the records as they are when
it is taken (the item's ``evidence``: a hash of their match documents): once either record holds
other match fields (another name, birth date, address, email or phone at its tool), the pair is
scored as if nobody had decided, and queued again when it is still in doubt (core.link_plan). A
decision stored before evidence was kept has none and is replayed whatever the records hold,
until the pair is decided again. Deciding again overwrites the decision (accepting a pair
rejected before joins it, unless it contradicts another standing decision). Each
decision appends a ``review_accepted`` or ``review_rejected`` event (who, why) to the history of
every customer concerned; the caller writes the ``AUDIT#review`` item (``DecisionOutcome.audit``),
as the privacy function and ``profilesync identity review`` do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from core.errors import ConflictError, RecordRejectedError
from core.governance.history import MAX_REASON, HistoryEvent, event_id_for, quotes_identifier
from core.ingest_settings import IngestSettings
from core.link_index import LinkIndex, ReviewItem
from core.link_review_apply import apply_decision, evidence_of, states_of
from core.link_review_errors import ReviewContradictsError, ReviewOutdatedError, ReviewRefusedError
from core.link_review_list import MAX_LISTED, review_lines, review_summary
from core.link_review_rule import contradiction
from core.ports import CustomerState, ProfileStore
from core.privacy_store import AuditRecord

__all__ = [
    "DecisionOutcome",
    "ReviewContradictsError",
    "ReviewOutdatedError",
    "ReviewRefusedError",
    "Verdict",
    "decide",
    "pending",
    "review_lines",
    "review_summary",
]

Verdict = Literal["accepted", "rejected"]

#: Rounds of "read the item, write the decision over it as read" before a decision gives up.
_DECIDE_ATTEMPTS = 5
_PAIR_ID = re.compile(r"^[0-9a-f]{32}$")
#: What an email address or a phone number looks like in a reviewer's words.
_CONTACT = re.compile(r"[^\s@]+@[^\s@]+|\+?\d[\d\s().-]{5,}\d")


def _index(store: ProfileStore) -> LinkIndex:
    if not isinstance(store, LinkIndex):
        raise ReviewRefusedError(
            f"{type(store).__name__} keeps no review queue; use the embedded (SQLite), DynamoDB or "
            "in-memory store"
        )
    return store


def pending(store: ProfileStore, limit: int = 50) -> list[dict[str, Any]]:
    """The pending reviews, oldest first, at most ``limit`` (1..MAX_LISTED), as ``review_summary``."""
    if limit < 1:
        raise ReviewRefusedError(f"the limit must be at least 1 (got {limit})")
    return [review_summary(item) for item in _index(store).pending_reviews(min(limit, MAX_LISTED))]


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """What a decision did: the pair, the verdict, the customers before and after."""

    pair: str
    records: tuple[str, str]
    status: Verdict
    decided_by: str
    reason: str
    before: tuple[str | None, str | None]
    """The live customers of the two records before the decision (None: not stored)."""
    after: tuple[str | None, str | None]
    merged: tuple[str, ...] = ()
    """Customers absorbed by an accepted pair's merge."""
    split_off: tuple[str, ...] = ()
    """Customers a rejected pair's split created."""
    repeated: bool = False
    """The pair had this decision already: stored again, nothing else changed."""
    events: tuple[str, ...] = field(default=(), compare=False)

    @property
    def together(self) -> bool:
        return self.after[0] is not None and self.after[0] == self.after[1]

    def audit(self, request_id: str, requested_by: str, invocation: str = "") -> AuditRecord:
        """The ``AUDIT#review`` record of the decision (who, when and counts, as every audit record).
        Not the pair: its id is a hash of the two record keys that anybody holding the vendor's ids
        can compute, and an audit record outlives the erasure of the people it names."""
        return AuditRecord(
            action="review",
            request_id=request_id,
            at=datetime.now(UTC),
            subject_hash="",
            outcome=f"{self.status}{' (repeated)' if self.repeated else ''}",
            counts={"merged": len(self.merged), "split_off": len(self.split_off)},
            requested_by=requested_by,
            invocation=invocation,
        )

    def as_json(self) -> dict[str, Any]:
        """The answer of the function's ``review-accept``/``review-reject`` and of the CLI (ids only)."""
        answer: dict[str, Any] = {
            "pair": self.pair,
            "records": list(self.records),
            "status": self.status,
            "decided_by": self.decided_by,
            "reason": self.reason,
            "customers_before": list(self.before),
            "customers_after": list(self.after),
            "together": self.together,
            "merged": list(self.merged),
            "split_off": list(self.split_off),
            "repeated": self.repeated,
        }
        if self.status == "rejected" and self.together:
            answer["note"] = (
                "the records stay one customer: other evidence joins them (see `profilesync explain "
                f"--source {self.records[0]}`)"
            )
        return answer


def check_pair_id(pair_id: str) -> str:
    """``pair_id`` as the list shows it (32 hex digits), or ReviewRefusedError."""
    text = pair_id.strip().lower()
    if not _PAIR_ID.match(text):
        raise ReviewRefusedError(
            f"{pair_id[:80]!r} is not a review pair id (32 hex digits): take it from "
            "`profilesync identity review list`"
        )
    return text


def _check_reason(reason: str, records: Sequence[str]) -> str:
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise ReviewRefusedError(f"the reason is longer than {MAX_REASON} characters; keep it to a sentence")
    if quotes_identifier(reason, records) or _CONTACT.search(reason):
        raise ReviewRefusedError(
            "the reason quotes a record's id, an email or a phone; histories show it to every role "
            "that reads them, so say why in words (the records are named in the event already)"
        )
    return reason


def decide(
    store: ProfileStore,
    pair_id: str,
    verdict: Verdict,
    *,
    by: str,
    reason: str = "",
    settings: IngestSettings,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DecisionOutcome:
    """Store a person's decision on the pair and re-resolve its customers (see the module docstring).

    ``settings`` must be probabilistic identity (``settings.linkage``), as ingest runs: the split a
    rejection makes groups the records by the link graph. Raises ReviewRefusedError, changing
    nothing, for an unknown pair, a reason quoting an id, or a record of the pair that no customer
    holds (erased or retired); and, appending no event, when an erasure drops the pair's item
    before the decision's write or takes a record of the pair out of the store before its events.
    Raises ReviewOutdatedError, applying nothing and appending no event, when an ingest stored
    another version of a record of the pair (other match fields) as it was decided
    (core.link_review_apply: the pair is pending again when it is in doubt on the new versions)."""
    if settings.linkage is None:
        raise ReviewRefusedError(
            "review decisions need probabilistic identity: set identity.mode: probabilistic in the "
            "configuration document (or pass --identity probabilistic)"
        )
    if not by.strip():
        raise ReviewRefusedError("say who decides (--by, or requested_by): a decision is audited")
    index = _index(store)
    pair = check_pair_id(pair_id)
    item = index.review_by_id(pair)
    if item is None:
        raise ReviewRefusedError(
            f"no review pair {pair}: it was never filed, or its records were erased; list the pending "
            "ones with `profilesync identity review list`"
        )
    for _ in range(_DECIDE_ATTEMPTS):
        reason = _check_reason(reason, (item.a, item.b))
        states, evidence = _held(store, item)
        before = _ids(states)
        at = now()
        repeated = item.status == verdict and item.evidence == evidence
        held = [s for s in states if s is not None]
        contradicted = None if repeated else _contradiction(store, index, item, verdict, held, settings)
        if contradicted is not None:
            raise ReviewContradictsError(f"review pair {pair} cannot be {verdict}: {contradicted}")
        decided = replace(item, status=verdict, decided_by=by, decided_at=at, note=reason, evidence=evidence)
        # Only over the item as read: an erasure of one of the pair's people since dropped it, an
        # ingest scored it again (the decision is then taken on that item), a person decided it.
        if index.decide_review(decided, item):
            break
        item = _read_again(store, index, item, evidence)
    else:
        raise ReviewRefusedError(
            f"review pair {pair} kept changing as it was decided (ingests scoring it again, or other "
            "reviewers); nothing was decided: decide again"
        )
    if not repeated:
        _check_again(store, index, decided, item, settings)
    settings = replace(settings, actor=f"review:{by}", clock=lambda: at)
    try:
        done = apply_decision(store, index, decided, settings, now)
    except RecordRejectedError as refused:
        # Their records do not fit one customer (refused before the merge's first step): the pair
        # is left as it was read, and nothing else was written. Only over this decision: another
        # reviewer's, taken meanwhile (and applied), stays.
        index.requeue_review(decided, item)
        raise ReviewRefusedError(f"review pair {pair} cannot be accepted: {refused}") from refused
    after = _customers(store, item.a, item.b)
    if after[0] is None or after[1] is None:
        # A record of the pair left the store while it was decided (an erasure): its item goes, and
        # no history event names it.
        index.drop_reviews([(item.a, item.b)])
        raise ReviewRefusedError(f"a record of review pair {pair} was erased as it was decided")
    if not done.applied:
        raise ReviewOutdatedError(pair, done.pending_again)
    events: list[HistoryEvent] = []
    if not repeated:
        events = _events(item, verdict, by, reason, at, after, before)
        history = getattr(store, "history", None)
        if history is not None and events:
            history.append_history(events)
    return DecisionOutcome(
        pair,
        (item.a, item.b),
        verdict,
        by,
        reason,
        before,
        after,
        tuple(done.merged),
        tuple(done.split_off),
        repeated,
        tuple(e.event_id for e in events),
    )


def _read_again(store: ProfileStore, index: LinkIndex, item: ReviewItem, evidence: str) -> ReviewItem:
    """The pair's item read again after the decision's write found it changed since ``item`` was
    read: the item to decide on, while the records hold what the decision was to be taken on (an
    ingest scored the pair again with another model, a person decided it meanwhile); else
    ReviewOutdatedError (another version of a record was stored) or ReviewRefusedError (erased)."""
    pair = item.pair_id
    again = index.review_by_id(pair)
    now = evidence_of(item, states_of(store, item.a, item.b))
    if now is None:
        raise ReviewRefusedError(f"review pair {pair} was dropped (its records erased) as it was decided")
    if again is None:
        # Both records are held: an ingest of another version found the pair no longer in doubt.
        raise ReviewOutdatedError(pair, pending_again=False)
    if now != evidence:
        raise ReviewOutdatedError(pair, pending_again=again.status == "pending")
    return again


def _contradiction(
    store: ProfileStore,
    index: LinkIndex,
    item: ReviewItem,
    verdict: str,
    held: list[CustomerState],
    settings: IngestSettings,
) -> str | None:
    """``contradiction``, or ReviewRefusedError when the customers it reads kept changing under it
    (writers racing: a customer referenced before its items were written): nothing was decided."""
    try:
        return contradiction(store, index, item, verdict, held, settings)
    except ConflictError as error:
        raise ReviewRefusedError(
            f"review pair {item.pair_id}: the customers around it kept changing as it was checked "
            f"({error}); nothing was decided: decide again"
        ) from error


def _check_again(
    store: ProfileStore, index: LinkIndex, decided: ReviewItem, item: ReviewItem, settings: IngestSettings
) -> None:
    """The contradiction check once more, after the decision's write: the write is conditional on the
    pair's own item only, so a contradicting decision on another pair stored between the first check
    and it is seen now. Then the pair is put back as it was read and ReviewContradictsError raised
    (two reviewers deciding contradicting pairs at once may both be refused; each can decide again)."""
    held = [s for s in states_of(store, item.a, item.b) if s is not None]
    contradicted = _contradiction(store, index, item, decided.status, held, settings)
    if contradicted is not None:
        index.requeue_review(decided, item)
        raise ReviewContradictsError(
            f"review pair {decided.pair_id} cannot be {decided.status}: {contradicted} (decided as this "
            "one was; it was put back as it was)"
        )


def _held(
    store: ProfileStore, item: ReviewItem
) -> tuple[tuple[CustomerState | None, CustomerState | None], str]:
    """The customers of the pair's records, and the evidence a decision on them is taken on
    (``pair_evidence`` of the records the store holds); ReviewRefusedError when one has no customer
    (erased, or retired at its vendor, since the pair was filed): nobody decides about a record
    nobody holds."""
    states = states_of(store, item.a, item.b)
    evidence = evidence_of(item, states)
    if evidence is None:
        key = next(
            k for k, s in zip((item.a, item.b), states, strict=True) if s is None or k not in s.snapshots
        )
        raise ReviewRefusedError(
            f"review pair {item.pair_id}: no customer holds {key} (erased or retired); nothing decided"
        )
    return states, evidence


def _customers(store: ProfileStore, a: str, b: str) -> tuple[str | None, str | None]:
    """The ids of the live customers holding the two records now (None: not stored)."""
    return _ids(states_of(store, a, b))


def _ids(states: tuple[CustomerState | None, CustomerState | None]) -> tuple[str | None, str | None]:
    first, second = states
    return (first.customer_id if first else None, second.customer_id if second else None)


def _events(
    item: ReviewItem,
    verdict: Verdict,
    by: str,
    reason: str,
    at: datetime,
    after: tuple[str | None, str | None],
    before: tuple[str | None, str | None],
) -> list[HistoryEvent]:
    """One ``review_accepted``/``review_rejected`` event on each customer concerned (before or after)."""
    kind: Literal["review_accepted", "review_rejected"] = (
        "review_accepted" if verdict == "accepted" else "review_rejected"
    )
    concerned = sorted({c for c in (*before, *after) if c is not None})
    said = reason or (
        "a reviewer confirmed the two records are one person"
        if verdict == "accepted"
        else "a reviewer said the two records are different people"
    )
    return [
        HistoryEvent(
            customer_id=cid,
            event_id=event_id_for(cid, kind, at, item.pair_id),
            at=at,
            kind=kind,
            actor=f"review:{by}",
            reason=said,
            source_keys=(item.a, item.b),
            customers=tuple(c for c in concerned if c != cid),
        )
        for cid in concerned
    ]
