"""``profilesync repair [--dry-run]``: find customers frozen by a merge in flight and repair them.

A merge too large for one transaction runs in steps (core.merge_steps); a version before this one
could stop at the last (the two customers' records past DynamoDB's 400 KB item together), leaving the
absorbed customer frozen for good. This command reads every customer of the store, lists each frozen
one with what it does about it, and (without ``--dry-run``) finishes the merges that fit now and takes
back the others (core.merge_undo). Ingest and erasure do the same to a frozen customer they meet; the
command is how an operator finds them all at once after an upgrade. Exit 0 when nothing is left
frozen, 1 when some could not be repaired (each is named). ``--segments`` also re-segments stored
profiles under the thresholds in force (core.resegment)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from profilesync.review_cli import _store_options

__all__ = ["register", "run_repair"]


def register(sub: Any) -> None:
    """Add ``repair`` to the CLI's subparsers."""
    repair = sub.add_parser(
        "repair",
        help="find customers frozen by a merge an older version could not finish, and repair them",
        description="List every customer frozen by a merge in flight (a merge in steps that an older "
        "version stopped at its last step, refused past 400 KB) and finish it when it fits now, or take "
        "it back (both customers as before, an accepted review pair pending again); one whose survivor an "
        "older version's erasure deleted is rebuilt from its own records. Safe to run twice "
        "and while ingest runs, once every function and command writing to the store runs this version. "
        "With --segments, also re-segment the stored profiles whose segment the configuration's "
        "vip thresholds now decide otherwise. Exit 0 when nothing is left frozen, 1 otherwise.",
    )
    repair.add_argument("--dry-run", action="store_true", help="list what it would do, changing nothing")
    repair.add_argument(
        "--segments",
        action="store_true",
        help="also re-segment every stored profile whose segment the configuration's segments section "
        "now decides otherwise (after a vip threshold changed): rebuilt from its records, pushed next run",
    )
    repair.add_argument("--json", action="store_true", help="print JSON instead of text")
    _store_options(repair)  # the store, and the identity settings ingest uses (as review's)
    repair.set_defaults(run=run_repair)


def run_repair(args: argparse.Namespace) -> int:
    from core.merge_undo import repair_frozen
    from core.pipeline import IngestSettings
    from profilesync.review_cli import _opened, document_rules, identity_settings

    # (exact identity: the rules of the document --config names all the same, core.segment_rules)
    settings = identity_settings(args.config, args.identity_model) or IngestSettings(
        rules=document_rules(args.config)
    )
    resegmented = None
    with _opened(args) as stores:
        found, problems = repair_frozen(stores.profiles, settings, dry_run=args.dry_run)
        if getattr(args, "segments", False):
            from core.resegment import resegment

            resegmented = resegment(stores.profiles, settings, dry_run=args.dry_run)
            problems += [f"{c} is in a merge in flight: its segment is left" for c in resegmented.skipped]
    if args.json:
        answer: dict[str, Any] = {
            "dry_run": args.dry_run,
            "frozen": [f.as_json() for f in found],
            "problems": problems,
        }
        if resegmented is not None:
            answer["segments"] = {
                "checked": resegmented.checked,
                "changed": [{"customer_id": c, "from": a, "to": b} for c, a, b in resegmented.changed],
            }
        print(json.dumps(answer, indent=2))
    else:
        verb = {
            "finish": "finish the merge",
            "undo": "take the merge back",
            "rebuild": "rebuild it from its own records (its survivor is gone)",
            "unrepairable": "leave it",
        }
        for frozen in found:
            done = "would " if args.dry_run else ""
            print(
                f"{frozen.absorbed} frozen into {frozen.survivor} ({frozen.records} records): "
                f"{done}{verb[frozen.action]}"
            )
        for problem in problems:
            print(f"not repaired: {problem}")
        if not found:
            print("no customer is frozen")
        if resegmented is not None:
            how = "would re-segment" if args.dry_run else "re-segmented"
            for customer, before, after in resegmented.changed:
                print(f"{customer}: {how} {before} -> {after}")
            print(f"{how} {len(resegmented.changed):,} of {resegmented.checked:,} profiles")
    return 1 if problems else 0
