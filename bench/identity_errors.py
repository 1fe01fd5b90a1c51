"""Every false negative and false positive of the pure matcher on a FEBRL set, with its cause.

``python -m bench.identity_accuracy --errors`` prints, per data set and field set, a count of the
errors by cause and then each error: the two records' fields side by side and the per-field levels.
The causes, from the matcher's own result (never guessed from the data):

- ``not a candidate``: the two records share no usable blocking key (a blocking miss, or a key
  over the size limit);
- ``vetoed: <fields>``: the pair scored but a veto field conflicts (goes to review or no link);
- ``score below review`` / ``score between thresholds``: the evidence was too weak;
- ``link refused: <kind>``: the pair linked but the graph refused the link (a conflict in the chain,
  the cap);
- ``split elsewhere``: the pair itself was linked or never compared, yet its records end up apart
  because a group they belong to was cut (FEBRL3 holds people with up to ten records);
- false positives: ``direct link`` (the pair itself linked) or ``transitive`` (joined through others).

The aim is to fix causes, not instances: the summary is what to read first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from core.linkage import LinkageModel, LinkageRecord, LinkResult, score_pair
from core.linkage.linking import Decision

Pair = tuple[str, str]

_SHOWN = (
    "first_name",
    "last_name",
    "date_of_birth",
    "house_number",
    "street",
    "address_line2",
    "city",
    "postal_code",
    "region",
    "national_id",
)


_COMPARED_AS = {"house_number": "address", "street": "address"}


def _cause_of_miss(pair: Pair, decisions: Mapping[Pair, Decision], refusals: Mapping[Pair, str]) -> str:
    decision = decisions.get(pair)
    if decision is None:
        return "not a candidate"
    if decision.conflicts:
        return "vetoed: " + ",".join(c.field for c in decision.conflicts) + f" ({decision.outcome})"
    if decision.outcome == "no_link":
        return "score below review"
    if decision.outcome == "review":
        return "score between thresholds"
    refused = refusals.get(pair)
    if refused is not None:
        return f"link refused: {refused}"
    return "split elsewhere"


def errors_report(
    records: Sequence[LinkageRecord],
    model: LinkageModel,
    result: LinkResult,
    truth: set[Pair],
    predicted: set[Pair],
    limit: int = 100_000,
) -> str:
    """The errors of one run of the pure matcher, summarised by cause, then listed (up to ``limit``
    of each kind)."""
    by_key = {r.key: r for r in records}
    decisions = {(d.a, d.b): d for d in result.decisions}
    refusals = {(r.a, r.b): r.kind for r in result.refused}
    misses = sorted(truth - predicted)
    wrong = sorted(predicted - truth)
    miss_causes = {pair: _cause_of_miss(pair, decisions, refusals) for pair in misses}
    edges = {(e.a, e.b) for e in result.edges}
    wrong_causes = {pair: "direct link" if pair in edges else "transitive" for pair in wrong}
    lines = [f"  false negatives: {len(misses)}; false positives: {len(wrong)}"]
    for label, causes in (("FN", miss_causes), ("FP", wrong_causes)):
        for cause, count in Counter(causes.values()).most_common():
            lines.append(f"    {label} {count:5d}  {cause}")
    for label, causes in (("FN", miss_causes), ("FP", wrong_causes)):
        for pair in list(causes)[:limit]:
            a, b = by_key[pair[0]], by_key[pair[1]]
            lines.append(f"  {label} {pair[0]} ~ {pair[1]}: {causes[pair]}")
            lines.extend(_side_by_side(a, b, model))
    return "\n".join(lines)


def _side_by_side(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> list[str]:
    score = score_pair(a, b, model)
    levels = {f.field: f"{f.level} {f.weight:+.1f}" for f in score.fields}
    out = [f"      p={score.probability:.6f} weight={score.weight:+.2f}"]
    for name in _SHOWN:
        x: Any = getattr(a, name)
        y: Any = getattr(b, name)
        level = levels.get(_COMPARED_AS.get(name, name), "null")
        out.append(f"      {name:<14} {x!s:<24} {y!s:<24} {level}")
    return out
