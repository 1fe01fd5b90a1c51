"""``profilesync identity``: train the probabilistic matcher's model, and try it on a file.

    profilesync identity train SAMPLE.jsonl --out model.json [--seed 0] [--population N]
                               [--veto-tolerance 0.02] [--no-veto] [--state-dir .profilesync]
    profilesync identity link INPUT.jsonl --out LINKS.jsonl [--model model.json] [--state-dir .profilesync]
    profilesync identity review list|accept PAIR_ID|reject PAIR_ID   (profilesync.review_cli)

Both read the flat JSON-lines records ``profilesync resolve`` reads (README): names, a
``date_of_birth``, address fields and any emails and phones. ``train`` fits a Fellegi-Sunter model
(core.linkage.training) and writes it as a versioned JSON file the functions load. ``link`` runs
the pure matcher (core.linkage.link_records) and writes one line per customer it finds, with the
reason of every edge, the pairs left for review and what was refused: a way to judge a model on
one's own data before it is used. Both leave out, and count, the lines of people erased from the
embedded store of ``--state-dir``, as ``resolve`` does (profilesync.identity_erasures).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.linkage import LinkageModel, LinkageRecord
    from profilesync.identity_erasures import LinkErasures

__all__ = ["add_identity_parser", "read_linkage_records", "run_identity"]


def add_identity_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``identity train`` and ``identity link`` on the main parser's subcommands."""
    identity = sub.add_parser("identity", help="train and try the probabilistic identity matcher")
    identity_sub = identity.add_subparsers(dest="identity_command", required=True)
    train = identity_sub.add_parser(
        "train",
        help="fit a matching model (m/u by EM) on a sample of records",
        description="Read SAMPLE (flat JSON-lines records, as `profilesync resolve` reads) and write a "
        "Fellegi-Sunter model: u from random pairs, m by EM over blocked pairs, the prior, and the term "
        "frequencies of names and towns. The functions load the model file it writes.",
    )
    train.add_argument("sample", type=Path, help="JSON-lines file of records")
    train.add_argument("--out", type=Path, required=True, help="where to write the model (JSON)")
    train.add_argument("--seed", type=int, default=0, help="random seed for the u sample (default 0)")
    train.add_argument(
        "--population",
        type=int,
        default=None,
        help="how many records the model will match among (default: the sample's size)",
    )
    train.add_argument(
        "--link", type=float, default=None, help="link threshold, a probability (default 0.99)"
    )
    train.add_argument("--review", type=float, default=None, help="review threshold (default 0.80)")
    train.add_argument(
        "--no-veto",
        action="store_true",
        help="let a high score link records with different dates of birth (default: they go to review "
        "unless the sample's own matches contradict their birth dates too often, see --veto-tolerance)",
    )
    train.add_argument(
        "--veto-tolerance",
        type=float,
        default=None,
        help="keep the birth-date veto only when at most this share of the sample's matches give "
        "conflicting dates of birth (default 0.02)",
    )
    train.add_argument(
        "--tf-min-people",
        type=int,
        default=None,
        help="keep the frequency of a first name, last name or town only when at least this many people "
        "of the sample hold it (default 5): the model file is deployed with the functions and must name "
        "nobody; rarer values are weighed as unseen",
    )
    train.add_argument("--default-region", default="US", help="region of phones without a country code")
    _add_erasure_arguments(train)

    link = identity_sub.add_parser(
        "link",
        help="run the matcher over a file and write the customers it finds, with reasons",
        description="Link INPUT's records with the model (default: the built-in untrained one) and write "
        "one customer per line: its records, every edge with its reason, reviews and refusals.",
    )
    link.add_argument("input", type=Path, help="JSON-lines file of records")
    link.add_argument("--out", type=Path, required=True, help="where to write the customers (JSON lines)")
    link.add_argument("--model", type=Path, default=None, help="a model file from `identity train`")
    link.add_argument("--default-region", default="US", help="region of phones without a country code")
    _add_erasure_arguments(link)
    from profilesync.review_cli import add_review_parser

    add_review_parser(identity_sub)


def _add_erasure_arguments(parser: argparse.ArgumentParser) -> None:
    from profilesync.cli import DEFAULT_TABLE

    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".profilesync"),
        help="where the embedded store (TABLE.sqlite3) and the audit salt are kept: the lines of people "
        "erased from it are left out and counted, as `resolve` leaves them out (default .profilesync/)",
    )
    parser.add_argument("--table", default=DEFAULT_TABLE, help=f"table name (default {DEFAULT_TABLE})")


