"""``profilesync identity review`` and ``profilesync explain``: the review queue and the link graph.

Both work on the store ingest wrote: the embedded one in ``--state-dir`` (``<table>.sqlite3``) or a
DynamoDB table with ``--endpoint-url``::

    profilesync identity review list [--limit 50] [--json]
    profilesync identity review accept PAIR_ID --by ana@acme.com --reason "same person, she moved"
    profilesync identity review reject PAIR_ID --by ana@acme.com --reason "twins"
    profilesync explain --email ann@example.com [--json]
    profilesync explain --source hubspot:contact:123 | --phone "+44 20 7946 0018" | --customer cus_...

``accept`` joins the pair's customers at once, ``reject`` splits what only that pair joined; the
decision is kept and every later ingest applies it (core.link_review). Each decision is in both
customers' histories and in an ``AUDIT#review`` item. ``explain`` prints each edge of the
customer's link graph with its reason and what was refused (core.link_explain). The identity
settings (mode, model, thresholds) come from the configuration document's ``identity`` section, as
ingest takes them, or from ``--identity``/``--identity-model``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilesync.store_arguments import add_store_arguments

if TYPE_CHECKING:
    from core.merge import MergeRules
    from core.pipeline import IngestSettings
    from profilesync.stores import Stores

DEFAULT_TABLE = "profilesync-dev-profiles"

__all__ = ["add_explain_parser", "add_review_parser", "explain_lines", "run_explain", "run_review"]


def _store_options(parser: argparse.ArgumentParser) -> None:
    add_store_arguments(parser, DEFAULT_TABLE)
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the configuration document whose identity section ingest uses (default: "
        "PROFILESYNC_CONFIG, else ./profilesync.yaml)",
    )
    parser.add_argument(
        "--identity-model", type=Path, default=None, help="the model file ingest uses (`identity train`)"
    )


def add_review_parser(identity_sub: Any) -> None:
    """Register ``identity review list|accept|reject`` under ``profilesync identity``."""
    review = identity_sub.add_parser(
        "review",
        help="list, accept or reject the pairs the matcher was unsure about",
        description="Pairs scored between the review and link thresholds wait for a person. Accepting "
        "joins their customers, rejecting keeps them apart; the decision is stored, applied at once and "
        "by every later ingest, written to both customers' histories and audited.",
    )
    actions = review.add_subparsers(dest="review_command", required=True)
    listing = actions.add_parser("list", help="the pending pairs, oldest first")
    listing.add_argument("--limit", type=int, default=50, help="how many pairs at most (default 50)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")
    _store_options(listing)
    listing.set_defaults(run=run_review)
    for name, text in (
        ("accept", "the two records are one person: join their customers"),
        ("reject", "the two records are different people: keep them apart"),
    ):
        decide = actions.add_parser(name, help=text, description=text)
        decide.add_argument("pair", metavar="PAIR_ID", help="the pair's id, as `review list` shows it")
        decide.add_argument(
            "--by", default=None, help="who decides (kept in the histories and the audit; default: you)"
        )
        decide.add_argument(
            "--reason", default="", help="why, in words (no email, phone or record id: histories show it)"
        )
        _store_options(decide)
        decide.set_defaults(run=run_review)


def add_explain_parser(sub: Any) -> None:
    """Register ``profilesync explain``."""
    explain = sub.add_parser(
        "explain",
        help="why a customer's records are one customer: its link graph, with reasons",
        description="Print the link graph of the customer found by email, phone, source id or customer "
        "id: each edge with its reason (shared email or phone, a fuzzy link's score with per-field "
        "weights, an accepted review) and what was refused (guardrail, conflict, cap, threshold, a "
        "rejected review), in the identity mode ingest uses.",
    )
    who = explain.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="an email address the customer holds")
    who.add_argument("--phone", help="a phone number the customer holds (with --region)")
    who.add_argument("--source", help="a source record: CONNECTOR:TYPE:ID, e.g. hubspot:contact:123")
    who.add_argument("--customer", help="a customer id (cus_...)")
    explain.add_argument("--region", default="US", help="region of a national phone number (default US)")
    explain.add_argument(
        "--identity",
        choices=("exact", "probabilistic"),
        default=None,
        help="the identity mode to explain in (default: the configuration document's identity.mode)",
    )
    explain.add_argument("--json", action="store_true", help="print JSON instead of text")
    _store_options(explain)
    explain.set_defaults(run=run_explain)


# --- the store and the settings --------------------------------------------------------------------


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Stores]:
    from profilesync import cli_checks
    from profilesync.stores import existing_store_path, open_stores

    if args.endpoint_url is None:
        path = existing_store_path(args.state_dir, args.table, "to work on")
        with open_stores(endpoint_url=None, table=args.table, path=path) as stores:
            yield stores
        return
    cli_checks.check_aws_credentials(args.endpoint_url)
    cli_checks.probe_endpoint(args.endpoint_url)
    with open_stores(endpoint_url=args.endpoint_url, table=args.table) as stores:
        yield stores


def identity_settings(
    config: Path | None, model: Path | None, mode: str | None = None
) -> IngestSettings | None:
    """The ingest settings of the configuration document's ``identity`` section (``mode`` and
    ``model`` override it); None for exact identity."""
    from core.config import IdentitySection, find_config, load_config
    from core.link_settings import linkage_settings
    from core.pipeline import IngestSettings

    section, base = IdentitySection(), None
    found = find_config(config)
    if found is not None:
        section, base = load_config(found).identity, found.parent
    if mode is not None or model is not None:
        update: dict[str, Any] = {"mode": mode or "probabilistic"}
        if model is not None:
            update["model"] = str(model.resolve())
        section = section.model_copy(update=update)
    linkage = linkage_settings(section, base)
    return None if linkage is None else IngestSettings(linkage=linkage, rules=document_rules(config))


def document_rules(config: Path | None) -> MergeRules:
    """The survivorship rules of the document ``--config`` names (its ``segments`` section), else
    those every path reads (core.segment_rules.configured_rules: ``PROFILESYNC_CONFIG``, else
    ./profilesync.yaml): the profiles a command builds are built under that document's thresholds."""
    from core.config import load_config
    from core.segment_rules import configured_rules

    return configured_rules() if config is None else load_config(config).segments.rules()


