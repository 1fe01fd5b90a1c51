"""``profilesync sync``: pull one connector, resolve and merge, push changed profiles back."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from contextlib import ExitStack

from core.errors import ConnectorConfigError
from profilesync.cli_errors import UsageError
from profilesync.resolve_cli import _identity_settings


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
    from core.refresh_sweep import SweepGuard
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
        from profilesync.demo_sandboxes import run_sandbox

        settings = dataclasses.replace(run_sandbox(plugin).settings(), push_mode=args.push_mode)
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
            sweep=SweepGuard(allow_mass=args.allow_mass_retirement),
        )
    for line in summary_lines(outcome):
        print(line)
    failed = outcome.push is not None and bool(outcome.push.failed)
    return 1 if failed else 0