def read_linkage_records(
    path: Path, default_region: str = "US", *, erasures: LinkErasures | None = None
) -> tuple[list[LinkageRecord], Counter[str]]:
    """The records of a flat JSON-lines file as the matcher sees them, and what was skipped and why.

    Emails and phones are normalised as ``resolve`` does (invalid ones left out); a later line with
    the same record key replaces an earlier one, as a newer version would. With ``erasures``, the
    records of erased people are left out and counted as ``erased`` (profilesync.identity_erasures).
    """
    from connectors.jsonl import read_jsonl
    from core.linkage import linkage_record
    from core.normalise import NormaliseOptions, normalise_email, normalise_phone
    from core.quarantine import identifier_keys
    from core.schema import Quarantined, source_key

    skipped: Counter[str] = Counter()
    records: dict[str, LinkageRecord] = {}
    keys_of: dict[str, list[str]] = {}
    options = NormaliseOptions(default_region=default_region.upper())
    for item in read_jsonl(path):
        if isinstance(item, Quarantined):
            skipped[item.reason.split("(")[0].strip()] += 1
            continue
        if not item.source_id:
            skipped["missing id"] += 1
            continue
        emails = [_or_none(normalise_email, v) for v in item.emails]
        phones = [_or_none(lambda v: normalise_phone(v, default_region.upper()), v) for v in item.phones]
        key = source_key(item.source, item.object_type, item.source_id)
        records[key] = linkage_record(key, item.traits, [e for e in emails if e], [p for p in phones if p])
        if erasures is not None:  # every version's: an earlier one may name her where the last does not
            keys_of[key] = list(dict.fromkeys([*keys_of.get(key, ()), *identifier_keys(item, options)]))
    if erasures is None:
        return list(records.values()), skipped
    from profilesync.identity_erasures import ERASED

    erased = erasures.erased(list(records.values()), keys_of)
    if erased:
        skipped[ERASED] += len(erased)
    return [r for key, r in records.items() if key not in erased], skipped


def _read(
    args: argparse.Namespace, path: Path, model: LinkageModel, stack: ExitStack
) -> tuple[list[LinkageRecord], Counter[str], int]:
    """``path``'s records without those of people erased from ``--state-dir``'s store, what was
    skipped and why, and how many were erased."""
    from core.normalise import NormaliseOptions
    from profilesync import cli_checks
    from profilesync.identity_erasures import ERASED, LinkErasures

    region = cli_checks.check_region(args.default_region, "--default-region")
    options = NormaliseOptions(default_region=region)
    erasures = LinkErasures(args.state_dir, args.table, stack, options, model)
    records, skipped = read_linkage_records(path, region, erasures=erasures)
    return records, skipped, skipped.pop(ERASED, 0)


def _or_none(normalise: Any, value: Any) -> str | None:
    try:
        return str(normalise(str(value)))
    except ValueError:
        return None


def run_identity(args: argparse.Namespace) -> int:
    """Run ``identity train`` or ``identity link``; errors are ``ProfileSyncError`` (the CLI prints them)."""
    if args.identity_command == "train":
        return _train(args)
    return _link(args)


