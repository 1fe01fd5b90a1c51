"""The ``profilesync`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

from core.errors import ProfileSyncError
from core.schema import Quarantined, RecordDraft

DEFAULT_TABLE = "profilesync-dev-profiles"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="profilesync", description=__doc__)
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
        help="a DynamoDB endpoint (DynamoDB Local, AWS); default: the embedded store",
    )
    resolve.add_argument("--table", default=DEFAULT_TABLE, help=f"table name (default {DEFAULT_TABLE})")
    resolve.add_argument(
        "--default-region",
        default="US",
        help="region for phone numbers written without a country code (default US)",
    )
    resolve.add_argument("--batch-size", type=int, default=100, help="records per ingest batch (default 100)")
    return parser


def _resolve(args: argparse.Namespace) -> int:
    from connectors.jsonl import read_jsonl
    from core.normalise import NormaliseOptions
    from core.storage.dynamodb import DynamoDBProfileStore
    from profilesync.embedded import dynamodb_client, embedded_aws
    from profilesync.resolve import (
        default_quarantine_path,
        resolve,
        write_profiles,
        write_quarantine_line,
    )
    from profilesync.template import create_table

    if args.batch_size < 1:
        raise SystemExit("profilesync resolve: --batch-size must be at least 1")
    drafts = read_jsonl(args.input)
    first = next(drafts, None)  # surfaces an unreadable file before any store is set up
    args.out.parent.mkdir(parents=True, exist_ok=True)
    quarantine_path = args.quarantine or default_quarantine_path(args.out)
    with ExitStack() as stack:
        if args.endpoint_url is None:
            stack.enter_context(embedded_aws())
        client = dynamodb_client(args.endpoint_url)
        try:
            client.describe_table(TableName=args.table)
        except client.exceptions.ResourceNotFoundException:
            create_table(client, args.table)
        store = DynamoDBProfileStore(client, args.table)
        qfile = stack.enter_context(quarantine_path.open("w", encoding="utf-8"))
        tty = sys.stderr.isatty()

        def progress(report: object) -> None:
            if tty:
                print(f"\r  {getattr(report, 'read', 0):,} records", end="", file=sys.stderr, flush=True)

        def chained() -> Iterator[RecordDraft | Quarantined]:
            if first is not None:
                yield first
            yield from drafts

        report = resolve(
            chained(),
            store,
            options=NormaliseOptions(default_region=args.default_region.upper()),
            batch_size=args.batch_size,
            quarantine=lambda q: write_quarantine_line(q, qfile),
            progress=progress,
        )
        if tty:
            print(file=sys.stderr)
        with args.out.open("w", encoding="utf-8") as out:
            report.profiles = write_profiles(store.iter_profiles(), out)
    for line in report.lines():
        print(line)
    print(f"wrote {report.profiles:,} profiles to {args.out}")
    if report.quarantined:
        print(f"wrote {report.quarantined:,} quarantined records to {quarantine_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``profilesync`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "resolve":
            return _resolve(args)
    except ProfileSyncError as error:
        print(f"profilesync {args.command}: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
