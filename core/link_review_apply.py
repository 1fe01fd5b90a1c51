"""How a person's decision on a review pair reaches the customers (core.link_review ``decide``), while
other reviewers and ingests change the same pair.

``settle`` applies the decision the pair's item holds, only while it holds for the records as they
are (``ReviewItem.applies_to``: their match documents are those it was taken on), as ingest replays
it (core.link_scope). An accepted pair's merge is frozen at the versions of the two customers read
with those records (``freeze_merge``): an ingest storing another version of either record in between
moves a version, the freeze loses, and the records are read again. So a decision and an ingest end
as in one order of the two: decided then ingested (the ingest finds the decision taken on other
versions, scores the pair as undecided and re-resolves), or ingested then decided (the decision,
taken on the versions read before, is not applied: it lost the race).

A decision that lost is reported (``ReviewOutdatedError``) and loses no review: ``requeue`` puts the
pair back in the queue, scored on the records as they are now, when it is in doubt on them (as the
ingest that saw the decision would have); otherwise the decision stays on its item, bound to the
versions it was taken on, which no later version matches unless it holds the same match fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from core.errors import ConflictError
from core.ingest_settings import IngestSettings, _back_off
from core.link_index import LinkIndex, ReviewItem, match_document, pair_evidence
from core.merge_steps import check_merge_fits, complete_merge, finish_merges, freeze_merge
from core.ports import CustomerState, ProfileStore
from core.split import split_customer

__all__ = ["Settled", "apply_decision", "evidence_of", "requeue", "settle", "states_of"]

#: Rounds of "apply the decision the item holds" when reviewers decide one pair at the same time.
MAX_SETTLING_ROUNDS = 3

States = tuple[CustomerState | None, CustomerState | None]


def states_of(store: ProfileStore, a: str, b: str) -> States:
    """The live customers holding the two records now (following merges); None for one not stored."""
    from core.person_scope import locate
    from core.schema import Identifier

    found = [locate(store, Identifier(kind="source", value=key)) for key in (a, b)]
    return found[0], found[1]


def evidence_of(item: ReviewItem, states: States) -> str | None:
    """``pair_evidence`` of the pair's records as ``states`` hold them; None when one is not held."""
    matches: list[str] = []
    for key, state in zip((item.a, item.b), states, strict=True):
        record = state.snapshots.get(key) if state is not None else None
        if record is None:
            return None
        matches.append(match_document(record))
    return pair_evidence(matches[0], matches[1])


class Settled:
    """What ``settle`` did: the customers merged and split off, and whether a decision applied."""

    __slots__ = ("applied", "merged", "pending_again", "split_off")

    def __init__(self) -> None:
        self.merged: list[str] = []
        self.split_off: list[str] = []
        self.applied = False
        """A stored decision held for the records read, and the customers were made to follow it."""
        self.pending_again = False
        """Not applied, and the pair waits for review (scored on the records as they are now)."""


def apply_decision(
    store: ProfileStore,
    index: LinkIndex,
    decided: ReviewItem,
    settings: IngestSettings,
    now: Callable[[], datetime],
) -> Settled:
    """``settle`` the decision just written (``decided``); when it lost the race, ``requeue`` the pair.
    Records brought back meanwhile to what the decision was taken on (a version undoing the change)
    have it written again (over its own requeue or an ingest's pending item, never over another
    person's decision taken meanwhile) and settled again: ingested then decided, it would apply."""
    done = settle(store, index, decided, settings)
    for _ in range(MAX_SETTLING_ROUNDS):
        if done.applied:
            return _follow_graph(store, decided, settings, done)
        again = requeue(store, index, decided, settings, now)
        if again is not None:
            done.pending_again = again
            return done
        stored = index.review_by_id(decided.pair_id)
        if stored is None:
            return done  # gone meanwhile: an erasure, or an ingest found it no longer in doubt
        # Written again only over a pending item (this decision's requeue, or an ingest's): a
        # person's decision taken meanwhile stays, as ``requeue_review`` keeps it.
        if not stored.same_filing(decided) and (
            stored.status != "pending" or not index.requeue_review(stored, decided)
        ):
            return done
        done = settle(store, index, decided, settings)
    return _follow_graph(store, decided, settings, done) if done.applied else done


def _follow_graph(
    store: ProfileStore, decided: ReviewItem, settings: IngestSettings, done: Settled
) -> Settled:
    """After the decision applied: plan the customers of its records again as ingest would
    (core.link_relink), so that they are the components of the graph with every decision applied
    (a merge can bring a rejected pair into one customer, to be parted along the weakest fuzzy
    link). A write racing it is left to be planned by that write, as after ingest."""
    from core.link_relink import relink_customers

    customers = {s.customer_id for s in states_of(store, decided.a, decided.b) if s is not None}
    try:
        relinked = relink_customers(store, customers, settings)
    except ConflictError:
        return done
    done.merged += relinked.merged
    done.split_off += relinked.split_off
    return done


