"""An erasure reaches the caches of every warm process, not only those of the one that ran it.

Normalising and linking keep bounded caches of people's values (core.privacy_caches). The process
that erases a person empties its own; every other process (a warm pull, merge, push or profiles
function, a local runtime's worker) learns of the erasure from the store: each store keeps an
**erasure epoch**, a counter and a random token, both renewed by each bump: with an erasure's
suppression entries, after each step of deletes (ErasureStore.apply: a batch that read her stored
values after the first bump, while the tools were asked, is told even if the erasure is killed
before its end), and with its audit record (the last thing an erasure writes, whether it finished
or must be sent again). It is compared for equality: a store restored from a backup counts again
from the backup's count, with new tokens.
Before a batch uses its caches, a process reads the epoch (one small read: ``forget_if_erased``) and,
when it differs from the one it saw last for that store, empties every cache of personal values
(``forget_personal_values``, the erasure's own) and remembers the new epoch.

The epoch is read before the caches are emptied: an erasure bumping it after the read is seen by
the next batch. A batch in flight when an erasure lands finishes with what it cached; its next batch
starts clean, because a bump comes after each step of deletes and the audit record's after
everything the erasure deleted. An entry point reads it once: a pull's page, ``ingest_isolating``'s
batch (``IngestSettings.epoch_checked``: the ingest they call does not read it again). A read
that fails (the store unreachable) empties the caches too and forgets the epoch seen (fail safe:
stale caches are never used on a guess), and says why in the log.

A store is known by ``epoch_key`` (a table, a file, an in-memory store object): a process serving
several keeps an epoch for each. A store seen for the first time empties the caches once (a process
may have cached values before it first asked: nothing says it asked this store).
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from core import privacy_caches

__all__ = ["ErasureEpochs", "epoch_text", "forget_if_erased"]

_log = logging.getLogger(__name__)

#: The epoch each store had when this process last emptied its caches for it.
_SEEN: dict[str, str] = {}


@runtime_checkable
class ErasureEpochs(Protocol):
    """A store that keeps the erasure epoch (the suppression stores: memory, SQLite, DynamoDB)."""

    @property
    def epoch_key(self) -> str:
        """Which store this is (the same for every handle on it)."""
        ...

    def erasure_epoch(self) -> str:
        """How many times erasures wrote to the store, and a random token of the last write
        (``"<count>:<token>"``; ``"<count>"`` on an item bumped before tokens, ``"0"`` on a store
        written before epochs). Compared for equality only: a restored store counts again from its
        backup's count, with new tokens."""
        ...


def forget_if_erased(store: object) -> bool:
    """Empty this process's caches of personal values if ``store`` recorded an erasure since the
    last call for it (or it could not be read); whether they were emptied. A store that keeps no
    epoch is not asked."""
    if not isinstance(store, ErasureEpochs):
        return False
    key = store.epoch_key
    try:
        epoch = store.erasure_epoch()
    except Exception as error:  # any failure to read: the caches cannot be trusted
        _SEEN.pop(key, None)
        emptied = privacy_caches.forget_personal_values()
        _log.warning(
            "the erasure epoch could not be read (%s); emptied %d caches of personal values rather "
            "than use them unchecked",
            type(error).__name__,
            emptied,
        )
        return True
    if _SEEN.get(key) == epoch:
        return False
    privacy_caches.forget_personal_values()
    _SEEN[key] = epoch
    return True


def epoch_text(count: int, token: str | None) -> str:
    """An epoch as ``erasure_epoch`` reads it on every store: the count, and the last bump's token
    (none on an item bumped before tokens: the count alone, as before)."""
    return f"{count}:{token}" if token else str(count)