# --- identity review -------------------------------------------------------------------------------


def run_review(args: argparse.Namespace) -> int:
    """Serve ``identity review list|accept|reject``; a decision that cannot be made is a usage error."""
    from core.link_review import (
        ReviewOutdatedError,
        ReviewRefusedError,
        Verdict,
        decide,
        pending,
        review_lines,
    )
    from profilesync.cli_errors import UsageError

    if args.review_command == "list":
        if args.limit < 1:
            raise UsageError("--limit must be at least 1")
        with _opened(args) as stores:
            listed = pending(stores.profiles, args.limit)
        if args.json:
            print(json.dumps({"pending": listed}, indent=2, ensure_ascii=False))
        else:
            for line in review_lines(listed):
                print(line)
        return 0
    by = args.by or f"cli:{getpass.getuser()}"
    settings = identity_settings(args.config, args.identity_model, "probabilistic")
    assert settings is not None
    verdict: Verdict = "accepted" if args.review_command == "accept" else "rejected"
    with _opened(args) as stores:
        try:
            outcome = decide(
                stores.profiles, args.pair, verdict, by=by, reason=args.reason, settings=settings
            )
        except ReviewOutdatedError as error:
            # Lost a race with an ingest: not a usage error; the answer says what became of the pair.
            answer = {"ok": False, "action": f"review-{args.review_command}", **error.as_json()}
            print(json.dumps(answer, indent=2, ensure_ascii=False))
            print(f"profilesync identity review: {error}", file=sys.stderr)
            return 1
        except ReviewRefusedError as error:
            raise UsageError(str(error)) from error
        request_id = f"local-{uuid.uuid4().hex[:12]}"
        stores.erasure.put_audit(outcome.audit(request_id, by))
    answer = {"ok": True, "action": f"review-{args.review_command}", "request_id": request_id}
    print(json.dumps({**answer, **outcome.as_json()}, indent=2, ensure_ascii=False))
    if outcome.repeated:
        print(
            f"profilesync identity review: the pair was {verdict} already; nothing changed",
            file=sys.stderr,
        )
    return 0


