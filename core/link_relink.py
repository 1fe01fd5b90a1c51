"""After records leave the store (retired at the vendor): the link graph around them, planned again.

Customers are the components of the link graph over the records there are, so a record that goes
can change more than its own customer:

- In a dense blocking key (core.linkage.blocking) a record meets its neighbours only; when one
  goes, the records on either side of it become neighbours, and their pair may link or go to
  review, as one batch of the records left would decide it.
- A record the cap of groups a record joins (or a conflict in a component) kept apart from the
  gone record's customer may now join it.

``relink_after_removal`` plans those customers as ingest plans a batch (core.link_plan, with the
records as ``gone`` and no batch of its own): it finishes the merges the graph asks for, lists the
pairs now in doubt for review, and splits the customers the graph separates. Called after the
records' items and index entries are gone (core.retirement), and after an erasure
(``relink_after_erasure``, core.privacy).

``relink_customers`` plans given customers the same way with nothing gone: after a person's review
decision (core.link_review_apply), so that ``decide`` leaves the customers the next ingest of their
records would make.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from core.errors import ConflictError, RecordRejectedError
from core.ingest_plan import _load_customers
from core.link_nodes import graph_node, index_keys
from core.link_plan import plan_linked
from core.link_scope import Scope
from core.link_unfile import file_reviews
from core.merge_steps import complete_merge
from core.ports import ProfileStore
from core.schema import SourceRecord
from core.split import split_customer

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings

__all__ = ["Relinked", "relink_after_erasure", "relink_after_removal", "relink_customers"]

#: Rounds of "finish the merges the graph asks for, plan again".
MAX_ROUNDS: Final = 6


def relink_after_removal(
    store: ProfileStore,
    gone: Sequence[SourceRecord],
    settings: IngestSettings,
    customers: Collection[str] = (),
) -> list[str]:
    """Plan again what the ``gone`` records' leaving changes (see the module docstring): the
    customers whose records their leaving pairs anew in a dense block, and ``customers`` (the ones
    they left). Returns the ids of the customers split off. A no-op without fuzzy matching."""
    if settings.linkage is None or settings.linkage.model is None or not gone:
        return []
    customers = set(customers) | _partners(store, gone, settings)
    return _plan_again(store, customers, settings, gone).split_off


@dataclass
class Relinked:
    """What planning customers again did: the customers merged away and those split off."""

    merged: list[str] = field(default_factory=list)
    split_off: list[str] = field(default_factory=list)


def relink_customers(store: ProfileStore, customers: Collection[str], settings: IngestSettings) -> Relinked:
    """Plan the ``customers`` again as ingest plans the records around a batch (see the module
    docstring): the merges the graph asks for are finished and the customers it separates split.
    A no-op without fuzzy matching."""
    if settings.linkage is None or settings.linkage.model is None or not customers:
        return Relinked()
    return _plan_again(store, set(customers), settings, ())


def _plan_again(
    store: ProfileStore, customers: set[str], settings: IngestSettings, gone: Sequence[SourceRecord]
) -> Relinked:
    done = Relinked()
    refused: set[tuple[str, str]] = set()
    for _ in range(MAX_ROUNDS):
        live = {
            cid: state
            for cid, state in _load_customers(store, set(customers)).items()
            if not state.merged_into
        }
        plan = plan_linked(
            [], live, {}, {}, {}, store, settings, lambda ids: _load_customers(store, ids), gone
        )
        merges = [m for m in plan.merging + plan.merges if m not in refused]
        if merges:
            # A customer read frozen (``live`` holds every customer the plan read) has its merge in
            # flight finished, or left as another writer left it (a repair took it back since: a
            # fresh merge of that pair would be refused, core.merge_undo); never started afresh.
            frozen = {cid for cid, state in live.items() if state.merging_into}
            for absorbed, survivor in merges:
                try:
                    complete_merge(store, absorbed, survivor, settings, in_flight=absorbed in frozen)
                except RecordRejectedError:
                    # Their records do not fit one profile: refused before its first step, the two
                    # stay apart, as an ingest leaves them (its own record, not these, is refused).
                    refused.add((absorbed, survivor))
                else:
                    done.merged.append(absorbed)
            customers = {c for merge in merges for c in merge}
            continue  # plan again over the merged customers
        if plan.reviews:
            file_reviews(store, plan.reviews, plan.outdated)
        for cid in sorted(plan.resplit):
            try:
                done.split_off += split_customer(store, cid, settings)
            except (ConflictError, ValueError):
                continue  # the next change to the customer splits it (as after ingest)
        break
    return done


def relink_after_erasure(store: ProfileStore, gone: Sequence[SourceRecord], settings: IngestSettings) -> None:
    """``relink_after_removal`` after an erasure: the erased person's records are out of the index
    and the table, and are passed as gone, so no pair, review item or index entry names them again.
    Her customers are gone too: only her neighbours are planned. A no-op without fuzzy matching. A
    neighbour that changes meanwhile (a lost race) is left to be planned by that change, as after
    ingest: the erasure itself is done."""
    try:
        relink_after_removal(store, gone, settings)
    except ConflictError:
        return


def _partners(store: ProfileStore, gone: Sequence[SourceRecord], settings: IngestSettings) -> set[str]:
    """The customers of the records the gone ones could affect: those holding one of their
    identifier values (the value's holders no longer include them: a conflict they made may be gone),
    and those they would link to or send to review (a join the cap or a conflict refused may now be
    made). The gone records are out of the index already."""
    scope = Scope(store, settings)
    model = scope.model
    assert model is not None
    nodes = {r.key: graph_node(r, settings.policy) for r in gone}
    keys = {k for node in nodes.values() for k in index_keys(node, model)}
    scope.add_candidates(scope.read_index(keys), {})
    found: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for key, node in nodes.items():
        for value in node.values:
            found.update(k for k in scope.holders.get(value) if k not in nodes)
        if node.person:
            for block in node.blocking_keys():
                mates = (k for k in scope.blocks.get(block) if k not in nodes)
                pairs.update((key, k) if key < k else (k, key) for k in mates)
    decided = scope.linkage.decisions.decide_keys(sorted(pairs), {**scope.nodes, **nodes}, model)
    for (a, b), decision in decided.items():
        if decision.outcome != "no_link":
            found.update(k for k in (a, b) if k not in nodes)
    return {scope.home[k] for k in found if k in scope.home}
