"""Which blocking rules find which true links: the evidence behind the rules a record is filed under.

Every rule a record is filed under costs a ``BLOCK#`` item written and read per record at ingest
(docs/identity.md, Throughput); a rule earns its place only by true links the others miss. For each
data set, the pure matcher's candidate pairs over the shipped rules and the retired ones
(``core.linkage.blocking.RULES`` + ``RETIRED_RULES``) are decided once with the model (FEBRL: trained
on the data set, as ``bench.identity_accuracy`` does; the varied demo population: the shipped model);
then each rule is left out in turn: the links the model makes over the other rules' candidates,
closed transitively with the shared emails and phones, scored against the truth. A rule whose
removal changes nothing on any data set finds no true link the others miss.

    python -m bench.blocking_rules [--datasets febrl3 febrl4] [--people 3000]

This is the pure matcher (no cap, conflict or review logic of the graph, no batches), so its F1 is
above the product's; it ranks the rules, and the product's accuracy is then measured through
``profilesync resolve`` (``bench.identity_accuracy``).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from bench.identity_accuracy import FIELDS
from bench.identity_scoring import Pair, closure, components, load_datasets, pair
from core.linkage import LinkageModel, LinkageRecord, linkage_record, train_model
from core.linkage.blocking import RETIRED_RULES, RULES, BlockingRule, candidate_pairs
from core.linkage.linking import decide


@dataclass
class Evidence:
    """One data set's records, the model to decide with, the true pairs and the pairs its exact
    identifiers (shared emails and phones) join anyway."""

    name: str
    records: list[LinkageRecord]
    model: LinkageModel
    truth: set[Pair]
    exact: list[Pair]


def febrl(name: str) -> Evidence:
    """FEBRL3 or FEBRL4 with the ``crm`` fields, and a model trained on it."""
    data = load_datasets([name])[0]
    records = []
    for frame, prefix in zip(data.frames, data.prefixes, strict=True):
        for rec_id, row in frame.iterrows():
            traits = {FIELDS[c]: row[c] for c in FIELDS if isinstance(row[c], str)}
            records.append(linkage_record(prefix + str(rec_id), traits))
    return Evidence(name, records, train_model(records, seed=0, sample_name=name), data.truth, [])


def varied(people: int) -> Evidence:
    """The varied demo population (seed 7, as ``bench.identity_accuracy``), normalised, with the
    shipped model; its shared emails and phones as exact pairs."""
    from connectors.jsonl import draft_from_flat
    from core.link_scope import LinkageSettings
    from core.linkage.fields import from_source_record
    from core.normalise import NormaliseOptions, normalise_record
    from core.schema import SourceRecord
    from core.testing.varied_population import varied_population

    options = NormaliseOptions(default_region="GB")
    records: list[LinkageRecord] = []
    people_of: dict[int, list[str]] = {}
    holders: dict[str, list[str]] = {}
    for person, flat in varied_population(people, seed=7):
        record = normalise_record(draft_from_flat(flat), options)
        if not isinstance(record, SourceRecord):
            continue
        records.append(from_source_record(record))
        if person is not None:
            people_of.setdefault(person, []).append(record.key)
        for ident in record.identifiers:
            if ident.kind in ("email", "phone"):
                holders.setdefault(ident.key, []).append(record.key)
    exact = [pair(a, b) for keys in holders.values() for a, b in itertools.pairwise(keys)]
    model = LinkageSettings().model
    assert model is not None
    return Evidence(f"varied {people:,}", records, model, closure(people_of.values()), exact)


def rule_table(evidence: Evidence, rules: Sequence[BlockingRule]) -> list[str]:
    """Lines: F1 with every rule, then per rule its keys a record, candidate pairs and F1 without it."""
    records, model = evidence.records, evidence.model
    found = candidate_pairs(records, model.max_block_size, rules)
    linked = {(a, b) for a, b in found.pairs if decide(records[a], records[b], model).outcome == "link"}
    keys = [r.key for r in records]

    def f1(names: set[str]) -> tuple[float, float]:
        pairs = [pair(keys[a], keys[b]) for n in names for a, b in found.by_rule[n] if (a, b) in linked]
        predicted = closure(components([*pairs, *evidence.exact, *((k, k) for k in keys)]))
        hits = len(predicted & evidence.truth)
        precision = hits / len(predicted) if predicted else 1.0
        recall = hits / len(evidence.truth)
        return recall, 2 * precision * recall / (precision + recall) if hits else 0.0

    every = {rule.name for rule in rules}
    recall, best = f1(every)
    lines = [
        f"{evidence.name}: {len(records):,} records, {len(evidence.truth):,} true pairs, "
        f"{len(found.pairs):,} candidate pairs; every rule: R {recall:.4f} F1 {best:.4f}"
    ]
    for rule in rules:
        per_record = sum(len(rule.keys(r)) for r in records) / len(records)
        recall, without = f1(every - {rule.name})
        retired = " (retired)" if rule in RETIRED_RULES else ""
        lines.append(
            f"  without {rule.prefix} {rule.name + retired:38} {per_record:4.2f} keys a record, "
            f"{len(found.by_rule[rule.name]):6,} pairs; R {recall:.4f} F1 {without:.4f} "
            f"({without - best:+.4f})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["febrl3", "febrl4"])
    parser.add_argument("--people", type=int, default=3000, help="the varied population (0: none)")
    args = parser.parse_args()
    rules = (*RULES, *RETIRED_RULES)
    sets = [febrl(name) for name in args.datasets]
    if args.people:
        sets.append(varied(args.people))
    for evidence in sets:
        print("\n".join(rule_table(evidence, rules)), flush=True)


if __name__ == "__main__":
    main()
