"""The erasures a ``resolve`` on the embedded default honours: those made before the run, and those
made while it runs.

``resolve`` resolves into a store of its own, new every run, and writes that store out as ``--out``
once every line is read; ``profilesync privacy erase`` keeps its suppression entries in the embedded
store of ``--state-dir`` (``TABLE.sqlite3``), which the run opens read only. An erasure in another
process cannot reach the run's own store, so the run looks:

* before each batch, for the state store when it had none yet (an erasure makes it, and the salt
  its entries are keyed with): the batches after it drop her records and count them;
* before it writes the output, at the state store's erasure epoch (core.erasure_epoch). The epoch
  read when the run first opened the state store vouches for every batch checked after it; when it
  has moved since (an erasure landed during the run), the run's store is searched for the customers
  holding an identifier or record id now suppressed, and they are erased from it (left out of the
  output, their records counted as erased), as are her lines in the quarantine file;
* after it wrote the output, at the epoch again: an erasure that answered while the file was being
  written bumped it (its audit record is the last thing it writes, and bumps the epoch), and the
  run does the above again and writes the file anew. So nothing the run writes after an erasure's
  answer holds the person, and a run that ends after it does not print her among its profiles.

The search reads exact identifiers and record ids (``SuppressionCheck.suppressed_keys``, mailboxes
included), not the fuzzy fingerprints a probabilistic ingest also checks a batch against.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from core.normalise import NormaliseOptions
from core.schema import Quarantined

if TYPE_CHECKING:
    from typing import TextIO

    from core.pipeline import IngestSettings
    from core.storage.sqlite_database import SQLiteDatabase
    from core.suppression import SuppressionCheck, SuppressionStore
    from profilesync.resolve import ResolveReport

#: Profiles of the run's store whose identifiers are looked up together (one read of the state store).
_PROFILES_PER_LOOKUP: Final = 500


class StateErasures:
    """The suppression entries of the embedded store in ``state_dir``, opened read only when the
    run starts or, when there is none yet, as soon as one is there (``check``, before each batch)."""

    def __init__(self, state_dir: Path, table: str, stack: ExitStack, options: NormaliseOptions) -> None:
        from profilesync.stores import store_path

        self._state_dir = state_dir
        self._table = table
        self._path = store_path(state_dir, table)
        self._stack = stack
        self._options = options
        self._check: SuppressionCheck | None = None
        self._store: SuppressionStore | None = None
        self._erased: Callable[[Quarantined], bool] | None = None
        self.vouched: str | None = None
        """The epoch the run's stored records are known to have been checked at (None: not yet)."""
        self._open(final=True)  # at the start: a store that is there must open (as before)
        if self._store is not None:
            self.vouched = self.epoch()

    def check(self) -> SuppressionCheck | None:
        """The check of the state store's suppression entries, or None while there is no such store
        (or no salt: no entry can have been keyed yet)."""
        if self._check is None:
            self._open(final=False)
        return self._check

    def settings(self, base: IngestSettings | None) -> IngestSettings | None:
        """``base`` with the state store's suppression, as it stands now."""
        check = self.check()
        if check is None or (base is not None and base.suppression is check):
            return base
        from core.pipeline import IngestSettings

        return dataclasses.replace(base or IngestSettings(), suppression=check)

    def erased(self, entry: Quarantined) -> bool:
        """Whether a quarantined record is an erased person's (profilesync.erased_quarantine)."""
        check = self.check()
        if check is None:
            return False
        if self._erased is None:
            from profilesync.erased_quarantine import erased_check

            self._erased = erased_check(check, self._options)
        return self._erased(entry)

    def epoch(self) -> str | None:
        """The state store's erasure epoch now (None: there is still no state store). A store that
        is there but cannot be opened raises: the output is not written unchecked."""
        self._open(final=True)
        if self._store is None:
            return None
        from core.erasure_epoch import ErasureEpochs

        assert isinstance(self._store, ErasureEpochs)
        return self._store.erasure_epoch()

    def erased_customers(self, documents: Iterator[dict[str, Any]]) -> dict[str, list[str]]:
        """Among the run's profiles (their JSON documents), those holding an identifier or record id
        now suppressed: each customer's identifier keys."""
        check = self.check()
        found: dict[str, list[str]] = {}
        if check is None:
            return found
        page: list[tuple[str, list[str]]] = []

        def look_up() -> None:
            hit = check.suppressed_keys(k for _, keys in page for k in keys)
            found.update((cid, keys) for cid, keys in page if any(k in hit for k in keys))
            page.clear()

        for document in documents:
            keys = [f"{i['kind']}#{i['value']}" for i in document["identifiers"]]
            page.append((document["customer_id"], keys))
            if len(page) >= _PROFILES_PER_LOOKUP:
                look_up()
        if page:
            look_up()
        return found

    def _open(self, *, final: bool) -> None:
        if self._store is not None or not self._path.is_file():
            return
        salt = _existing_salt(self._state_dir)
        if salt is None:  # an erasure opens the store, then makes the salt, then keys its entries
            return
        from core.errors import StoreLayoutError
        from core.suppression_run import RunSuppressionCheck
        from profilesync.stores import open_stores

        try:
            stores = self._stack.enter_context(
                open_stores(endpoint_url=None, table=self._table, path=self._path, read_only=True)
            )
        except StoreLayoutError:
            if final:
                raise
            return  # being made by another process (no items yet): looked for again next batch
        self._store = stores.suppression
        # The run's records go into its own file, not this store (read-only): no index entries here
        # (core.privacy_refused_index: they belong to the store a record is stored in).
        # A run's check: the lines it drops as hers are fingerprints for the rest of the run, so a
        # line its model links to one of them goes too (core.suppression_run).
        self._check = RunSuppressionCheck(stores.suppression, salt, index_refused=False)