def _train(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from core.linkage import LinkageModel, Thresholds, default_model, train_model
    from core.linkage.training import TF_MIN_PEOPLE, VETO_TOLERANCE

    base = default_model()
    fitted = Thresholds()  # a fitted model links at 0.99; only the untrained default asks for more
    thresholds = Thresholds(
        link=args.link if args.link is not None else fitted.link,
        review=args.review if args.review is not None else fitted.review,
    )
    base = LinkageModel.model_validate(
        {**base.model_dump(), "thresholds": thresholds, "vetoes": () if args.no_veto else base.vetoes}
    )
    started = time.perf_counter()
    with ExitStack() as stack:  # her fuzzy links judged with the untrained model, as `link` without one
        records, skipped, erased = _read(args, args.sample, default_model(), stack)
    if len(records) < 2:
        raise InputError(
            f"{args.sample}: {len(records)} usable record(s); training needs at least two (ideally "
            "thousands, with names, dates of birth and addresses)"
        )
    if args.population is not None and args.population < len(records):
        raise InputError(
            f"--population {args.population} is smaller than the sample ({len(records)} records)"
        )
    tolerance = VETO_TOLERANCE if args.veto_tolerance is None else args.veto_tolerance
    if not 0.0 <= tolerance <= 1.0:
        raise InputError(f"--veto-tolerance {tolerance} is not a share between 0 and 1 (default 0.02)")
    min_people = TF_MIN_PEOPLE if args.tf_min_people is None else args.tf_min_people
    if min_people < 2:
        raise InputError(
            f"--tf-min-people {min_people}: a value one person holds would name her in the model file; "
            f"give 2 or more (default {TF_MIN_PEOPLE})"
        )
    model = train_model(
        records,
        base=base,
        seed=args.seed,
        population=args.population,
        sample_name=args.sample.name,
        veto_tolerance=tolerance,
        tf_min_people=min_people,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model.to_json(), encoding="utf-8")
    summary = model.training
    print(f"records read      {len(records) + sum(skipped.values()) + erased:>8,}")
    print(f"  used            {len(records):>8,}")
    for reason, count in skipped.most_common():
        print(f"  skipped         {count:>8,}  {reason}")
    if erased:
        print(f"  erased, dropped {erased:>8,}  (people erased from {args.state_dir})")
    print(f"random pairs (u)  {summary.u_pairs:>8,}")
    for rule, pairs in summary.em_pairs.items():
        print(f"EM {rule:<28} {pairs:>8,} pairs, {summary.em_iterations[rule]} iterations")
    if not summary.converged:
        print("warning: EM did not converge within its iteration limit; the model may be rough")
    print(f"prior             {model.probability_two_random_records_match:.3g} (two random records match)")
    for field, rate in summary.conflict_rates.items():
        if field not in model.vetoes:
            verdict = f"over {summary.veto_tolerance:.0%}, weighed by the score instead"
        elif rate > (summary.veto_tolerance or 0.0):
            verdict = f"kept: {summary.matches or 0:,.0f} matches are too few to drop it on"
        else:
            verdict = "kept"
        print(f"veto {field:<12} {rate:8.1%} of the sample's matches conflict on it: {verdict}")
    print(f"wrote the model to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def _link(args: argparse.Namespace) -> int:
    from core.linkage import default_model, link_records, load_model

    model = load_model(args.model) if args.model is not None else default_model()
    with ExitStack() as stack:
        records, skipped, erased = _read(args, args.input, model, stack)
    result = link_records(records, model)
    edges_of: dict[str, list[dict[str, Any]]] = {}
    component_of = {key: i for i, component in enumerate(result.components) for key in component}
    for edge in result.edges:
        data: dict[str, Any] = {"records": [edge.a, edge.b], "kind": edge.kind, "reason": edge.reason}
        if edge.score is not None:
            data["score"] = edge.score.as_dict()
        edges_of.setdefault(str(component_of[edge.a]), []).append(data)
    reviews_of: dict[str, list[dict[str, object]]] = {}
    for decision in result.reviews:
        reviews_of.setdefault(str(component_of[decision.a]), []).append(decision.as_dict())
    refused_of: dict[str, list[dict[str, object]]] = {}
    for refusal in result.refused:
        refused_of.setdefault(str(component_of[refusal.a]), []).append(
            {"records": [refusal.a, refusal.b], "reason": refusal.reason}
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for i, component in enumerate(result.components):
            line = {
                "records": list(component),
                "edges": edges_of.get(str(i), []),
                "reviews": reviews_of.get(str(i), []),
                "refused": refused_of.get(str(i), []),
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    multi = sum(1 for c in result.components if len(c) > 1)
    print(
        f"records           {len(records):>8,}"
        + (f"  ({sum(skipped.values()):,} skipped)" if skipped else "")
    )
    if erased:
        print(f"erased, dropped   {erased:>8,}  (people erased from {args.state_dir})")
    print(f"customers         {len(result.components):>8,}  ({multi:,} of several records)")
    print(f"pairs scored      {result.pairs_scored:>8,}")
    print(f"edges             {len(result.edges):>8,}")
    print(f"reviews           {len(result.reviews):>8,}")
    print(f"refused           {len(result.refused):>8,}")
    for decision in result.reviews[:10]:
        print(f"  review {decision.a} ~ {decision.b}: {decision.reason}")
    print(f"wrote {len(result.components):,} customers to {args.out}")
    return 0
