"""The ``profilesync`` command line.

Exit codes: 0 ok, 1 the run failed, 2 the command refused to start (usage, configuration,
credentials, paths); see ``profilesync.cli_errors``, where every failure becomes one line.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from profilesync.cli_errors import EXIT_USAGE, UsageError, describe_failure
from profilesync.connectors_cli import _connector_new, _connectors_list, _sandbox
from profilesync.identity_cli import add_identity_parser, run_identity
from profilesync.resolve_cli import _resolve
from profilesync.store_arguments import add_store_arguments
from profilesync.sync_cli import _sync

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
        "made next to --out for the run and removed after it (it keeps no history of its customers, "
        "which nothing reads before it is removed)",
    )
    resolve.add_argument("--table", default=DEFAULT_TABLE, help=f"table name (default {DEFAULT_TABLE})")
    resolve.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".profilesync"),
        help="where the embedded store (TABLE.sqlite3) and the audit salt are kept: people erased from "
        "it (or, with --endpoint-url, from the table) are not resolved back (default .profilesync/)",
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
        "--allow-mass-retirement",
        action="store_true",
        help="let a full refresh retire more than 10%% of the stored records it did not list (or all "
        "of them, when it listed none); without it such a sweep retires nothing and says why",
    )
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
    sync.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the connector's in-process sandbox (at the vendor's higher published plan, as "
        "the demo's)",
    )
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
    from profilesync import migrate_cli, ops_cli, profile_commands, repair_cli
    from profilesync.review_cli import add_explain_parser

    add_explain_parser(sub)

    ops_cli.register(sub)
    repair_cli.register(sub)
    migrate_cli.register(sub)
    profile_commands.add_parsers(sub)
    _add_common_options(parser, top=True)
    return parser


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