def settle(store: ProfileStore, index: LinkIndex, item: ReviewItem, settings: IngestSettings) -> Settled:
    """Make the customers of the pair follow the decision its item holds, while it holds for the
    records (see the module docstring). Stops, not applied, when the item is gone, pending again, or
    taken on other versions of the records than those read. Raises ConflictError when the
    customers kept changing under an accepted pair's freeze (the decision is stored: deciding again
    applies it)."""
    done = Settled()
    applied: str | None = None
    for attempt in range(MAX_SETTLING_ROUNDS + settings.max_attempts):
        states = states_of(store, item.a, item.b)
        stored = index.review_by_id(item.pair_id)
        first, second = states
        if stored is None or first is None or second is None:
            return done  # an erasure, or an ingest that found the pair no longer in doubt
        if not stored.applies_to(evidence_of(item, states) or ""):  # pending again, or other records
            return done  # the records changed since the decision: an ingest took it up
        if stored.status == applied:
            return done
        # Apply the decision the item holds now: another reviewer deciding the same pair at the same
        # time may have written after this one, and the customers must follow the stored decision.
        if stored.status == "accepted" and first.customer_id != second.customer_id:
            if finish_merges(store, first, settings) or finish_merges(store, second, settings):
                continue
            survivor, absorbed = sorted((first, second), key=lambda s: s.customer_id)
            check_merge_fits(absorbed, survivor, settings)  # else refused before the freeze
            if not freeze_merge(store, absorbed, survivor):
                # A write to either customer since they were read (another version of a record?).
                _back_off(settings, attempt)
                continue
            try:
                complete_merge(store, absorbed.customer_id, survivor.customer_id, settings)
            except ConflictError:
                continue  # a customer of the pair went (an erasure, which finished the merge first)
            done.merged.append(absorbed.customer_id)
        elif stored.status == "rejected" and first.customer_id == second.customer_id:
            done.split_off += split_customer(store, first.customer_id, settings)
        applied = stored.status
        done.applied = True
    raise ConflictError(
        f"review pair {item.pair_id}: its customers kept changing as the decision was applied; it is "
        "stored, decide again to apply it"
    )


def requeue(
    store: ProfileStore,
    index: LinkIndex,
    decided: ReviewItem,
    settings: IngestSettings,
    now: Callable[[], datetime],
) -> bool | None:
    """After ``decided`` (the decision as written) lost the race: the pair's item becomes pending,
    scored on the records as they are now, when the pair is in doubt on them, and stays the decision
    otherwise (bound to the versions it was taken on, it applies to none of the new ones), as an
    ingest that saw it would leave it. Each write replaces only the item this wrote last
    (``requeue_review``), and is checked against the records read again: an ingest in between is
    followed. Returns whether the pair waits for review; None when the records hold what the decision
    was taken on again (a version undoing the change), so that it is written and applied again."""
    mine = decided
    for _ in range(MAX_SETTLING_ROUNDS + settings.max_attempts):
        states = states_of(store, decided.a, decided.b)
        evidence = evidence_of(decided, states)
        if evidence is None:
            return False  # a record went: an erasure (decide refuses)
        if decided.applies_to(evidence):
            return None
        stored = index.review_by_id(decided.pair_id)
        if stored is None or not stored.same_filing(mine):
            # Gone, requeued by an ingest, or decided again by a person: theirs stays.
            return stored is not None and stored.status == "pending"
        wanted = _pending_on(store, decided, states, settings, now) or decided
        if wanted.status == mine.status:
            return mine.status == "pending"
        if index.requeue_review(mine, wanted):
            mine = wanted  # read the records again: a version stored meanwhile is followed
    return mine.status == "pending"


def _pending_on(
    store: ProfileStore,
    decided: ReviewItem,
    states: States,
    settings: IngestSettings,
    now: Callable[[], datetime],
) -> ReviewItem | None:
    """The pending item of the pair scored on the records ``states`` hold, when it is in doubt on them."""
    linkage = settings.linkage
    if linkage is None or linkage.model is None:
        return None
    from core.link_scope import Scope

    scope = Scope(store, settings)
    for state in {s.customer_id: s for s in states if s is not None}.values():
        scope.add_customer(state)
    pair = (decided.a, decided.b)
    decision = scope.decide_pairs([pair])[pair]
    if decision.outcome != "review":
        return None
    name = linkage.model_name or "default"
    return ReviewItem(decided.a, decided.b, "pending", decision.as_dict(), name, now())