# --- explain ---------------------------------------------------------------------------------------


def run_explain(args: argparse.Namespace) -> int:
    """Print the customer's link graph; exit 1 when nobody is found."""
    from core.link_explain import customer_explanation
    from core.person_scope import locate
    from profilesync.cli_errors import UsageError

    identifier = _identifier(args)
    settings = identity_settings(args.config, args.identity_model, args.identity)
    with _opened(args) as stores:
        profiles = stores.profiles
        if identifier is None:
            state = profiles.get_customers([args.customer]).get(args.customer)
            while state is not None and state.merged_into:
                state = profiles.get_customers([state.merged_into]).get(state.merged_into)
        else:
            state = locate(profiles, identifier)
        if state is None:
            print("profilesync explain: no customer holds that; nothing to explain", file=sys.stderr)
            return 1
        try:
            explained = customer_explanation(profiles, state, settings)
        except ValueError as error:
            raise UsageError(str(error)) from error
    if args.json:
        print(json.dumps(explained, indent=2, ensure_ascii=False))
    else:
        for line in explain_lines(explained):
            print(line)
    return 0


def _identifier(args: argparse.Namespace) -> Any:
    """The identifier the lookup names (None for ``--customer``); a malformed one is a usage error."""
    from core.privacy import identifier_for
    from core.schema import Identifier
    from profilesync.cli_errors import UsageError

    if args.customer is not None:
        return None
    if args.source is not None:
        parts = args.source.split(":")
        if len(parts) < 3 or not all(parts):
            raise UsageError(f"--source {args.source!r}: give CONNECTOR:TYPE:ID, e.g. hubspot:contact:123")
        return Identifier(kind="source", value=args.source)
    try:
        return identifier_for(email=args.email, phone=args.phone, region=args.region.upper())
    except ValueError as error:
        which = "--email" if args.email is not None else "--phone"
        raise UsageError(f"{which}: {error}") from None


def explain_lines(explained: dict[str, Any]) -> list[str]:
    """The explanation for a person to read: records, edges with reasons, refusals, open reviews."""
    lines = [
        f"customer {explained['customer_id']} ({explained['mode']} identity"
        + (f", model {explained['model']})" if explained.get("model") else ")"),
        f"  {len(explained['records'])} records in {len(explained['groups'])} group(s)",
    ]
    lines += [f"  record {key}" for key in explained["records"]]
    lines.append("  links:" if explained["edges"] else "  links: none (a single record)")
    for edge in explained["edges"]:
        lines.append(f"    {' ~ '.join(edge['records'])}  [{edge['kind']}] {edge['reason']}")
        lines += _field_lines(edge.get("score"))
    if explained["refused"]:
        lines.append("  refused:")
    for refusal in explained["refused"]:
        lines.append(f"    {' ~ '.join(refusal['records'])}  [{refusal['kind']}] {refusal['reason']}")
    if explained["reviews"]:
        lines.append("  waiting for review (profilesync identity review list):")
    for review in explained["reviews"]:
        lines.append(f"    {' ~ '.join(review['records'])}  {review['reason']}")
    if explained.get("below_threshold"):
        lines.append("  below the review threshold (strongest first):")
    for pair in explained.get("below_threshold", []):
        lines.append(f"    {' ~ '.join(pair['records'])}  {pair['reason']}")
    if len(explained["groups"]) > 1:
        lines.append(f"  the records form {len(explained['groups'])} groups: the next change splits them")
    return lines


def _field_lines(score: dict[str, Any] | None) -> list[str]:
    if not score:
        return []
    fields = sorted(score.get("fields", []), key=lambda f: -abs(float(f.get("weight") or 0.0)))
    return [
        "      " + ", ".join(f"{f['field']} {f['level']} {float(f.get('weight') or 0):+.2f}" for f in fields)
    ]
