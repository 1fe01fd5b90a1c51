"""``profilesync resolve``: a JSON-lines file of records resolved into merged profiles (the
resolving engine is profilesync.resolve), and the identity settings ``resolve`` and ``sync`` share
(``--identity``, ``--identity-model``, the configuration document's ``identity`` section)."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from core.schema import Quarantined, RecordDraft, SourceRecord
from profilesync.cli_errors import UsageError

if TYPE_CHECKING:
    from core.pipeline import IngestSettings
    from core.suppression import SuppressionCheck
    from profilesync.stores import Stores

_Item = TypeVar("_Item")


def _resolve(args: argparse.Namespace) -> int:
    from profilesync.stores import spooled_input

    # A pipe is read once, into a file of this run beside the output (profilesync.stores.spooled_input).
    with spooled_input(args.input, args.out.parent) as path:
        return _resolve_file(argparse.Namespace(**{**vars(args), "input": path}))


def _resolve_file(args: argparse.Namespace) -> int:
    from connectors.jsonl import read_jsonl
    from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
    from core.batch_ingest import ingest_batch
    from core.normalise import NormaliseOptions
    from core.runtime import RESOLVE_GC_THRESHOLDS, bulk_gc, collected_after
    from profilesync import cli_checks
    from profilesync.parallel_normalise import NormalisingWorker, usable_cores, worker_wanted
    from profilesync.progress import Progress, count_lines
    from profilesync.quarantine_rewrite import remove_leftover_copy
    from profilesync.resolve import (
        EMBEDDED_BATCH_SIZE,
        ENDPOINT_BATCH_SIZE,
        ResolveReport,
        check_paths,
        default_quarantine_path,
        resolve,
        write_profiles,
        write_quarantine_line,
    )
    from profilesync.resolve_erasures import (
        StateErasures,
        TableErasures,
        customer_records,
        take_out_erased,
        take_out_quarantined,
    )
    from profilesync.resolve_output import write_store
    from profilesync.stores import open_stores, temporary_store_path

    if args.batch_size is None:
        args.batch_size = EMBEDDED_BATCH_SIZE if args.endpoint_url is None else ENDPOINT_BATCH_SIZE
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    region = cli_checks.check_region(args.default_region, "--region")
    cli_checks.check_json_lines(args.input)
    quarantine_path = args.quarantine or default_quarantine_path(args.out)
    check_paths(args.input, args.out, quarantine_path)  # before anything is written
    drafts = read_jsonl(args.input)
    first = next(drafts, None)  # surfaces an unreadable file before any store is set up
    cli_checks.check_writable(args.out, "--out")
    cli_checks.check_writable(quarantine_path, "--quarantine")
    if args.endpoint_url is not None:
        cli_checks.check_aws_credentials(args.endpoint_url)
        cli_checks.probe_endpoint(args.endpoint_url)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    quarantine_path.parent.mkdir(parents=True, exist_ok=True)
    # The file is read as of one moment, the run's start: a version stamped ahead of it is ordered
    # by that moment (core.time_bound.read_before), so the order of the lines and the batch size
    # never choose between two such versions of one record (their content does).
    options = NormaliseOptions(default_region=region, now=datetime.now(UTC))
    with ExitStack() as stack:
        # Read and normalise in a second process while this one resolves (started before the store
        # is opened, so that a forked worker inherits no connection).
        # On the embedded store, the file is read in batches that keep each person's lines together
        # (connectors.jsonl.batched): their records found new customers, planned together.
        by_person = args.batch_size if args.endpoint_url is None and args.input.is_file() else None
        worker = (
            stack.enter_context(NormalisingWorker(args.input, options, batch_size=by_person))
            if worker_wanted(args.input)
            else None
        )
        if args.endpoint_url is None:
            # A store of this run's own: its commits are grouped (core.storage.sqlite_database),
            # and it writes no history events or holder markers, which nothing in the run reads.
            path = stack.enter_context(temporary_store_path(args.out.parent))
            stores = stack.enter_context(
                open_stores(endpoint_url=None, table=args.table, path=path, durable=False, scratch=True)
            )
            # Ended (committed) when the records are resolved: the output is read by two processes.
            grouped = stack.enter_context(ExitStack())
            grouped.enter_context(stores.database.grouped_commits(seconds=5.0))
        else:
            stores = stack.enter_context(open_stores(endpoint_url=args.endpoint_url, table=args.table))
        store = stores.profiles
        qfile = stack.enter_context(quarantine_path.open("w", encoding="utf-8"))
        remove_leftover_copy(quarantine_path)  # a killed rewrite's copy: it may hold an erased line
        reading = Progress("resolve", total=None if args.quiet else count_lines(args.input), quiet=args.quiet)

        def progress(report: ResolveReport) -> None:
            reading.update(report.read, f"{report.quarantined:,} quarantined")

        def chained() -> Iterator[RecordDraft | Quarantined | BatchEnd]:
            if by_person is not None:
                yield from read_jsonl_batched(args.input, by_person)  # from its first line again
                return
            if first is not None:
                yield first
            yield from drafts

        if worker is not None or by_person is not None:
            drafts.close()  # the worker (or read_jsonl_batched) reads the file from its first line

        # Set-up is done (imports, the store): freeze it and run the collector less often while
        # the records are resolved, and not at all while a batch is ingested (see core.runtime).
        stack.enter_context(bulk_gc(RESOLVE_GC_THRESHOLDS))
        settings = _identity_settings(args)
        erasures: StateErasures | None = None
        watched: StateErasures | TableErasures
        erased: Callable[[Quarantined], bool]
        if args.endpoint_url is None:  # the erasures of --state-dir, before each batch as they stand
            erasures = watched = StateErasures(args.state_dir, args.table, stack, options)
            erased = erasures.erased
        else:  # the table's own; its epoch read before any line is quarantined
            check = _erasures(args, stores)
            settings = dataclasses.replace(settings or _default_settings(), suppression=check)
            watched = TableErasures(check, options)
            erased = watched.erased
        items: Iterable[RecordDraft | SourceRecord | Quarantined | BatchEnd] = (
            chained() if worker is None else worker
        )
        if by_person is not None:  # batches that end with a BatchEnd: received with the collector off
            uncollected = _received_uncollected(items, args.batch_size)
            stack.callback(uncollected.close)  # the collector on again, whatever ends the run
            items = uncollected
        report = resolve(
            items,
            store,
            options=options,
            settings=settings,
            batch_size=args.batch_size,
            quarantine=lambda q: write_quarantine_line(q, qfile),
            progress=progress,
            erased=erased,
            ingesting=collected_after(ingest_batch),
            settings_now=None if erasures is None else functools.partial(erasures.settings, settings),
        )
        if args.endpoint_url is None:
            grouped.close()
        reading.total = report.read if reading.total else None  # blank lines are no records
        reading.finish(report.read, f"{report.quarantined:,} quarantined")
        writing = Progress("write", unit="profiles", quiet=args.quiet)
        while True:
            # An erasure during the run: her customers out of the run's store before it is written
            # (a table's, the erasure deleted), her lines out of the quarantine file, and the file
            # written again when one answered while it was written (resolve_erasures).
            epoch = watched.epoch()
            # (or, linking by a model, when the run dropped an erased person's line: her records
            # that only the model links to it are hers, resolve_erasures._PrintingCheck)
            if epoch != watched.vouched or (erasures is not None and erasures.unsearched):
                if erasures is not None:
                    documents = stores.profiles.profile_documents()  # type: ignore[attr-defined]
                    take_out_erased(
                        erasures,
                        stores.database,
                        documents,
                        (quarantine_path, qfile),
                        report,
                        records_of=customer_records(stores.profiles),
                        identity=settings,
                        profiles=stores.profiles,
                    )
                else:
                    take_out_quarantined((quarantine_path, qfile), erased, report)
                watched.vouched = epoch
            with args.out.open("w", encoding="utf-8") as out:
                if args.endpoint_url is None:  # the SQLite store's JSON as is, half in a second process
                    parallel = usable_cores() >= 2
                    report.profiles = write_store(path, out, progress=writing.update, parallel=parallel)
                else:
                    report.profiles = write_profiles(store.iter_profiles(), out, progress=writing.update)
            if watched.epoch() == epoch:
                break
        writing.finish(report.profiles)
    for line in report.lines():
        print(line)
    print(f"wrote {report.profiles:,} profiles to {args.out}")
    if report.quarantined:
        print(f"wrote {report.quarantined:,} quarantined records to {quarantine_path}")
    return 0


def _received_uncollected(items: Iterable[_Item], batch_size: int) -> Generator[_Item, None, None]:
    """``items`` with the collector off while a batch arrives, and on again between batches (after a
    ``BatchEnd``, or ``batch_size`` items without one), as it was at the end or when closed early.

    A batch's records live until the batch is ingested (with the collector off too:
    ``core.runtime.collected_after``) and are dropped together; a young pass while they arrive
    walked each of them once for nothing (receiving a batch from the normalising worker 11.6-14.1
    -> 9.6-10.3 µs a record, load 10). The first pass after the batch walks what outlived it."""
    from connectors.jsonl.batched import BatchEnd

    enabled = gc.isenabled()
    count = 0
    try:
        for item in items:
            gc.disable()
            yield item
            count += 1
            if type(item) is BatchEnd or count >= batch_size:
                count = 0
                if enabled:
                    gc.enable()  # the next allocation runs the young pass that is due
    finally:
        if enabled:
            gc.enable()


def _default_settings() -> IngestSettings:
    from core.pipeline import IngestSettings

    return IngestSettings()


def _erasures(args: argparse.Namespace, stores: Stores) -> SuppressionCheck:
    """The erasures a run on ``--endpoint-url`` honours: the table's own suppression entries (people
    erased with ``profilesync privacy erase`` are not resolved back). On the embedded default the run
    resolves into a new store of its own and honours those of ``--state-dir``'s embedded store
    (profilesync.resolve_erasures)."""
    from core.suppression import SuppressionCheck
    from profilesync.privacy_cli import audit_salt

    return SuppressionCheck(stores.suppression, audit_salt(args.state_dir, endpoint_url=args.endpoint_url))


def _identity_settings(args: argparse.Namespace) -> IngestSettings | None:
    """Ingest settings for ``--identity`` / ``--identity-model``, or the configuration document's
    ``identity`` section when neither is given (None: exact identifiers)."""
    from core.config import IdentitySection, find_config, load_config
    from core.link_settings import linkage_settings
    from core.pipeline import IngestSettings

    section, base = IdentitySection(), None
    found = find_config()
    if found is not None:
        section, base = load_config(found).identity, found.parent
    # `sync` has no --identity flags: the document decides.
    flag, model_flag = getattr(args, "identity", None), getattr(args, "identity_model", None)
    if flag is not None or model_flag is not None:
        mode = flag or "probabilistic"
        model = str(model_flag.resolve()) if model_flag is not None else section.model
        section = section.model_copy(update={"mode": mode, "model": model})
    linkage = linkage_settings(section, base)
    return None if linkage is None else IngestSettings(linkage=linkage)
