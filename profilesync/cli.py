"""The ``profilesync`` command line.

Exit codes: 0 ok, 1 the run failed, 2 the command refused to start (usage, configuration,
credentials, paths); see ``profilesync.cli_errors``, where every failure becomes one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from core.errors import ConnectorConfigError
from core.schema import Quarantined, RecordDraft
from profilesync.cli_errors import EXIT_USAGE, UsageError, describe_failure
from profilesync.identity_cli import add_identity_parser, run_identity
from profilesync.store_arguments import add_store_arguments

if TYPE_CHECKING:
    from core.pipeline import IngestSettings

DEFAULT_TABLE = "profilesync-dev-profiles"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (exit 2) instead of the usage text and the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"profilesync {version('profilesync')}"
    except PackageNotFoundError:  # a source tree that was never pip-installed
        return "profilesync (source tree, not installed)"


def _add_common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--log-level`` and ``--debug`` on the top parser and every subcommand, so they may come before
    or after the command; subcommands default to SUPPRESS so they never undo the top parser's value."""
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="WARNING" if top else argparse.SUPPRESS,
        help="what to log on stderr (default WARNING)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else default,
        help="print the traceback of a failure, and log at DEBUG",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _add_common_options(child, top=False)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="profilesync", description=__doc__)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)
    resolve = sub.add_parser(
        "resolve",
        help="resolve a JSON-lines file of records into merged profiles",
        description="Ingest INPUT (one flat record per line) into the profile store and write one "
        "merged profile per line to --out.",
    )
    resolve.add_argument("input", type=Path, help="JSON-lines file, one record per line")
    resolve.add_argument("--out", type=Path, required=True, help="where to write the profiles (JSON lines)")
    resolve.add_argument(
        "--quarantine",
        type=Path,
        default=None,
        help="where to write quarantined records (default: OUT.quarantine.jsonl)",
    )
    resolve.add_argument(
        "--endpoint-url",
        default=None,
        help="a DynamoDB endpoint (DynamoDB Local, AWS); default: an embedded SQLite store, "
        "made next to --out for the run and removed after it",
    )
    resolve.add_argument("--table", default=DEFAULT_TABLE, help=f"table name (default {DEFAULT_TABLE})")
    resolve.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".profilesync"),
        help="with --endpoint-url, where the audit salt is kept when none is configured, so that people "
        "erased from the table are not resolved back into it (default .profilesync/)",
    )
    resolve.add_argument(
        "--region",
        "--default-region",
        dest="default_region",
        default="US",
        help="ISO 3166-1 alpha-2 region of phone numbers written without a country code, for "
        "records that name no country of their own (default US)",
    )
    resolve.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="records per ingest batch (default 20,000 on the embedded store, whose new customers a "
        "batch founds together; 100 with --endpoint-url)",
    )
    resolve.add_argument(
        "--identity",
        choices=("exact", "probabilistic"),
        default=None,
        help="how records join: exact identifiers, or the probabilistic link graph (default: the "
        "configuration document's identity.mode, else exact)",
    )
    resolve.add_argument(
        "--identity-model", type=Path, default=None, help="a model file from `profilesync identity train`"
    )
    resolve.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    connectors = sub.add_parser("connectors", help="list the installed connectors")
    connectors_sub = connectors.add_subparsers(dest="connectors_command", required=True)
    listing = connectors_sub.add_parser("list", help="list connectors, their credentials and options")
    listing.add_argument(
        "--verbose", "-v", action="store_true", help="show credentials (env vars), options, limits"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")

    connector = sub.add_parser("connector", help="create a new connector package")
    connector_sub = connector.add_subparsers(dest="connector_command", required=True)
    new = connector_sub.add_parser(
        "new",
        help="scaffold a connector package that passes its own tests",
        description="Write DIR/NAME: a declaration built with the connector SDK, its field mapping, "
        "push and erase hooks, a sandbox, a fixture, and tests running the shared contract suite. "
        "Run them with `pytest DIR/NAME/tests`; see docs/connectors.md.",
    )
    new.add_argument("name", help="connector name: lower-case letters, digits, underscores")
    new.add_argument(
        "--dir", type=Path, default=Path("connectors"), help="where to create it (default connectors/)"
    )

    sandbox = sub.add_parser(
        "sandbox",
        help="serve a connector's fake vendor API on 127.0.0.1",
        description="Serve NAME's sandbox (a faithful fake of the vendor API, seeded with generated "
        "people) until interrupted. Point the vendor's SDK or `profilesync sync --base-url` at it.",
    )
    sandbox.add_argument("name", help="connector name, e.g. hubspot")
    sandbox.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    sandbox.add_argument("--token", default=None, help="the credential the sandbox accepts")
    sandbox.add_argument("--seed", type=int, default=7, help="population seed (default 7)")
    sandbox.add_argument("--people", type=int, default=200, help="people to generate (default 200)")

    sync = sub.add_parser(
        "sync",
        help="pull one connector, resolve and merge, push changed profiles back",
        description="Run pull -> resolve -> merge -> push for one connector. Credentials come from "
        "the environment variables `profilesync connectors list --verbose` names.",
    )
    sync.add_argument("--connector", required=True, help="connector name, e.g. hubspot")
    sync.add_argument("--base-url", default=None, help="vendor API base URL (default: the vendor's)")
    sync.add_argument("--since", default=None, help="ISO date or time to pull changes from")
    sync.add_argument("--full", action="store_true", help="ignore the saved cursor: full refresh")
    sync.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="a connector option, repeatable"
    )
    sync.add_argument("--no-push", action="store_true", help="pull and merge only")
    sync.add_argument(
        "--region",
        default=None,
        help="ISO 3166-1 alpha-2 region of phone numbers written without a country code, for records "
        "that name no country of their own (default: the instance's region in the configuration "
        "document, else its defaults.region, else US)",
    )
    sync.add_argument(
        "--push-mode",
        choices=("update", "upsert"),
        default=None,
        help="update: push only to people the tool holds; upsert: also create people whose consent "
        "allows the tool's channel (default: the connector's, or PROFILESYNC_<CONNECTOR>_PUSH_MODE)",
    )
    sync.add_argument("--sandbox", action="store_true", help="run against the connector's in-process sandbox")
    add_store_arguments(sync, DEFAULT_TABLE)
    sync.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    from profilesync.privacy_cli import add_parser as add_privacy_parser

    add_privacy_parser(sub, DEFAULT_TABLE)
    demo = sub.add_parser(
        "demo",
        help="run pull -> merge -> push for the tools' sandboxes (HubSpot, Mailchimp, Shopify), twice",
        description="Seed the tools' sandboxes (--tools) with overlapping generated people and run the "
        "Lambda handlers on an embedded AWS built from template.yaml: a full round, changes in the tools, "
        "and an incremental round. Writes OUT/profiles.jsonl and OUT/report.html.",
    )
    demo.add_argument("--people", type=int, default=3000, help="people to generate (default 3000)")
    demo.add_argument("--seed", type=int, default=7, help="population seed (default 7)")
    demo.add_argument("--out", type=Path, default=Path("out"), help="output directory (default out/)")
    demo.add_argument(
        "--published-limits",
        action="store_true",
        help="run the sandboxes at the vendors' entry-plan rate limits (slower)",
    )
    demo.add_argument(
        "--tools",
        default="hubspot,mailchimp,shopify",
        help="comma-separated connectors whose sandboxes take part, any with a sandbox "
        "(see `profilesync connectors list`; default hubspot,mailchimp,shopify)",
    )
    add_identity_parser(sub)
    from profilesync import ops_cli, profile_commands
    from profilesync.review_cli import add_explain_parser

    add_explain_parser(sub)

    ops_cli.register(sub)
    profile_commands.add_parsers(sub)
    _add_common_options(parser, top=True)
    return parser


