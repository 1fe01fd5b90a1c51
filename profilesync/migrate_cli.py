"""``profilesync migrate rekey-identifiers``: move a DynamoDB table's identifier items from their value
(``IDENT#email#ann@example.com``, the layout before this version) to their keyed hash
(``IDENT#<hash>``, core.storage.ident_keys), then mark the table so that the stores stop reading the
old keys.

Resumable and idempotent: each key's items move in their own transactions (core.storage.ident_rekey),
so a run that is stopped leaves every key either moved or not, and the next run moves what is left;
a run over a moved table moves nothing and writes the marker again. The marker is written only when
a Scan finds no item under a value any more. It refuses (moving nothing) when an identifier item
already keyed by hash, as the functions of this version write them, is keyed with another salt than
the one it was given. Progress goes to stderr every ``--progress`` keys, the
counts to stdout as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from profilesync.store_arguments import add_store_arguments

DEFAULT_TABLE = "profilesync-dev-profiles"


def register(sub: Any) -> None:
    """Add ``migrate rekey-identifiers`` to the CLI's subcommands."""
    migrate = sub.add_parser("migrate", help="upgrade a DynamoDB table written by an earlier version")
    actions = migrate.add_subparsers(dest="migrate_command", required=True)
    text = (
        "key the table's identifier items by the keyed hash of the identifier (audit salt) instead of "
        "its value, so that the table's stream never carries an email or phone; resumable, run it "
        "again until it says the table is marked (docs/privacy.md, 'Upgrade: identifier keys')"
    )
    rekey = actions.add_parser("rekey-identifiers", help=text, description=text)
    add_store_arguments(rekey, DEFAULT_TABLE)
    rekey.add_argument("--progress", type=int, default=1000, help="report every N keys (default 1000)")
    rekey.add_argument(
        "--development-salt",
        action="store_true",
        help="key with the public development salt when no audit salt is configured (a local table only)",
    )
    rekey.set_defaults(run=run_rekey)


def run_rekey(args: argparse.Namespace) -> int:
    from core.storage.ident_rekey import IdentLayout
    from profilesync.cli_errors import UsageError
    from profilesync.stores import open_stores

    if args.endpoint_url is None:
        raise UsageError(
            "migrate rekey-identifiers moves a DynamoDB table's items: give --endpoint-url (the "
            "embedded SQLite store keeps its identifier rows by key and needs no migration)"
        )
    from core.storage.ident_keys import DEFAULT_IDENT_SALT
    from profilesync.stores import table_salt

    if table_salt() == DEFAULT_IDENT_SALT and not args.development_salt:
        # Keyed with another salt than the stack's, every identifier would be out of its functions'
        # reach, and no later run could find the items to move them again.
        raise UsageError(
            "no audit salt is configured: set PROFILESYNC_AUDIT_SALT to the stack's audit-salt secret "
            "(or PROFILESYNC_SECRETS_PREFIX to read it), or give --development-salt for a local table"
        )
    with open_stores(endpoint_url=args.endpoint_url, table=args.table) as stores:
        layout: IdentLayout = stores.profiles.ident_layout  # type: ignore[attr-defined]
        try:
            counts = rekey_table(layout, progress=max(1, int(args.progress)))
        except ValueError as error:
            raise UsageError(str(error)) from error
    print(json.dumps(counts, sort_keys=True))
    return 0


def rekey_table(layout: Any, *, progress: int = 1000, out: Any = None) -> dict[str, Any]:
    """Move every identifier partition still under its value, then mark the table; the counts.
    Raises ValueError, moving nothing, when the table holds identifier items keyed with another salt
    than ``layout``'s (the items moved would be out of the functions' reach, and the table marked)."""
    out = out or sys.stderr
    if (foreign := layout.keyed_by_another_salt()) is not None:
        raise ValueError(
            f"the table's identifier item {foreign} is keyed with another salt than the one given: "
            "give the stack's audit-salt secret (PROFILESYNC_AUDIT_SALT); nothing was moved"
        )
    keys = moved = 0
    for key in layout.old_keys():
        moved += layout.move([key])
        keys += 1
        if keys % progress == 0:
            print(f"profilesync migrate: {keys} identifiers moved ({moved} items)", file=out, flush=True)
    left = sum(1 for _ in layout.old_keys())
    if left == 0:
        layout.mark_rekeyed()
    print(
        f"profilesync migrate: {keys} identifiers moved ({moved} items); "
        + ("table marked: stores read keyed identifiers only" if left == 0 else f"{left} left: run again"),
        file=out,
        flush=True,
    )
    return {"identifiers": keys, "items": moved, "left": left, "marked": left == 0}


__all__ = ["register", "rekey_table", "run_rekey"]
