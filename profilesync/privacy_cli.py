"""``profilesync privacy``: erase, export or un-suppress one person, and retry erasures, locally.

The same use cases as the privacy function (core.privacy), against the embedded store that
``profilesync sync`` keeps in ``--state-dir`` (or a DynamoDB endpoint with ``--endpoint-url``)::

    profilesync privacy export --email ann@example.com
    profilesync privacy erase --phone "020 7946 0018" --region GB --connector hubspot --requested-by dpo
    profilesync privacy erase --email ann@example.com --connector hubspot=http://127.0.0.1:8081
    profilesync privacy erase --source hubspot:contact:123 --requested-by dpo
    profilesync privacy unsuppress --email ann@example.com --requested-by dpo
    profilesync privacy erase-retry --connector hubspot
    profilesync privacy index-histories
    profilesync privacy index-refused

The answer is the JSON the privacy function answers with. The tools named with ``--connector`` are
asked too (their credentials come from the environment, as for ``sync``); without it, only the
store is erased and the receipt says no tool was asked.

The salt keying suppression entries and audit hashes is, in order: the ``audit-salt`` secret as
``resolve_secret`` finds it (``PROFILESYNC_AUDIT_SALT``, the secrets file, or Secrets Manager with
``PROFILESYNC_SECRETS_PREFIX``: a deployed stack's own), or else a salt made once for the state
directory (``<state-dir>/audit-salt``, readable by its owner only). ``sync`` uses the same one, so
its pulls drop the people erased here.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.connector import Connector
from profilesync.store_arguments import add_store_arguments

if TYPE_CHECKING:
    from core.schema import Identifier

SALT_FILE = "audit-salt"


def add_parser(sub: Any, default_table: str) -> None:
    """Register ``profilesync privacy`` and its five commands on the CLI's subparsers."""
    privacy = sub.add_parser(
        "privacy",
        help="erase or export one person, lift a suppression, retry erasures",
        description="Data-subject requests against the local store (see docs/privacy.md).",
    )
    actions = privacy.add_subparsers(dest="privacy_command", required=True)
    for name, text in (
        ("erase", "erase a person from the store (and the tools named with --connector)"),
        ("export", "print everything held about a person"),
        ("unsuppress", "lift the suppression of a person who signed up again"),
        ("erase-retry", "ask the tools again for the erasures they have not confirmed"),
    ):
        command = actions.add_parser(name, help=text, description=text)
        if name != "erase-retry":
            who = command.add_mutually_exclusive_group(required=True)
            who.add_argument("--email", help="the person's email address")
            who.add_argument("--phone", help="the person's phone number")
            who.add_argument(
                "--source",
                metavar="TOOL:OBJECT:ID",
                help="the id of one of the person's records (hubspot:contact:123), for an address "
                "or phone several people hold",
            )
            command.add_argument(
                "--region", default="US", help="region of a phone without a country code (default US)"
            )
        command.add_argument(
            "--requested-by",
            default=None,
            help="who asked (kept in the audit record; default: this machine's user)",
        )
        command.add_argument(
            "--connector",
            action="append",
            default=[],
            metavar="NAME[=BASE_URL]",
            help="a tool to ask too, repeatable; its credentials and options come from the environment",
        )
        add_store_arguments(command, default_table)
    text = (
        "index the histories written before this version, so that an erasure finds every history "
        "naming the person (once, after the upgrade; docs/privacy.md)"
    )
    add_store_arguments(actions.add_parser("index-histories", help=text, description=text), default_table)
    text = (
        "index the refused values of the records written before this version and mark the index "
        "complete, so that an erasure finds a household's record naming the person by key reads, and "
        "mark the customers holding an address in its spelling of before the upgrade that folds it "
        "(once, after every writer runs this version; docs/privacy.md)"
    )
    add_store_arguments(actions.add_parser("index-refused", help=text, description=text), default_table)


def audit_salt(state_dir: Path, *, endpoint_url: str | None = None) -> str:
    """The salt of suppression and audit hashes (see the module docstring)."""
    from connectors._http import resolve_secret
    from core.errors import ConnectorConfigError

    try:
        return resolve_secret(SALT_FILE)
    except ConnectorConfigError:
        pass
    path = state_dir / SALT_FILE
    if not path.exists():
        if endpoint_url is not None:
            print(
                f"profilesync: no audit salt is configured; using {path} (a deployed stack keys its "
                "entries with its own: set PROFILESYNC_SECRETS_PREFIX or PROFILESYNC_AUDIT_SALT)",
                file=sys.stderr,
            )
        state_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text(encoding="utf-8").strip()