def _existing_salt(state_dir: Path) -> str | None:
    """The audit salt when there is one (configured, or the state folder's file, as
    ``profilesync.privacy_cli.audit_salt`` finds it), never a new one: ``resolve`` writes nothing
    into the state folder. None for a file just made and not yet written (its maker writes it)."""
    from connectors.secrets import resolve_secret
    from core.errors import ConnectorConfigError
    from profilesync.privacy_cli import SALT_FILE

    try:
        return resolve_secret(SALT_FILE)
    except ConnectorConfigError:
        pass
    try:
        return (state_dir / SALT_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def take_out_erased(
    erasures: StateErasures,
    database: SQLiteDatabase,
    documents: Iterator[dict[str, Any]],
    quarantine: tuple[Path, TextIO],
    report: ResolveReport,
) -> None:
    """Erase from the run's store (``database``, whose profiles ``documents`` yields) the customers
    holding an identifier now suppressed, and drop the quarantine file's lines of erased people;
    count their records in ``report`` as erased."""
    customers = erasures.erased_customers(documents)
    if customers:
        erase_from_run_store(database, customers)
        report.erased_after += sum(1 for keys in customers.values() for k in keys if k.startswith("source#"))
    path, lines = quarantine
    lines.flush()
    from profilesync.resolve import reason_class

    for entry in drop_erased_lines(path, erasures.erased):
        report.quarantined -= 1
        report.erased_quarantined += 1
        reason = reason_class(entry.reason)
        report.quarantine_reasons[reason] -= 1
        if report.quarantine_reasons[reason] <= 0:
            del report.quarantine_reasons[reason]


def erase_from_run_store(database: SQLiteDatabase, customers: dict[str, list[str]]) -> None:
    """Delete ``customers`` from the run's own store (the store ``resolve`` made, nobody else
    writes): each one's partition (its profile and records) and the identifier items it owns."""
    with database.writing() as conn:
        for customer, keys in customers.items():
            conn.execute("DELETE FROM items WHERE pk = ?", (f"CUSTOMER#{customer}",))
            conn.executemany(
                "DELETE FROM items WHERE pk = ? AND sk = 'IDENT' AND owner = ?",
                [(f"IDENT#{key}", customer) for key in keys],
            )


def drop_erased_lines(path: Path, erased: Callable[[Quarantined], bool]) -> list[Quarantined]:
    """Rewrite the quarantine file ``path`` without the lines ``erased`` says are an erased
    person's; the entries left out. The file is written beside it and moved over it, only when it
    holds such a line, and only a regular file (``--quarantine /dev/null`` is left alone: nothing
    written there can be read back)."""
    from profilesync.resolve import write_quarantine_line

    target = path.resolve()
    if not target.is_file():
        return []
    with target.open(encoding="utf-8") as lines:
        dropped = [e for e in map(Quarantined.model_validate_json, lines) if erased(e)]
    if not dropped:
        return []
    kept = target.with_name(target.name + ".erasing")
    # the copy keeps the file's permissions (a private 0600 quarantine stays private, whatever
    # the umask): opened with them and set again, since the umask narrows what open gives
    mode = stat.S_IMODE(target.stat().st_mode)
    descriptor = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(descriptor, mode)
    with target.open(encoding="utf-8") as lines, open(descriptor, "w", encoding="utf-8") as out:
        for line in lines:
            entry = Quarantined.model_validate_json(line)
            if not erased(entry):
                write_quarantine_line(entry, out)
    os.replace(kept, target)
    return dropped


__all__ = ["StateErasures", "drop_erased_lines", "erase_from_run_store", "take_out_erased"]