def _resolve(args: argparse.Namespace) -> int:
    from connectors.jsonl import read_jsonl
    from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
    from core.normalise import NormaliseOptions
    from core.runtime import bulk_gc
    from profilesync import cli_checks
    from profilesync.parallel_normalise import NormalisingWorker, usable_cores, worker_wanted
    from profilesync.progress import Progress, count_lines
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
    options = NormaliseOptions(default_region=region)
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
            # A store of this run's own: its commits are grouped (core.storage.sqlite_database).
            path = stack.enter_context(temporary_store_path(args.out.parent))
            stores = stack.enter_context(
                open_stores(endpoint_url=None, table=args.table, path=path, durable=False)
            )
            # Ended (committed) when the records are resolved: the output is read by two processes.
            grouped = stack.enter_context(ExitStack())
            grouped.enter_context(stores.database.grouped_commits(seconds=5.0))
        else:
            stores = stack.enter_context(open_stores(endpoint_url=args.endpoint_url, table=args.table))
        store = stores.profiles
        qfile = stack.enter_context(quarantine_path.open("w", encoding="utf-8"))
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
        # the records are resolved (see core.runtime).
        stack.enter_context(bulk_gc())
        settings = _identity_settings(args)
        if args.endpoint_url is not None:
            # A table on an endpoint may hold erasures (`profilesync privacy erase`, the deployed
            # stack): their people are not resolved back into it. The run's own embedded store is
            # new every run, so nobody in it was ever erased.
            from core.pipeline import IngestSettings
            from core.suppression import SuppressionCheck
            from profilesync.privacy_cli import audit_salt

            check = SuppressionCheck(
                stores.suppression, audit_salt(args.state_dir, endpoint_url=args.endpoint_url)
            )
            settings = dataclasses.replace(settings or IngestSettings(), suppression=check)
        erased = None
        if settings is not None and settings.suppression is not None:
            from profilesync.erased_quarantine import erased_check

            erased = erased_check(settings.suppression, options)
        report = resolve(
            chained() if worker is None else worker,
            store,
            options=options,
            settings=settings,
            batch_size=args.batch_size,
            quarantine=lambda q: write_quarantine_line(q, qfile),
            progress=progress,
            erased=erased,
        )
        if args.endpoint_url is None:
            grouped.close()
        reading.total = report.read if reading.total else None  # blank lines are no records
        reading.finish(report.read, f"{report.quarantined:,} quarantined")
        writing = Progress("write", unit="profiles", quiet=args.quiet)
        with args.out.open("w", encoding="utf-8") as out:
            if args.endpoint_url is None:  # the SQLite store's JSON as is, half in a second process
                parallel = usable_cores() >= 2
                report.profiles = write_store(path, out, progress=writing.update, parallel=parallel)
            else:
                report.profiles = write_profiles(store.iter_profiles(), out, progress=writing.update)
        writing.finish(report.profiles)
    for line in report.lines():
        print(line)
    print(f"wrote {report.profiles:,} profiles to {args.out}")
    if report.quarantined:
        print(f"wrote {report.quarantined:,} quarantined records to {quarantine_path}")
    return 0


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