def _tools(named: list[str]) -> tuple[dict[str, Connector], dict[str, str]]:
    """The tools of ``--connector NAME[=BASE_URL]``, and those that could not be built."""
    from profilesync.registry import get
    from profilesync.syncrun import settings_from_environment

    tools: dict[str, Connector] = {}
    unavailable: dict[str, str] = {}
    for entry in named:
        name, _, base_url = entry.partition("=")
        plugin = get(name)
        try:
            tools[name] = plugin.build(settings_from_environment(plugin, base_url=base_url or None))
        except Exception as error:  # a tool that cannot be built is reported, as in the function
            unavailable[name] = type(error).__name__
    return tools, unavailable


def _stored_ids(identifier: Any) -> dict[str, Any]:
    """The ``stored_id`` hook of the installed connector a record id names (core.privacy_request's
    ``stored_ids_for``); empty for an email, a phone, or a tool no installed connector is."""
    from core.privacy_request import stored_ids_for

    return stored_ids_for(identifier, _installed_spec)


def _installed_spec(tool: str) -> Any:
    """The spec of the installed connector ``tool``; None for a file's source or one not installed."""
    from core.errors import ConnectorConfigError
    from profilesync.registry import get

    try:
        return get(tool).spec
    except ConnectorConfigError:
        return None


def _read_audit(stores: Any) -> Any:
    """The read audit of the store in use: the embedded one's, or the DynamoDB table's."""
    if stores.database is not None:
        from core.storage.sqlite_history import SQLiteReadAudit

        return SQLiteReadAudit(stores.database)
    from core.storage.dynamodb_reads import DynamoDBReadAudit

    return DynamoDBReadAudit(stores.client, stores.profiles.table_name)


def run(args: argparse.Namespace) -> int:
    """Serve one ``profilesync privacy`` command; print its JSON answer."""
    from core.privacy import (
        erase_person,
        export_person,
        identifier_for,
        lift_suppression,
        refusal,
        retry_erasures,
        stored_spellings,
    )
    from functions.privacy import erase_answer, export_answer
    from profilesync.review_cli import identity_settings
    from profilesync.stores import open_stores, store_path

    command = args.privacy_command
    requested_by = (
        getattr(args, "requested_by", None) or f"{getpass.getuser()} (profilesync privacy, this machine)"
    )
    request_id = f"local-{uuid.uuid4().hex[:12]}"
    answer: dict[str, Any]
    path = None
    if args.endpoint_url is None:
        path = store_path(args.state_dir, args.table)
        if not path.exists():
            print(
                f"profilesync privacy: no store at {path} yet (nothing synced there); made", file=sys.stderr
            )
    with ExitStack() as stack:
        stores = stack.enter_context(open_stores(endpoint_url=args.endpoint_url, table=args.table, path=path))
        if command == "index-histories":
            return _index_histories(stores.profiles)
        salt = audit_salt(args.state_dir, endpoint_url=args.endpoint_url)
        if command == "index-refused":
            return _index_refused(stores.profiles, salt, stores.erasure)
        profiles, erasure, sync_state = stores.profiles, stores.erasure, stores.sync_state
        suppression = stores.suppression
        tools, unavailable = _tools(args.connector)
        for tool in tools.values():
            stack.callback(tool.close)
        if command == "erase-retry":
            retried = retry_erasures(erasure, tools, unavailable=unavailable)
            answer = {
                "ok": retried.still_failing == 0,
                "pending": retried.pending,
                "completed": retried.completed,
            }
            answer["still_failing"] = retried.still_failing
            print(json.dumps(answer, indent=2))
            return 0 if answer["ok"] else 1
        try:
            identifier = identifier_for(
                email=args.email, phone=args.phone, region=args.region, source=args.source
            )
        except ValueError as error:
            raise SystemExit(f"profilesync privacy {command}: {error}") from None
        spellings: list[Identifier] = []
        if command in ("erase", "export"):  # a record stored under its spelling before an upgrade
            identifier, *spellings = stored_spellings(identifier, args.email, profiles)
        quarantine_of = stores.connectors()
        if command == "export":
            from core.privacy import PrivacyStores

            def payload_of(destination: str, profile: Any) -> Any:
                # What a tool named with --connector was last sent (the export checks its hash).
                tool = tools.get(destination)
                return None if tool is None else tool.from_profile(profile)

            found = export_person(
                profiles,
                identifier,
                stores=PrivacyStores(
                    profiles, erasure, sync_state, suppression, None, quarantine_of, reads=_read_audit(stores)
                ),
                salt=salt,
                payload_of=payload_of,
                region=args.region,
                identity=identity_settings(None, None),
                stored_ids=_stored_ids(identifier),
                spellings=spellings,
            )
            if found is not None and found.ambiguous:
                refused = refusal(identifier, command, source="--source")
                answer = {"ok": False, "found": True, "outcome": "ambiguous", "error": refused}
            else:
                answer = {"ok": True, "found": found is not None, **(export_answer(found) if found else {})}
        elif command == "unsuppress":
            lifted = lift_suppression(
                identifier,
                suppression=suppression,
                erasure=erasure,
                salt=salt,
                request_id=request_id,
                requested_by=requested_by,
                stored_ids=_stored_ids(identifier),
            )
            answer = {"ok": True, "lifted": lifted}
        else:
            report = erase_person(
                identifier,
                spellings=spellings,
                profiles=profiles,
                erasure=erasure,
                tools=tools,
                salt=salt,
                request_id=request_id,
                unavailable=unavailable,
                quarantine_of=quarantine_of,
                sync_state=sync_state,
                suppression=suppression,
                requested_by=requested_by,
                region=args.region,
                identity=identity_settings(None, None),  # the model sync resolves with
                stored_ids=_stored_ids(identifier),
            )
            answer = erase_answer(report, request_id)
            if report.outcome == "ambiguous":
                answer["error"] = refusal(identifier, command, source="--source")
            if not report.tools:
                answer["tools"] = "no tool asked (name them with --connector)"
            # no image of the deleted rows left in the file or its write-ahead log
            if stores.database is not None and not stores.database.scrub():
                answer["ok"] = False
                answer["store_file"] = UNSCRUBBED
            old = args.state_dir / f"{args.table}.jsonl"  # profilesync.stores.old_embedded_state's
            if args.endpoint_url is None and old.exists():
                answer["ok"] = False
                answer["old_state"] = OLD_STATE.format(old)
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0 if answer["ok"] else 1


