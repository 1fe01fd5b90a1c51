"""One batch holding a customer's thousands of orders, taken a transaction's worth at a time from the
customer's profile item (docs/architecture.md, "One batch of a customer with thousands of orders").

A first ``resolve`` of a wholesale buyer's history or a first ``sync`` of a Stripe customer with
thousands of charges brings one customer more records than one transaction holds (a snapshot, an
identifier and an event an order: about 32 orders in 100 items). core.ingest_plan commits the first
part and defers the rest; planned again in full, each later part would read the owners of every
record left and load and rebuild the whole customer: a batch of N orders in N/32 parts costs N²/32.

``GrowParts`` takes the records of the batch that the add-only path (core.ingest_grow) may plan,
by the customer their owner link names, and when one owner holds more than a part's worth, offers
them a part at a time: the round (core.pipeline) plans the part alone with ``grow_only``, which
reads the owners of the part's keys only and the customer's profile item (its parsed body kept in
memory between parts, core.grow_kept), and commits it; the rest waits. Whatever the add-only path
refuses (a customer not stored yet, a record it cannot add) is planned as before, the whole of what
is left in one plan. The order the records are written in differs from the full plan's cut; the
snapshots and the profile's body do not (the batching property of core.ingest_grow), and each part
is one conditional commit as before, so a process killed between two parts leaves a customer the
next run completes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from core.schema import SourceRecord

__all__ = ["GrowParts"]

#: Rounds in a row the add-only path may refuse a part before ``GrowParts`` stops offering them.
MISSES = 2


class GrowParts:
    """The add-only records of one owner in a round's pending records, a part at a time."""

    def __init__(self, limit: int) -> None:
        self.size = max(1, limit // 3 - 1)  # three items an order, and the profile item
        self.queue: list[SourceRecord] = []  # the owner's records not taken yet
        self.others: list[SourceRecord] = []  # every other pending record
        self.held = False  # whether queue and others are the round's pending records
        self.misses = 0
        self.offered = 0  # parts offered
        self.taken = 0  # parts the add-only path planned

    def part(self, pending: Sequence[SourceRecord], collapsed: Collection[str]) -> list[SourceRecord]:
        """The next part to plan alone, or [] (plan ``pending`` as a whole). ``pending`` is what
        the round has left: the rest after the last part taken, or records sorted anew."""
        if self.misses >= MISSES or len(pending) <= self.size:
            return []
        if not self.held:
            self.queue, self.others = _largest_owner(pending, collapsed)
            self.held = True
        if len(self.queue) <= self.size:
            return []
        self.offered += 1
        return self.queue[: self.size]

    def rest(self) -> list[SourceRecord]:
        """What is pending besides the part offered."""
        return self.queue[self.size :] + self.others

    def took(self) -> None:
        """The part offered was planned by the add-only path and committed whole: the round's
        pending records are ``rest()``."""
        self.taken += 1
        self.misses = 0
        self.queue = self.queue[self.size :]

    def refused(self) -> None:
        """The add-only path refused the part offered: the round plans every pending record."""
        self.misses += 1
        self.forget()

    def forget(self) -> None:
        """The round's pending records changed otherwise (a commit lost, a full plan's round)."""
        self.queue, self.others, self.held = [], [], False

    def shrink(self, records: int, items: int, limit: int) -> bool:
        """A part of ``records`` planned as ``items`` operations, over ``limit``: take fewer."""
        if self.size == 1:
            return False
        self.size = max(1, min(self.size - 1, records * limit // items - 1))
        return True


def _largest_owner(
    pending: Sequence[SourceRecord], collapsed: Collection[str]
) -> tuple[list[SourceRecord], list[SourceRecord]]:
    """The pending records the add-only path may take (core.ingest_grow._one_owner's checks of a
    record alone) of the owner that has most of them, and all the others, each in pending order."""
    by_owner: dict[str, int] = {}
    for r in pending:
        if r.owner is not None and _addable(r, collapsed):
            by_owner[r.owner] = by_owner.get(r.owner, 0) + 1
    if not by_owner:
        return [], list(pending)
    owner = max(by_owner, key=lambda o: (by_owner[o], o))
    queue: list[SourceRecord] = []
    others: list[SourceRecord] = []
    for r in pending:
        (queue if r.owner == owner and _addable(r, collapsed) else others).append(r)
    return queue, others


def _addable(record: SourceRecord, collapsed: Collection[str]) -> bool:
    return (
        record.level == "child"
        and record.owner is not None
        and record.order_summary is None
        and not record.undated
        and record.key not in collapsed
        and all(order.id == record.source_id for order in record.orders)
    )
