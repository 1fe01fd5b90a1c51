"""``profilesync profile show`` and ``profilesync serve-api``: the profile API's reads, locally.

Both read the same store ``sync`` writes: the embedded SQLite one kept in ``--state-dir`` (default
``.profilesync/``), or any DynamoDB endpoint with ``--endpoint-url``. Both answer through the same
code as the deployed function (core.governance.answer, filtered by the role policy and recorded in
the read audit): ``profile show`` as the role ``--role`` names (it reads the store with your own
access, so the role only shapes the view; ``admin`` by default), ``serve-api`` as the role each
request names in its ``X-Profilesync-Role`` header.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import StoreLayoutError
from profilesync.store_arguments import add_store_arguments

DEFAULT_TABLE = "profilesync-dev-profiles"


def add_parsers(sub: Any) -> None:
    """Register ``profile show`` and ``serve-api`` on the CLI's subparsers."""
    profile = sub.add_parser("profile", help="read one person's profile, history or identity graph")
    profile_sub = profile.add_subparsers(dest="profile_command", required=True)
    show = profile_sub.add_parser(
        "show",
        help="show one person as a role of the role policy sees them (the profile API's answer)",
        description="Find a person by email, phone, source id or customer id and print what the role may "
        "read: the profile and its source records, or --history, --explain, --reads. The read is "
        "recorded in the read audit, as the API records it.",
    )
    lookup = show.add_mutually_exclusive_group(required=True)
    lookup.add_argument("--email", help="an email address, as any tool holds it")
    lookup.add_argument("--phone", help="a phone number (with --region for a national number)")
    lookup.add_argument("--source", help="a source id: <tool>:<object type>:<id>, e.g. hubspot:contact:123")
    lookup.add_argument("--id", dest="customer_id", help="a customer id (cus_...)")
    show.add_argument("--region", default="US", help="region of a national phone number (default US)")
    view = show.add_mutually_exclusive_group()
    view.add_argument("--history", action="store_true", help="the customer's history of changes")
    view.add_argument("--explain", action="store_true", help="which identifiers join which records")
    view.add_argument("--reads", action="store_true", help="who read this person (last 90 days)")
    show.add_argument(
        "--role", default="admin", help="the role of the role policy to read as (default admin)"
    )
    show.add_argument("--json", action="store_true", help="print the API's JSON answer")
    show.add_argument("--limit", type=int, default=None, help="source records or events per page")
    show.add_argument("--next", default=None, help="the page token a previous answer gave")
    _store_options(show)
    show.set_defaults(run=run)

    serve = sub.add_parser(
        "serve-api",
        help="serve the profile API locally (the deployed handler; the role comes in a header)",
        description="Serve GET /profiles?email=|phone=|source=, /profiles/{id}, /history, /explain and "
        "/reads on HOST:PORT through the profile API's own handler. Requests are not signed locally: "
        "name the role in the X-Profilesync-Role header (the deployed API refuses that header).",
    )
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 for any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    _store_options(serve)
    serve.set_defaults(run=run)
    from profilesync.split_cli import add_parser as add_split_parser

    add_split_parser(sub, DEFAULT_TABLE)


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the configuration document whose roles section is the role policy (default: "
        "PROFILESYNC_CONFIG, else ./profilesync.yaml; without a roles section, the sample policy)",
    )
    add_store_arguments(parser, DEFAULT_TABLE)


def run(args: argparse.Namespace) -> int:
    """Run ``profile show`` or ``serve-api``. A lookup, role or route the policy refuses is a usage
    error (exit 2): the command cannot answer it as given."""
    from core.governance.errors import AccessDeniedError, BadLookupError, PolicyError
    from profilesync.cli_errors import UsageError

    try:
        return _show(args) if args.command == "profile" else _serve(args)
    except (AccessDeniedError, BadLookupError, PolicyError) as error:
        raise UsageError(str(error)) from error