def _connectors_list(args: argparse.Namespace) -> int:
    from profilesync.registry import discover
    from profilesync.syncrun import describe_plugin

    if args.json:
        import json

        rows = [
            {
                "name": found.name,
                "origin": found.origin,
                "target": found.target,
                "error": found.error,
                **(_spec_json(found.plugin) if found.plugin is not None else {}),
            }
            for found in discover()
        ]
        print(json.dumps(rows, indent=2))
        return 0
    broken = 0
    for found in discover():
        if found.plugin is None:
            broken += 1
            print(f"{found.name:<12} {'BROKEN':<10} from {found.origin}: {found.error}")
            continue
        lines = describe_plugin(found.plugin, args.verbose)
        lines[0] += f"  ({found.origin})"
        if args.verbose:
            lines.insert(1, f"  from:         {found.origin} ({found.target})")
        for line in lines:
            print(line)
    if broken:
        print(f"{broken} connector(s) could not be loaded; the others work", file=sys.stderr)
    return 0


def _spec_json(plugin: object) -> dict[str, object]:
    from connectors._http import secret_env_var

    spec = plugin.spec  # type: ignore[attr-defined]
    return {
        "kind": spec.kind,
        "capabilities": sorted(spec.capabilities),
        "credentials": {c.name: secret_env_var(c.name) for c in spec.credentials},
        "options": dict(spec.options),
        "sandbox": plugin.sandbox is not None,  # type: ignore[attr-defined]
    }


