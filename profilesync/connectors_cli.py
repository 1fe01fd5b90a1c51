"""``profilesync connectors list``, ``profilesync connector new`` and ``profilesync sandbox``: the
installed connectors, a new connector package, a connector's fake vendor API."""

from __future__ import annotations

import argparse
import sys

from core.errors import ConnectorConfigError
from profilesync.cli_errors import UsageError


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