# --- the store and the governance behind both commands ----------------------------------------------


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Any]:
    """The governance of the store: the embedded one in ``--state-dir``, or ``--endpoint-url``'s."""
    from core.config import find_config, load_config
    from core.governance.answer import Sources
    from core.governance.policy import sample_policy
    from core.governance.reading import StoreProfileReader
    from functions._governance import Governance
    from profilesync.stores import existing_store_path, open_stores

    document = find_config(args.config)
    policy = sample_policy() if document is None else load_config(document).role_policy()
    if args.endpoint_url is None:
        path = existing_store_path(args.state_dir, args.table, "to read")
        from core.storage.sqlite_history import SQLiteHistoryStore, SQLiteReadAudit

        with open_stores(endpoint_url=None, table=args.table, path=path) as stores:
            database = stores.database
            sources = Sources(
                StoreProfileReader(stores.profiles),
                SQLiteHistoryStore(database),
                SQLiteReadAudit(database),
                links=_graph_links(document, stores.profiles),
            )
            from core.storage.sqlite_privacy import SQLiteSuppressionStore

            yield Governance(policy, sources, erasures=SQLiteSuppressionStore(database)), str(path)
        return
    from core.storage.dynamodb_history import DynamoDBHistoryStore
    from core.storage.dynamodb_reads import DynamoDBProfileReader, DynamoDBReadAudit
    from profilesync.embedded import dynamodb_client
    from profilesync.stores import table_salt

    client = dynamodb_client(args.endpoint_url)
    try:
        client.describe_table(TableName=args.table)
    except client.exceptions.ResourceNotFoundException:
        raise StoreLayoutError(
            f"table {args.table!r} does not exist at {args.endpoint_url}: sync into it first, "
            "or name another with --table"
        ) from None
    from core.storage.dynamodb import DynamoDBProfileStore

    sources = Sources(
        DynamoDBProfileReader(client, args.table, salt=table_salt()),
        DynamoDBHistoryStore(client, args.table, salt=table_salt()),
        DynamoDBReadAudit(client, args.table),
        links=_graph_links(document, DynamoDBProfileStore(client, args.table, salt=table_salt())),
    )
    from core.storage.dynamodb_epoch import DynamoDBErasureEpoch

    erasures = DynamoDBErasureEpoch(client, args.table)
    yield Governance(policy, sources, erasures=erasures), f"{args.endpoint_url} table {args.table}"


def _graph_links(document: Path | None, store: Any) -> Any:
    """Under probabilistic identity (the document's identity section), the link graph's fuzzy and
    review edges for explain (core.link_explain.GraphLinks); None in exact mode."""
    from profilesync.review_cli import identity_settings

    settings = identity_settings(document, None)
    if settings is None:
        return None
    from core.link_explain import GraphLinks

    return GraphLinks(store, settings)


# --- profile show ---------------------------------------------------------------------------------------


def _show(args: argparse.Namespace) -> int:
    from core.governance.answer import Caller, ReadRequest, answer_read
    from core.governance.errors import AccessDeniedError, BadLookupError
    from core.governance.reading import ReadRoute, lookup_by_id, lookup_from_query

    if args.limit is not None and args.limit < 1:
        raise BadLookupError("--limit must be at least 1")
    if args.customer_id is not None:
        lookup = lookup_by_id(args.customer_id)
    else:
        given = {"email": args.email, "phone": args.phone, "source": args.source, "region": args.region}
        lookup = lookup_from_query({k: v for k, v in given.items() if v is not None})
    route: ReadRoute = (
        "history" if args.history else "explain" if args.explain else "reads" if args.reads else "profile"
    )
    with _opened(args) as (governance, _where):
        grant = governance.policy.role(args.role)
        if grant is None:
            roles = ", ".join(governance.policy.roles) or "none"
            raise AccessDeniedError(f"role {args.role!r} is not in the role policy (roles: {roles})")
        outcome = answer_read(
            ReadRequest(route, lookup, args.limit, args.next),
            Caller(f"cli:{getpass.getuser()}", args.role, grant),
            governance.sources,
            request_id=uuid.uuid4().hex,
            now=datetime.now(UTC),
        )
    if args.json:
        print(json.dumps(outcome.document, indent=2, ensure_ascii=False))
    elif outcome.status == 404:
        print(outcome.document["message"], file=sys.stderr)
    else:
        for line in text_lines(outcome.document, args.role):
            print(line)
    return 0 if outcome.status == 200 else 1


