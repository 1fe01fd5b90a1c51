"""The erasures a ``resolve`` honours: those made before the run, and those made while it runs (on
the embedded default, and on a table with ``--endpoint-url``, below).

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
included) and, when the run links by a model, weighs each customer's records against the fuzzy
fingerprints the erasures left (core.suppression_fuzzy), with that model, as a batch's check does: a
record the model would have linked to a record of the erased person makes its customer hers. It
weighs them against the fingerprints of the lines the run itself dropped as an erased person's too
(``_PrintingCheck``): an erasure of someone the state store never held fingerprints nothing, and her
record that only the model links to her dropped line would be resolved back. So the search also
runs, with no erasure during the run, when a probabilistic run dropped such a line.

With ``--endpoint-url`` the run writes into the table an erasure deletes from, and the output is read
from it after; only the quarantine file is the run's own. ``TableErasures`` reads the table's epoch
in the same places, and an erasure that landed during the run has her lines taken out of that file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from core.normalise import NormaliseOptions
from core.schema import Quarantined
from core.suppression import SuppressionCheck, SuppressionEntry, refused_keys
from profilesync.quarantine_rewrite import drop_erased_lines

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import TextIO

    from core.identity import IdentityPolicy
    from core.linkage import LinkageModel
    from core.pipeline import IngestSettings
    from core.ports import ProfileStore
    from core.schema import SourceRecord
    from core.storage.sqlite_database import SQLiteDatabase
    from core.suppression import SuppressionStore
    from profilesync.resolve import ResolveReport

    #: The stored records of each of some customers (``customer_records``).
    RecordsOf = Callable[[Sequence[str]], Mapping[str, Iterable[SourceRecord]]]

#: Profiles of the run's store whose identifiers are looked up together (one read of the state store).
_PROFILES_PER_LOOKUP: Final = 500
#: The erasure and time the fingerprints of the records a run drops are kept under (in memory only).
_RUN_ERASURE: Final = "resolve-run"
_RUN_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)


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
        self._check: _PrintingCheck | None = None
        self._store: SuppressionStore | None = None
        self._erased: Callable[[Quarantined], bool] | None = None
        self.vouched: str | None = None
        """The epoch the run's stored records are known to have been checked at (None: not yet)."""
        self.named: dict[str, tuple[list[str], list[SourceRecord]]] = {}
        """Found by the last ``erased_customers``: the customers (their identifier keys and records)
        not erased whole that hold a record naming an erased person in a refused value."""
        self._open(final=True)  # at the start: a store that is there must open (as before)
        if self._store is not None:
            self.vouched = self.epoch()

    def check(self) -> _PrintingCheck | None:
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

    @property
    def unsearched(self) -> bool:
        """Whether the run dropped a person record as an erased person's (probabilistic identity)
        since its store was last searched: a record of hers its model links to it may be stored."""
        return self._check is not None and self._check.unsearched

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

    def erased_customers(
        self,
        documents: Iterator[dict[str, Any]],
        records_of: RecordsOf | None = None,
        identity: IngestSettings | None = None,
    ) -> dict[str, list[str]]:
        """Among the run's profiles (their JSON documents), those holding an identifier or record id
        now suppressed, and, when ``identity`` links by a model, those holding a record (read with
        ``records_of``) that model would have linked to an erased person's fingerprint: each
        customer's identifier keys."""
        check = self.check()
        found: dict[str, list[str]] = {}
        if check is None:
            return found
        model = identity.linkage.model if identity is not None and identity.linkage is not None else None
        page: list[tuple[str, list[str]]] = []
        own_read: dict[str, list[dict[str, str]]] = {}
        check.unsearched = False
        self.named = {}

        def look_up() -> None:
            keys: list[str] = [k for _, ks in page for k in ks]
            records: dict[str, list[SourceRecord]] = {}
            refused: dict[str, list[str]] = {}
            if records_of is not None:  # the values normalisation refused, read as split reads them
                records = {cid: list(rs) for cid, rs in records_of([cid for cid, _ in page]).items()}
                refused = {cid: refused_keys(rs, check.region) for cid, rs in records.items()}
                keys += [k for ks in refused.values() for k in ks]
            if model is None or records_of is None or identity is None:
                hit = check.suppressed_keys(keys)
                linked: set[str] = set()
            else:  # each record's fuzzy look-up keys read with its identifiers, as a batch's check
                from core.suppression_fuzzy import FuzzyLookups

                # a child record (an order) leaves no fingerprint and is weighed against none
                people = [r for rs in records.values() for r in rs if r.level == "person"]
                fuzzy = FuzzyLookups(people, model, identity.policy, check.hash)
                hit = check.suppressed_keys(keys, extra=fuzzy.hashes)
                keys_linked = fuzzy.linked(check.store.entry, hit) if hit else set()
                own = check.dropped_prints  # the records this run dropped as an erased person's
                if own:
                    keys_linked |= fuzzy.linked(own.get, set(fuzzy.hashes) & own.keys(), own_read)
                linked = {cid for cid, rs in records.items() if any(r.key in keys_linked for r in rs)}
            found.update((cid, ks) for cid, ks in page if cid in linked or any(k in hit for k in ks))
            # a customer not erased whole holding a record that names her in a refused value (``Ann
            # <ann@x.com>`` beside a household's phone): rebuilt from its records, merge's check
            # dropping (or scrubbing) that record as a batch's does (attack31p)
            self.named.update(
                (cid, (ks, records[cid]))
                for cid, ks in page
                if cid not in found and any(k in hit for k in refused.get(cid, ()))
            )
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
        self._check = _PrintingCheck(stores.suppression, salt, index_refused=False)


