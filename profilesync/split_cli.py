"""``profilesync split --event ID``: undo a merge from its history event, on the local store.

The same use case as the privacy function's ``split`` action (core.governance.unmerge), against the
embedded store ``profilesync sync`` keeps in ``--state-dir`` or a DynamoDB endpoint::

    profilesync profile show --email ann@example.com --history     # find the merge event's id
    profilesync split --event merge:cus_...:3f2a... --requested-by dpo

The answer is the function's JSON: the restored customer, the records moved back and any the merge
brought that are no longer there. Both customers' histories record the split with who asked, and
an ``AUDIT#split`` item records the request.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from typing import Any

from profilesync.store_arguments import add_store_arguments


def add_parser(sub: Any, default_table: str) -> None:
    """Register ``profilesync split`` on the CLI's subparsers."""
    split = sub.add_parser(
        "split",
        help="undo a merge from its history event (restores both customers)",
        description="Split the customer a merge absorbed back off its survivor, under its own id, from "
        "the merge's history event (its id is in `profilesync profile show --history`).",
    )
    split.add_argument("--event", required=True, help="the merge event's id: merge:<customer id>:<hash>")
    split.add_argument(
        "--requested-by", default=None, help="who asks (kept in the histories and the audit; default: you)"
    )
    add_store_arguments(split, default_table)
    split.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Undo the merge; print the answer. A split that cannot be made is a usage error (exit 2)."""
    from core.governance.errors import SplitRefusedError
    from core.governance.unmerge import split_from_event
    from profilesync.cli_errors import UsageError
    from profilesync.stores import existing_store_path, open_stores

    requested_by = args.requested_by or f"cli:{getpass.getuser()}"
    path = None
    if args.endpoint_url is None:
        path = existing_store_path(args.state_dir, args.table, "to split in")
    with open_stores(endpoint_url=args.endpoint_url, table=args.table, path=path) as stores:
        profiles: Any = stores.profiles
        try:
            outcome = split_from_event(profiles, profiles.history, args.event, actor=requested_by)
        except SplitRefusedError as error:
            raise UsageError(str(error)) from error
        request_id = f"local-{uuid.uuid4().hex[:12]}"
        stores.erasure.put_audit(outcome.audit(request_id, requested_by))
    answer = {"ok": True, "action": "split", "request_id": request_id, **outcome.as_json()}
    print(json.dumps(answer, indent=2))
    if outcome.already_split:
        print(f"profilesync split: {outcome.restored} was split off before; nothing changed", file=sys.stderr)
    return 0


__all__ = ["add_parser", "run"]
