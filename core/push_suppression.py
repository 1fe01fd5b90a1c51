"""One push invocation's suppression answer, shared by every destination and batch.

A push (the push function's stream batch, a sync's push, a reconcile page) must never send a profile
that holds a suppressed identifier (core.suppression), and it must see an erasure that lands while it
sends: each batch is checked just before it goes, and again before its ``PUSHED#`` states are written
(core.sync_push). Before this module every one of those checks read the suppression store for all of
the batch's identifiers (four hashes an address: the key, its mailbox, its legacy mailbox and its
folded spelling): a push to three destinations read every profile's hashes seven times, and at the
demo's 3,000 people the push phase spent about 40% of its CPU there.

``PushSuppression`` reads each identifier once, strongly consistent, and keeps the answer together
with the store's erasure epoch (core.erasure_epoch) read just *before* that look. Each later check
reads the epoch again (one small read) and reuses the answer only while it has not moved; when it
moved (an erasure wrote suppression entries, deleted a step, or finished) every answer is dropped and
read again. A store that keeps no epoch is read every time, as before.

Why that is as safe as reading every time: an erasure bumps the epoch in the same write as its
suppression entries (core.storage: one transaction or lock on SQLite and in memory; on DynamoDB each
``TransactWriteItems`` of entries carries the bump: core.storage.dynamodb_suppression), and only then
asks the tools to delete the person. A check that finds the epoch unchanged since the look was made
after the last write of entries before the look, and no entry was written since, so a fresh read
would have answered the same. The window that remains is today's: between the check just before a
batch is sent and the send itself.

The answers are identifier keys in clear (``email#...``), held only for one invocation (this object
is made per push and dropped with it) and dropped at every move of the epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.erasure_epoch import ErasureEpochs
from core.schema import Profile
from core.suppression import SuppressionCheck, SuppressionStore

__all__ = ["PushSuppression", "shared"]


class PushSuppression:
    """Who among a push's profiles holds a suppressed identifier: read once, reused while the store's
    erasure epoch stays where it was before the read."""

    def __init__(self, check: SuppressionCheck) -> None:
        self.check = check
        self._epochs = check.store if isinstance(check.store, ErasureEpochs) else None
        self._epoch: str | None = None
        """The epoch read before the answers in ``_known`` were read (None: none read yet)."""
        self._known: dict[str, bool] = {}
        """Whether each identifier key is suppressed, as of ``_epoch``."""
        self.reads = 0
        """How many times the suppression store was read (for tests and benches)."""

    @property
    def store(self) -> SuppressionStore:
        return self.check.store

    def hash(self, key: str) -> str:
        """The keyed hash of an identifier key (``SuppressionCheck.hash``)."""
        return self.check.hash(key)

    def erased(self, profiles: Sequence[Profile]) -> tuple[str, set[str]]:
        """The store's erasure epoch, read now ("" when it keeps none), and the customers among
        ``profiles`` whose profile holds an identifier suppressed as of that epoch: the identifiers
        not known at that epoch are read (one batched read for all of them), the rest reused."""
        epoch = self._epochs.erasure_epoch() if self._epochs is not None else ""
        keys_of = {p.customer_id: [i.key for i in p.identifiers] for p in profiles}
        if self._epochs is None or epoch != self._epoch:
            # an erasure since the look (or no epoch to tell): every identifier of the push is read
            # again in one read, those of its later batches too
            stale = list(self._known)
            self._known.clear()
            self._epoch = epoch
        else:
            stale = []
        unknown = list(
            dict.fromkeys([*(k for keys in keys_of.values() for k in keys if k not in self._known), *stale])
        )
        if unknown:
            hit = self.check.suppressed_keys(unknown)
            self.reads += 1
            for key in unknown:
                self._known[key] = key in hit
        return epoch, {cid for cid, keys in keys_of.items() if any(self._known[k] for k in keys)}

    def blocked(self, profiles: Sequence[Profile]) -> set[str]:
        """The customers among ``profiles`` whose profile holds a suppressed identifier."""
        return self.erased(profiles)[1]


def shared(suppression: SuppressionCheck | PushSuppression) -> PushSuppression:
    """``suppression`` as a push's shared answer: itself, or a new one over a bare check."""
    return suppression if isinstance(suppression, PushSuppression) else PushSuppression(suppression)
