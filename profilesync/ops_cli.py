"""``profilesync status`` and ``profilesync config check``: the operator's commands.

Registered on the main parser by ``register`` (one line in profilesync/cli.py); each command sets
``run`` so the CLI's ``main`` needs no branch of its own for them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_TABLE = "profilesync-dev-profiles"


def register(sub: Any) -> None:
    """Add ``status`` and ``config`` to the CLI's subparsers."""
    status = sub.add_parser(
        "status",
        help="each connector instance's last run, cursor and lag, and the stack's queue depths",
        description="Show where each instance of the configuration document stands: its last run, "
        "cursor, lag against its freshness, and whether a pull runs now; with --endpoint-url, also the "
        "deployed stack's queues (ingest backlog, dead letters, parked push batches).",
    )
    status.add_argument("--config", type=Path, default=None, help="the configuration document")
    status.add_argument("--endpoint-url", default=None, help="DynamoDB endpoint; default: the local store")
    status.add_argument("--table", default=None, help="table name (default profilesync-<stage>-profiles)")
    status.add_argument(
        "--stage", default="dev", help="the stack's Stage, which names its queues (default dev)"
    )
    status.add_argument(
        "--state-dir", type=Path, default=Path(".profilesync"), help="the local store (default .profilesync/)"
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(run=run_status)

    config = sub.add_parser("config", help="check the configuration document")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser(
        "check",
        help="validate the document: syntax, instances, vendors, options, schedules",
        description="Validate the configuration document as the functions will read it, and that every "
        "instance names an installed connector and only options it takes. Exit 0 when sound, 2 when not.",
    )
    check.add_argument("path", type=Path, nargs="?", default=None, help="default: ./profilesync.yaml")
    check.add_argument("--json", action="store_true", help="print the instances as JSON")
    check.set_defaults(run=run_config_check)


def _document(path: Path | None) -> tuple[Any, Path | None]:
    from core.config import ProfileSyncConfig, find_config, load_config

    found = find_config(path)
    return (load_config(found) if found is not None else ProfileSyncConfig()), found


def configured_instance(name: str, *, sandbox: bool) -> tuple[Any, Any] | None:
    """For ``profilesync sync --connector NAME``: when the configuration document in use declares the
    instance NAME, its vendor's plugin and the settings it configures (options, base URL, its secret;
    the sandbox's own settings with ``sandbox``); None when no document declares it."""
    from connectors.instances import instance_settings
    from core.errors import ConnectorConfigError
    from profilesync.registry import get

    config, found = _document(None)
    if found is None or name not in config.connectors:
        return None
    instance = config.instance(name)
    plugin = get(config.vendor(name))
    if not sandbox:
        settings = instance_settings(name, instance, plugin)
    elif plugin.sandbox is None:
        raise ConnectorConfigError(f"connector {config.vendor(name)!r} ships no sandbox")
    else:
        from profilesync.demo_sandboxes import run_sandbox

        settings = run_sandbox(plugin).settings()
    if instance.push_mode is not None:
        settings = dataclasses.replace(settings, push_mode=instance.push_mode)
    return plugin, settings


def configured_region(name: str) -> str:
    """For ``profilesync sync --connector NAME`` without ``--region``: the phone region the
    configuration document in use sets for the instance (its ``region``, else ``defaults.region``);
    the default region when there is no document."""
    return str(_document(None)[0].region(name))


def run_config_check(args: argparse.Namespace) -> int:
    from connectors.instances import check_config
    from core.errors import ConfigurationError
    from profilesync.registry import get

    config, found = _document(args.path)
    if found is None:
        raise ConfigurationError(
            "no configuration document: create profilesync.yaml (docs/configuration.md) or pass its path"
        )
    problems = check_config(config, get)
    if problems:
        raise ConfigurationError(f"{found}: " + "; ".join(problems))
    rows = [
        {
            "instance": name,
            "vendor": config.vendor(name),
            "schedule": config.schedule(name).expression,
            "freshness_seconds": int(f.total_seconds()) if (f := config.freshness(name)) else None,
            "secret": config.instance(name).secret or name,
            "region": config.region(name),
        }
        for name in sorted(config.connectors)
    ]
    if args.json:
        print(json.dumps({"document": str(found), "instances": rows}, indent=2))
        return 0
    print(f"{found}: {len(rows)} connector instance(s), sound")
    for row in rows:
        print(
            f"  {row['instance']:<16} {row['vendor']:<12} {row['schedule']:<28} phones {row['region']}  "
            f"secret {row['secret']}"
        )
    return 0


def run_status(args: argparse.Namespace) -> int:
    import boto3

    from core.storage.dynamodb import DynamoDBSyncStateStore
    from core.storage.dynamodb_lease import DynamoDBLeaseStore
    from profilesync import cli_checks, status
    from profilesync.embedded import dynamodb_client

    config, _ = _document(args.config)
    table = args.table or f"profilesync-{args.stage}-profiles"
    notes: list[str] = []
    with ExitStack() as stack:
        queue_depth = None
        if args.endpoint_url is None:
            # The embedded SQLite store `profilesync sync` keeps.
            local = _local_state(stack, args.table or DEFAULT_TABLE, args.state_dir, notes)
            names = sorted(config.connectors) or local.sync_state.connectors()
            state: Any = local.sync_state
            leases = local.leases  # a sync holds its connector's lease while it runs
        else:
            cli_checks.check_aws_credentials(args.endpoint_url)
            cli_checks.probe_endpoint(args.endpoint_url)
            client = dynamodb_client(args.endpoint_url)
            client.describe_table(TableName=table)  # a wrong --table or --stage fails as one line here
            queue_depth = status.sqs_queue_depth(boto3.client("sqs"), args.stage, notes)
            names = sorted(config.connectors) or _saved_names(client, table)
            state = DynamoDBSyncStateStore(client, table)
            leases = DynamoDBLeaseStore(client, table)
        report = status.gather(
            config,
            state,
            now=datetime.now(UTC),
            names=names,
            leases=leases,
            queue_depth=queue_depth,
        )
    report.notes += notes
    print(status.as_json(report) if args.json else "\n".join(status.lines(report)))
    return 0


def _local_state(stack: ExitStack, table: str, state_dir: Path, notes: list[str]) -> Any:
    """The stores of the embedded store ``profilesync sync`` keeps in ``state_dir``, read only (an
    empty one, with a note, when there is none yet: status creates no store)."""
    from profilesync.stores import IN_MEMORY_STORE, open_stores, store_path

    saved = store_path(state_dir, table)
    if not saved.is_file():
        notes.append(f"no local state in {saved}: run profilesync sync first, or pass --endpoint-url")
        return stack.enter_context(open_stores(endpoint_url=None, table=table, path=IN_MEMORY_STORE))
    # Read only: status changes nothing, and works on a folder it may not write (a copy, a mount).
    return stack.enter_context(open_stores(endpoint_url=None, table=table, path=saved, read_only=True))


def _saved_names(client: Any, table: str) -> list[str]:
    """Without a configuration document: every name with a SYNC# state (one Scan, filtered)."""
    names: set[str] = set()
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(PK, :p) AND SK = :s",
        "ExpressionAttributeValues": {":p": {"S": "SYNC#"}, ":s": {"S": "STATE"}},
        "ProjectionExpression": "PK",
    }
    while True:
        page = client.scan(**kwargs)
        names.update(item["PK"]["S"][len("SYNC#") :] for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return sorted(names)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


__all__ = ["configured_instance", "register", "run_config_check", "run_status"]