def _connector_new(args: argparse.Namespace) -> int:
    from profilesync.scaffold import scaffold

    files = scaffold(args.name, args.dir)
    root = args.dir / args.name
    print(f"created {root} ({len(files)} files):")
    for path in files:
        print(f"  {path}")
    print(f"next: pytest {root / 'tests'}   (then fill in the vendor; see docs/connectors.md)")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from connectors._sandbox import SandboxServer
    from profilesync.registry import get

    plugin = get(args.name)
    if plugin.sandbox is None:
        raise ConnectorConfigError(f"connector {args.name!r} ships no sandbox")
    if args.people < 0:
        raise UsageError("--people must not be negative")
    kwargs = {"people": args.people, "seed": args.seed}
    if args.token:
        kwargs["token"] = args.token
    sandbox = plugin.sandbox(**kwargs)
    try:
        server = SandboxServer(sandbox, "127.0.0.1", args.port)
    except OSError as error:
        from profilesync.cli_checks import port_in_use

        raise port_in_use(error, "127.0.0.1", args.port) from None
    settings = sandbox.settings(transport=False)
    print(f"{plugin.spec.name} sandbox on {server.url} ({args.people} people, seed {args.seed})")
    for cred in plugin.spec.credentials:
        print(f"  credential {cred.name}: {settings.credentials.get(cred.name, '')}")
    for option, value in settings.options.items():
        print(f"  option {option}: {value}")
    print(f"  try: profilesync sync --connector {plugin.spec.name} --base-url {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(f"served {sandbox.stats.requests:,} requests ({sandbox.stats.throttled:,} throttled)")
    return 0


def _sync_region(args: argparse.Namespace) -> str:
    """The phone region of ``sync``: ``--region``, else the configuration document's for the
    instance (core.config.ProfileSyncConfig.region), else the default."""
    from profilesync import cli_checks
    from profilesync.ops_cli import configured_region

    if args.region is not None:
        return cli_checks.check_region(args.region, "--region")
    return configured_region(args.connector)


def _sync(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from connectors.instances import build_instance
    from core.connector import ConnectorSettings, StartsFromDate
    from core.normalise import NormaliseOptions
    from core.sync import SAVED
    from profilesync.ops_cli import configured_instance
    from profilesync.registry import get
    from profilesync.stores import IN_MEMORY_STORE, old_embedded_state, open_stores, store_path
    from profilesync.syncrun import Progress, run_sync, settings_from_environment, summary_lines

    # An instance of the configuration document (shopify-eu) syncs with its own options and secret.
    configured = configured_instance(args.connector, sandbox=args.sandbox)
    region = _sync_region(args)
    plugin = configured[0] if configured else get(args.connector)
    options: dict[str, str] = {}
    for pair in args.option:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--option takes KEY=VALUE, got {pair!r}")
        options[key.strip()] = value.strip()
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--since {args.since!r} is not an ISO date or time (e.g. 2026-11-01)") from None
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
    if configured:
        settings: ConnectorSettings = configured[1]
        if args.push_mode is not None:
            settings = dataclasses.replace(settings, push_mode=args.push_mode)
    elif args.sandbox:
        if plugin.sandbox is None:
            raise ConnectorConfigError(f"connector {args.connector!r} ships no sandbox")
        settings = dataclasses.replace(plugin.sandbox().settings(), push_mode=args.push_mode)
    else:
        settings = settings_from_environment(
            plugin, base_url=args.base_url, options=options, push_mode=args.push_mode
        )
    if args.endpoint_url is not None:
        from profilesync import cli_checks

        cli_checks.check_aws_credentials(args.endpoint_url)
        cli_checks.probe_endpoint(args.endpoint_url)
    with ExitStack() as stack:
        path = None
        if args.endpoint_url is None:
            # The in-process sandbox starts afresh every run, and so does its store.
            path = IN_MEMORY_STORE if args.sandbox else store_path(args.state_dir, args.table)
            old = None if args.sandbox else old_embedded_state(args.state_dir, args.table)
            if old is not None:
                print(
                    f"profilesync sync: {old} (an older profilesync's embedded state) is not read; this "
                    f"run starts afresh (a full refresh) in {path}; delete the old file when done",
                    file=sys.stderr,
                )
        stores = stack.enter_context(open_stores(endpoint_url=args.endpoint_url, table=args.table, path=path))
        from core.suppression import SuppressionCheck
        from profilesync.privacy_cli import audit_salt

        # People erased with `profilesync privacy erase` (or by the deployed stack) are not synced
        # back. A --sandbox run's store lives for the run only: nobody in it was ever erased.
        suppression = None
        if not args.sandbox or args.endpoint_url is not None:
            salt = audit_salt(args.state_dir, endpoint_url=args.endpoint_url)
            suppression = SuppressionCheck(stores.suppression, salt)
        connector = build_instance(args.connector, plugin, settings)
        stack.callback(connector.close)
        cursor: str | None = SAVED
        if args.full:
            cursor = None
        elif since is not None:
            if not isinstance(connector, StartsFromDate):
                raise ConnectorConfigError(f"connector {args.connector!r} cannot start from a date")
            cursor = connector.cursor_since(since)
        outcome = run_sync(
            connector,
            stores.profiles,
            stores.sync_state,
            cursor=cursor,
            push=not args.no_push,
            progress=Progress(quiet=args.quiet),
            suppression=suppression,
            push_mode=settings.push_mode,
            leases=stores.leases,
            where=stores.where,
            options=NormaliseOptions(default_region=region),
            erasure=stores.erasure,
            # The document's identity section, as resolve and the merge function read it.
            settings=_identity_settings(args),
        )
    for line in summary_lines(outcome):
        print(line)
    failed = outcome.push is not None and bool(outcome.push.failed)
    return 1 if failed else 0


def _demo(args: argparse.Namespace) -> int:
    from profilesync.demo import run_demo, summary_lines

    if args.people < 1:
        raise UsageError("--people must be at least 1")
    from profilesync.demo import demo_tools

    tools = [t.strip() for t in str(args.tools).split(",") if t.strip()]
    unknown = [t for t in tools if t not in demo_tools()]
    if not tools or unknown:
        raise UsageError(
            f"--tools {','.join(unknown) or '(none)'} is not a connector with a sandbox; "
            f"choose from {','.join(demo_tools())}"
        )
    result = run_demo(
        people=args.people,
        seed=args.seed,
        out_dir=args.out,
        published_limits=args.published_limits,
        tools=tools,
    )
    print()
    for line in summary_lines(result):
        print(line)
    return 0


def _configure_logging(args: argparse.Namespace) -> None:
    level = "DEBUG" if args.debug else args.log_level
    root = logging.getLogger()
    if not any(getattr(h, "_profilesync", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._profilesync = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    from core.log_privacy import keep_personal_data_out_of_library_logs

    keep_personal_data_out_of_library_logs()  # httpx and botocore log URLs and bodies naming people


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``profilesync`` console script: runs one command, maps failures to one
    line on stderr and an exit code (``profilesync.cli_errors``)."""
    args = _parser().parse_args(argv)
    _configure_logging(args)
    try:
        command = getattr(args, "run", None)
        if command is not None:
            return int(command(args))
        if args.command == "resolve":
            return _resolve(args)
        if args.command == "connectors":
            return _connectors_list(args)
        if args.command == "connector":
            return _connector_new(args)
        if args.command == "sandbox":
            return _sandbox(args)
        if args.command == "sync":
            return _sync(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "identity":
            return run_identity(args)
        if args.command == "privacy":
            from profilesync.privacy_cli import run as run_privacy

            return run_privacy(args)
    except Exception as error:  # every failure ends as one line and an exit code
        return _fail(args, error)
    except KeyboardInterrupt as error:
        return _fail(args, error)
    return EXIT_USAGE


def _fail(args: argparse.Namespace, error: BaseException) -> int:
    failure = describe_failure(error)
    if args.debug:
        traceback.print_exception(error, file=sys.stderr)
    print(f"profilesync {args.command}: {failure.message}", file=sys.stderr)
    return failure.code


if __name__ == "__main__":
    sys.exit(main())