def text_lines(doc: dict[str, Any], role: str) -> list[str]:
    """The answer for a person to read: one line per value, masked values as the role sees them."""
    lines = [f"customer {doc['customer_id']} (as {role})"]
    if doc.get("merged_from"):
        lines.append(f"  merged from: {', '.join(doc['merged_from'])}")
    if doc.get("profile"):
        lines += _profile_lines(doc["profile"])
    lines += [
        f"  order {o['id']} {o['total']} {o['currency']} {o['status']} {o['created_at'][:10]} ({o['source']})"
        for o in doc.get("orders", [])
    ]
    for record in doc.get("sources", []):
        lines.append(f"  record {_record_name(record, 'source_id')} (updated {record['updated_at'][:10]})")
        lines += [f"    dropped {d['field']}: {d.get('reason', 'masked')}" for d in record.get("dropped", [])]
    history = doc.get("history")
    if history is not None:
        for event in history["events"]:
            origin = f", inherited from {event['inherited_from']}" if event.get("inherited_from") else ""
            lines.append(
                f"  {event['at'][:19]} {event['kind']:<15} by {event['actor']}{origin}: {event['reason']}"
            )
            if event["source_keys"]:
                lines.append(f"    records: {', '.join(event['source_keys'])}")
            if event["customers"]:
                lines.append(f"    customers: {', '.join(event['customers'])}")
    if doc.get("explain") is not None:
        lines += _explain_lines(doc["explain"])
    lines += [
        f"  {r['at'][:19]} {r['principal']} as {r['role']}: {r['route']} by {r['lookup']}"
        for r in doc.get("reads", [])
    ]
    more = doc.get("next") or (history or {}).get("next")
    if more:
        lines.append(f"  more: --next {more}")
    return lines


def _record_name(record: dict[str, Any], id_field: str) -> str:
    name = f"{record['source']}:{record['object_type']}"
    return f"{name}:{record[id_field]}" if id_field in record else name


def _profile_lines(profile: dict[str, Any]) -> list[str]:
    lines = [f"  {i['kind']:<10} {i['value']}" for i in profile["identifiers"]]
    lines += [
        f"  {name:<22} {t['value']:<30} ({t['source']}, {t['updated_at'][:10]})"
        for name, t in profile["traits"].items()
    ]
    lines += [f"  {name:<22} {_plain(value)}" for name, value in profile["computed"].items()]
    lines += [
        f"  consent {channel:<14} {'granted' if c['granted'] else 'refused'} ({c['changed_at'][:10]})"
        for channel, c in profile["consent"].items()
    ]
    refs = [_record_name(r, "id") for r in profile["sources"]]
    lines.append(f"  sources: {', '.join(refs) or 'none'}")
    return lines


def _explain_lines(explained: dict[str, Any]) -> list[str]:
    lines = [f"  {r['ref']}: {_record_name(r, 'source_id')}" for r in explained["records"]]
    lines += [
        f"  {j['kind']} {j.get('value', '(not shown)')} joins {', '.join(j['records'])}: {j['reason']}"
        for j in explained["joins"]
    ]
    lines += [f"  {lk['a']} ~ {lk['b']} ({lk['kind']}): {lk['reason']}" for lk in explained["links"]]
    groups = explained["groups"]
    lines.append("  one connected group" if explained["connected"] else f"  {len(groups)} groups: {groups}")
    return lines


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)


# --- serve-api ------------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import os

    from functions import _governance
    from profilesync.api_server import ROLE_HEADER, serve_api

    # The handler logs each request and prints its metrics (EMF), as in Lambda: the server's log.
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "profilesync")
    from functions.profiles import local_handler

    with _opened(args) as (governance, where):
        _governance.use(governance)  # the handler answers from this store, with this policy
        roles = list(governance.policy.roles)
        try:
            with serve_api(local_handler, roles, args.host, args.port) as server:
                print(f"profile API on {server.url} (roles: {', '.join(roles)}), store: {where}")
                print(
                    f"  try: curl -H '{ROLE_HEADER}: support' '{server.url}/profiles?email=ann@example.com'",
                    flush=True,
                )
                server.wait()
        except KeyboardInterrupt:
            print("stopped")
        finally:
            _governance.use(None)
    return 0


__all__ = ["add_parsers", "run", "text_lines"]
