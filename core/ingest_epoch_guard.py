"""A record's suppression guards folded into one condition on the erasure epoch, past the limit.

With suppression on, each email or phone whose IDENT item a changeset creates is guarded by an
``Unsuppressed`` condition (and its mailbox's spellings: core.suppression.guards), so that an
erasure landing between the plan's suppression check and the commit cannot let her values in. A
record within ``MAX_IDENTIFIERS`` (core/normalise/_limits.py) can then outgrow one transaction: 40
plain addresses replaced are 40 claims, 40 releases, 40 guards and 4 more (124); a new contact with
33 dotted Gmail addresses has 66 guards (136). The markers can go ahead (core.ingest_markers); a
guard cannot: it is a condition of the very commit that creates the item.

So ``fold_guards`` replaces the guards of a changeset that does not fit with one condition: it reads
the store's erasure epoch, then reads the suppression of every guarded hash again (strongly
consistent, one batched read), and, none suppressed, conditions the commit on the epoch being
unchanged (``NoErasureSince``). Every store writes suppression entries in the same transaction (or
lock) as a bump of the epoch (DynamoDB: core.storage.dynamodb_suppression), so the orders are:

* **an erasure's entries written before the epoch read**: the second read finds them; the changeset
  is not committed (``ConflictError``: the batch is planned again, and her record dropped as
  suppressed by the plan's own check);
* **written after the epoch read, before the commit**: the epoch moved, the commit's condition
  fails, nothing of the changeset is written, and the record is planned again (then dropped);
* **written after the commit**: an ordinary erasure of a person stored, which finds and deletes her.

The condition costs one item, against one a guard; but every erasure's entries and every commit so
conditioned touch the one epoch item, so it is used only past the limit (an erasure in between
refuses such a commit even when it names somebody else: the record is planned again, no change
lost). A store whose commits check another epoch than the suppression store's (none at all, or
another table) keeps its guards, and the changeset is refused as before.
"""

from __future__ import annotations

from core.erasure_epoch import ErasureEpochs
from core.errors import ConflictError
from core.ingest_settings import IngestSettings
from core.ports import Changeset, ChecksErasureEpoch, NoErasureSince, ProfileStore, Unsuppressed

__all__ = ["fold_guards"]


def fold_guards(changeset: Changeset, store: ProfileStore, settings: IngestSettings) -> Changeset:
    """``changeset`` with its ``Unsuppressed`` guards replaced by one ``NoErasureSince``, when it does
    not fit one of ``store``'s transactions with them (else as it is). Raises ``ConflictError`` when
    a guarded hash is suppressed by now (the plan is made again, and drops the record)."""
    guards = [op.hash for op in changeset.operations if isinstance(op, Unsuppressed)]
    if len(changeset) <= store.max_items_per_commit or len(guards) < 2 or settings.suppression is None:
        return changeset
    suppression = settings.suppression.store
    if (
        not isinstance(suppression, ErasureEpochs)
        or not isinstance(store, ChecksErasureEpoch)
        or store.erasure_epoch_key != suppression.epoch_key
        or getattr(suppression, "consistent", True) is not True  # an eventually consistent look
    ):
        return changeset
    epoch = suppression.erasure_epoch()  # first: an entry written after this read moves it
    if suppression.suppressed(guards):
        raise ConflictError(
            f"a value {changeset.label} would store was suppressed since the plan checked it; planned again"
        )
    kept = tuple(op for op in changeset.operations if not isinstance(op, Unsuppressed))
    return Changeset(label=changeset.label, operations=(*kept, NoErasureSince(epoch)))