class _PrintingCheck(SuppressionCheck):
    """The state store's check, which also keeps the fingerprints (core.suppression_fuzzy: keyed
    hashes, no value) of the person records it drops as an erased person's when the run links by a
    model. Her erasure fingerprints only what the state store held of her, and a ``resolve`` user's
    records are never stored there: without these, her record that only the model links to the
    line it dropped (her shop account under a private address) was resolved into a profile."""

    def __init__(self, store: SuppressionStore, salt: str, *, index_refused: bool) -> None:
        super().__init__(store, salt, index_refused=index_refused)
        self.dropped_prints: dict[str, SuppressionEntry] = {}
        """By look-up hash, the fingerprints of every record dropped so far, as one erasure's entry."""
        self.unsearched = False
        """Whether a record was dropped since the run's store was last searched."""

    def split(
        self,
        records: Sequence[SourceRecord],
        model: LinkageModel | None = None,
        policy: IdentityPolicy | None = None,
    ) -> tuple[list[SourceRecord], list[SourceRecord]]:
        kept, dropped = super().split(records, model, policy)
        if dropped and model is not None and policy is not None:
            from core.suppression_fuzzy import fingerprint_entries

            for entry in fingerprint_entries(dropped, policy, self._salt, _RUN_ERASURE, _RUN_TIME):
                self.unsearched = True
                held = self.dropped_prints.get(entry.hash)
                prints = json.loads(held.fingerprint) if held is not None else []
                prints += [p for p in json.loads(entry.fingerprint) if p not in prints]
                self.dropped_prints[entry.hash] = dataclasses.replace(entry, fingerprint=json.dumps(prints))
        return kept, dropped


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
    *,
    records_of: RecordsOf | None = None,
    identity: IngestSettings | None = None,
    profiles: ProfileStore | None = None,
) -> None:
    """Erase from the run's store (``database``, whose profiles ``documents`` yields) the customers
    holding an identifier now suppressed (or, with ``identity``'s model, a record her fingerprints
    drop: ``StateErasures.erased_customers``), and drop the quarantine file's lines of erased
    people; count their records in ``report`` as erased. A customer holding a record that names her
    only in a value normalisation refused (read with ``records_of``) is erased and its records
    merged again into ``profiles`` (the run's store) under the state store's check, which drops (or
    scrubs) that record as a batch's check does: her housemate's customer stays, without her."""
    customers = erasures.erased_customers(documents, records_of, identity)
    named = dict(erasures.named) if profiles is not None else {}
    if customers or named:
        erase_from_run_store(database, {**customers, **{cid: keys for cid, (keys, _) in named.items()}})
        report.erased_after += sum(1 for keys in customers.values() for k in keys if k.startswith("source#"))
    if named and profiles is not None:
        from core.pipeline import ingest

        settings = erasures.settings(identity)
        again = ingest([r for _, records in named.values() for r in records], profiles, settings)
        report.erased_after += again.suppressed
    take_out_quarantined(quarantine, erasures.erased, report)


def take_out_quarantined(
    quarantine: tuple[Path, TextIO], erased: Callable[[Quarantined], bool], report: ResolveReport
) -> None:
    """Drop from the quarantine file (its path, and the run's open handle on it) the lines ``erased``
    says are an erased person's, and count them in ``report`` as erased rather than quarantined."""
    path, lines = quarantine
    lines.flush()
    from profilesync.resolve import reason_class

    for entry in drop_erased_lines(path, erased):
        report.quarantined -= 1
        report.erased_quarantined += 1
        reason = reason_class(entry.reason)
        report.quarantine_reasons[reason] -= 1
        if report.quarantine_reasons[reason] <= 0:
            del report.quarantine_reasons[reason]


class TableErasures:
    """The erasures of the table a ``resolve --endpoint-url`` writes into: its suppression entries,
    which every batch is checked against, and its erasure epoch, read when the run starts (before
    any line is quarantined) and again before and after the output is written. An erasure that
    landed in between deleted her from the table, which the output is read from, but not from the
    run's quarantine file: ``take_out_quarantined`` with ``erased`` does that."""

    def __init__(self, check: SuppressionCheck, options: NormaliseOptions) -> None:
        from profilesync.erased_quarantine import erased_check

        self._check = check
        self.erased = erased_check(check, options)
        """Whether a quarantined record is an erased person's, by the table's entries as they stand."""
        self.vouched: str | None = self.epoch()
        """The epoch the quarantine file's lines are known to have been checked at."""

    def epoch(self) -> str | None:
        """The table's erasure epoch now (None: a store that keeps none)."""
        from core.erasure_epoch import ErasureEpochs

        store = self._check.store
        return store.erasure_epoch() if isinstance(store, ErasureEpochs) else None


def customer_records(store: ProfileStore) -> RecordsOf:
    """The stored records of customers of ``store``, read together (``get_customers``)."""

    def records_of(customers: Sequence[str]) -> dict[str, Iterable[SourceRecord]]:
        return {cid: state.snapshots.values() for cid, state in store.get_customers(customers).items()}

    return records_of


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


__all__ = [
    "StateErasures",
    "TableErasures",
    "customer_records",
    "drop_erased_lines",
    "erase_from_run_store",
    "take_out_erased",
    "take_out_quarantined",
]
