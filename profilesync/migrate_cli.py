"""``profilesync migrate rekey-identifiers``: move a DynamoDB table's identifier items from their value
(``IDENT#email#ann@example.com``, the layout before priv29) to their keyed hash
(``IDENT#<hash>``, core.storage.ident_keys), and its link and history index items from the unkeyed
hash of what they index (``BLOCK#``/``NAMED#`` and BLAKE2b, the layout before priv30) to its keyed
hash (core.storage.index_rekey), then mark the table so that the stores stop reading the old keys.

Resumable and idempotent: each key's items move in their own transactions (core.storage.ident_rekey),
so a run that is stopped leaves every key either moved or not, and the next run moves what is left;
a run over a moved table moves nothing and writes the marker again. The marker is written only when
a Scan finds no item under a value any more, and says the indexes are keyed when none is left under
an unkeyed hash; it holds the salt's check value (core.key_hashing.salt_check). It refuses (moving
nothing) a salt other than the one the table's marker was written with, or than the one an
identifier item already keyed by hash, as the functions of this version write them, was keyed with.
Progress goes to stderr every ``--progress`` keys, the counts to stdout as one JSON line.
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
        "its value, and its link and history index items (BLOCK#, NAMED#) by a keyed hash instead of "
        "an unkeyed one, so that the table's stream never carries an email or phone nor a hash a "
        "guess of one can be checked against; resumable, run it again until it says the table is "
        "marked (docs/privacy.md, 'Upgrade: identifier keys', 'Upgrade: index keys')"
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
            counts = rekey_table(layout, progress=max(1, int(args.progress)), index=stores.profiles)
        except ValueError as error:
            raise UsageError(str(error)) from error
    print(json.dumps(counts, sort_keys=True))
    return 0


def rekey_table(layout: Any, *, progress: int = 1000, out: Any = None, index: Any = None) -> dict[str, Any]:
    """Move every identifier partition still under its value, and with ``index`` (the table's
    ``DynamoDBProfileStore``) every index item under an unkeyed hash, then mark the table; the counts.
    Raises ValueError, moving nothing, when the table's marker holds another salt's check value
    (SaltMismatchError) or the table holds identifier items keyed with another salt than
    ``layout``'s (the items moved would be out of the functions' reach, and the table marked)."""
    out = out or sys.stderr
    layout.rekeyed()  # reads the marker: another salt's check value is refused here
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
    counts: dict[str, Any] = {"identifiers": keys, "items": moved}
    if index is not None:
        from core.storage.index_rekey import move_index_items, unkeyed_index_items

        counts.update(move_index_items(index, progress=progress, out=out))
        counts["index_left"] = sum(1 for _ in unkeyed_index_items(index))
    left = sum(1 for _ in layout.old_keys())
    keyed = index is not None and counts["index_left"] == 0
    if left == 0:
        layout.mark_rekeyed(index=keyed)
    done = "table marked: stores read keyed identifiers only" if left == 0 else f"{left} left: run again"
    if index is not None:
        done += (
            f"; index: {counts['blocks']} link items moved, {counts['histories']} histories' names "
            f"keyed, {counts['unkeyed_deleted']} unkeyed items deleted"
            + ("" if keyed else f", {counts['index_left']} left: run again")
        )
    print(f"profilesync migrate: {keys} identifiers moved ({moved} items); {done}", file=out, flush=True)
    return {
        **counts,
        "left": left,
        "marked": left == 0,
        **({"index_marked": keyed} if index is not None else {}),
    }


__all__ = ["register", "rekey_table", "run_rekey"]