#: What an erasure answers when another connection's long read kept its checkpoint from finishing.
UNSCRUBBED = (
    "another connection to the store file was reading for longer than the busy timeout: the file and "
    "its write-ahead log still hold images of the erased rows; once that read is over (or the process "
    "holding the file stopped), send the same request again to clear them"
)


#: What an erasure on the embedded store answers beside an older version's state file.
OLD_STATE = (
    "{} is an older profilesync's embedded state (its table as JSON lines), which this version neither "
    "reads nor erases: it may still hold the person; delete it (sync started afresh without it)"
)


def _index_histories(profiles: Any) -> int:
    """``profilesync privacy index-histories``: the index of the names in the histories of every
    live customer (core.governance.history_names.index_histories), for histories written before it."""
    from core.governance.history_names import IndexesHistoryNames, index_histories

    history = profiles.history
    if not isinstance(history, IndexesHistoryNames):  # pragma: no cover - every store keeps it
        raise SystemExit("profilesync privacy index-histories: this store keeps no history index")
    customers, events = index_histories(history, (p.customer_id for p in profiles.iter_profiles()))
    print(json.dumps({"ok": True, "customers": customers, "events": events}, indent=2))
    return 0


def _index_refused(profiles: Any, salt: str, erasure: Any) -> int:
    """``profilesync privacy index-refused``: the index of refused values of every stored record
    (core.privacy_refused_index.backfill), for a store written before it; then marked complete."""
    from functools import partial

    from core.privacy_refused_index import REGION, backfill
    from core.storage.refused_index import refused_index
    from core.suppression import keyed_hash

    index = refused_index(profiles)
    if index is None:  # pragma: no cover - every store of this project keeps one
        raise SystemExit("profilesync privacy index-refused: this store keeps no index of refused values")
    # (refused phones read in the index's one region, as every writer reads them)
    entries = backfill(profiles, index, REGION, partial(keyed_hash, salt))
    # and the markers leading from a folded address to its customers under the spelling of before
    # the upgrade that folds it (core.privacy_spellings): one more pass over the live profiles
    from core.privacy_spellings import backfill as mark_spellings

    spellings = mark_spellings(profiles, erasure)
    out = {"ok": True, "entries": entries, "complete": index.complete(), "spelling_markers": spellings}
    print(json.dumps(out, indent=2))
    return 0


__all__ = ["SALT_FILE", "add_parser", "audit_salt", "run"]
