"""Train a Fellegi-Sunter model from a sample of records: u from random pairs, m by EM.

The method is the one Splink documents (https://moj-analytical-services.github.io/splink/topic_guides/training/training_rationale.html):

1. **u** (how often non-matches agree at each level) from pairs drawn at random: nearly all random
   pairs are two different people, so their level frequencies are the u probabilities.
2. **m** (how often matches agree) by expectation-maximisation over the candidate pairs of each
   blocking rule, with u fixed. A rule's own fields agree in its pairs by construction, so their m
   is not estimated from that rule; each field's m is the mean over the rules that estimated it.
3. **The prior** (the probability that two records picked at random are one person): EM with m
   and u fixed over all candidate pairs gives how many of them match; divided by all pairs of the
   sample. ``population`` rescales it to the store's expected size, since the number of pairs
   grows with the square of the records and the number of matches only linearly.
4. **Term frequencies** of first names, last names and towns, counted in people, not records: the
   sample's records tied together by an exact identifier (an email or phone key) or by the same
   name and birth date are one person, who holds each of her values once. Only values held by at
   least ``tf_min_people`` people (default ``TF_MIN_PEOPLE``, 5), counted so that a duplicate with a
   keystroke changed is not another person (core.linkage.term_holders), are kept: the model file is
   deployed with every function and no erasure reaches it, so it must name nobody (a surname and a
   town only one family holds would). A value left out is weighed at ``term_frequency_unseen``,
   one person's share, as rare as the sample can tell.
5. **Vetoes the sample supports.** A veto (two different dates of birth never link) says that one
   person's records do not contradict each other on that field. The fitted m says how often the
   sample's own matches do (the conflicting levels' m, core.linkage.conflicts): a field they
   contradict more often than ``veto_tolerance`` (default 1 in 50: a registry that replaced the
   birth dates of 5% of its duplicates) is weighed by the score instead of vetoing, since a veto
   would send that share of true matches to review. A field the sample lacks keeps the base's veto,
   and so does every field when the sample holds fewer than ``MIN_MATCHES_TO_DROP_A_VETO`` matching
   pairs (too few to measure a share of a few percent).

Everything is seeded: the same sample and seed give the same model.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final

from core.linkage.blocking import RULES, candidate_pairs
from core.linkage.comparisons import COMPARISONS, NULL
from core.linkage.conflicts import CONFLICT_LEVELS
from core.linkage.fields import LinkageRecord
from core.linkage.model import (
    ComparisonParams,
    LevelParams,
    LinkageModel,
    Thresholds,
    TrainingSummary,
    default_model,
)
from core.linkage.term_holders import distinct_holders, union

__all__ = ["MIN_MATCHES_TO_DROP_A_VETO", "TF_MIN_PEOPLE", "VETO_TOLERANCE", "train_model"]

#: The largest share of a sample's matches that may conflict on a veto field for the veto to stay.
VETO_TOLERANCE: Final = 0.02
#: A veto is dropped only on evidence: the sample must hold at least this many matching pairs (EM's
#: estimate), so that a 2% share is a few conflicting matches, not one unlucky pair.
MIN_MATCHES_TO_DROP_A_VETO: Final = 200
#: A term frequency is kept only for a value at least this many people of the sample hold (step 4).
TF_MIN_PEOPLE: Final = 5

_SMOOTHING: Final = 0.5  # added to every level's count, so an unseen level is rare, not impossible
_P_MIN: Final = 1e-6
_MAX_ITERATIONS: Final = 200
_TOLERANCE: Final = 1e-6
_MIN_RULE_PAIRS: Final = 20
_MAX_TF_VALUES: Final = 5000

Vector = tuple[int, ...]


def _clamp(p: float) -> float:
    return min(max(p, _P_MIN), 1.0 - _P_MIN)


def _normalised(values: Sequence[float]) -> list[float]:
    total = sum(values)
    return [_clamp(v / total) for v in values]


def _random_pairs(n: int, count: int, rng: random.Random) -> list[tuple[int, int]]:
    if n * (n - 1) // 2 <= count:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    pairs = []
    for _ in range(count):
        i = rng.randrange(n)
        j = rng.randrange(n - 1)
        pairs.append((i, j + 1 if j >= i else j))
    return pairs


def _vectors(records: Sequence[LinkageRecord], pairs: Sequence[tuple[int, int]]) -> Counter[Vector]:
    compares = [c.compare for c in COMPARISONS]
    counts: Counter[Vector] = Counter()
    for i, j in pairs:
        a, b = records[i], records[j]
        counts[tuple(compare(a, b) for compare in compares)] += 1
    return counts


def _level_frequencies(counts: Mapping[Vector, int], field: int, levels: int) -> list[float] | None:
    seen = [0.0] * levels
    for vector, count in counts.items():
        if vector[field] != NULL:
            seen[vector[field]] += count
    if sum(seen) == 0:
        return None
    return _normalised([s + _SMOOTHING for s in seen])


def _em(
    counts: Mapping[Vector, int],
    m: list[list[float]],
    u: list[list[float]],
    estimate: Sequence[int],
    prior: float,
) -> tuple[list[list[float]], float, int, bool]:
    """EM over pattern counts: the m of the ``estimate`` fields and the share of matches, u fixed."""
    m = [list(levels) for levels in m]
    patterns = list(counts.items())
    total = sum(counts.values())
    for iteration in range(1, _MAX_ITERATIONS + 1):
        logit = math.log(prior / (1.0 - prior))
        matched = 0.0
        sums = [[0.0] * len(m[f]) for f in range(len(m))]
        for vector, count in patterns:
            odds = logit
            for f in estimate:
                level = vector[f]
                if level != NULL:
                    odds += math.log(m[f][level] / u[f][level])
            posterior = 1.0 / (1.0 + math.exp(-odds)) if odds > -700 else 0.0
            weight = posterior * count
            matched += weight
            for f in estimate:
                level = vector[f]
                if level != NULL:
                    sums[f][level] += weight
        new_prior = _clamp(matched / total)
        change = abs(new_prior - prior)
        for f in estimate:
            if sum(sums[f]) > 0:
                updated = _normalised([s + 1e-9 for s in sums[f]])
                change = max(change, max(abs(x - y) for x, y in zip(updated, m[f], strict=True)))
                m[f] = updated
        prior = new_prior
        if change < _TOLERANCE:
            return m, prior, iteration, True
    return m, prior, _MAX_ITERATIONS, False


def _people(records: Sequence[LinkageRecord]) -> list[int]:
    """Each record's person (an index): records tied by an exact identifier (email or phone key) or
    by the same first name, last name and birth date are one (a union-find over those values)."""
    ties: list[list[tuple[str, ...]]] = []
    for record in records:
        tied: list[tuple[str, ...]] = [("email", k) for k in record.email_keys]
        tied += [("phone", p) for p in record.phones]
        if record.first_name and record.last_name and record.date_of_birth:
            tied.append(("born", record.first_name, record.last_name, record.date_of_birth))
        ties.append(tied)
    return union(ties)


def _term_frequencies(
    records: Sequence[LinkageRecord], min_people: int = TF_MIN_PEOPLE
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """The share of the sample's people holding each value held by at least ``min_people`` of them,
    per field that weighs its exact level by it, and one person's share (the unseen value's)."""
    person = _people(records)
    tables: dict[str, dict[str, float]] = {}
    unseen: dict[str, float] = {}
    for comparison in COMPARISONS:
        if comparison.tf_value is None:
            continue
        held = {(person[i], v) for i, v in enumerate(map(comparison.tf_value, records)) if v}
        values = Counter(v for _, v in held)
        total = sum(values.values())
        if total == 0:
            continue
        at_least = max(2, min_people)
        # kept only when that many people surely hold it (core.linkage.term_holders)
        frequent = {v for v, n in values.items() if n >= at_least}
        holders = distinct_holders(records, comparison.name, comparison.tf_value, frequent)
        common = [(v, n) for v, n in values.most_common() if n >= at_least and holders[v] >= at_least]
        tables[comparison.name] = {v: _clamp(n / total) for v, n in common[:_MAX_TF_VALUES]}
        unseen[comparison.name] = _clamp(1.0 / total)
    return tables, unseen


def train_model(
    records: Sequence[LinkageRecord],
    *,
    base: LinkageModel | None = None,
    seed: int = 0,
    u_pairs: int = 300_000,
    population: int | None = None,
    sample_name: str = "",
    veto_tolerance: float = VETO_TOLERANCE,
    tf_min_people: int = TF_MIN_PEOPLE,
) -> LinkageModel:
    """Train m, u, the prior and the term frequencies on ``records``; the rest comes from ``base``.

    ``base`` (default: ``default_model()``) gives the thresholds, vetoes and limits, and the m or u
    of any field the sample never fills. ``population``: the number of records the model will match
    among (default: the sample's size). ``veto_tolerance``: see the module docstring (step 5);
    ``tf_min_people``: step 4.
    Raises ``ValueError`` for fewer than two records.
    """
    if len(records) < 2:
        raise ValueError(f"training needs at least two records, got {len(records)}")
    if base is None:
        # A fitted model links at the usual 0.99; the untrained default asks for more (model.py).
        untrained = default_model().model_dump()
        base = LinkageModel.model_validate({**untrained, "thresholds": Thresholds().model_dump()})
    params = {p.name: p for p in base.comparisons}
    m = [[level.m for level in params[c.name].levels] for c in COMPARISONS]
    u = [[level.u for level in params[c.name].levels] for c in COMPARISONS]
    rng = random.Random(seed)

    # 1. u from random pairs.
    random_pairs = _random_pairs(len(records), u_pairs, rng)
    random_counts = _vectors(records, random_pairs)
    for f, comparison in enumerate(COMPARISONS):
        frequencies = _level_frequencies(random_counts, f, len(comparison.levels))
        if frequencies is not None:
            u[f] = frequencies

    # 2. m by EM, one session per blocking rule, leaving out the rule's own fields.
    candidates = candidate_pairs(records, base.max_block_size)
    estimates: dict[int, list[list[float]]] = {}
    em_pairs: dict[str, int] = {}
    em_iterations: dict[str, int] = {}
    converged = True
    prior_guess = 0.3
    for rule in RULES:
        pairs = candidates.by_rule.get(rule.name, set())
        if len(pairs) < _MIN_RULE_PAIRS:
            continue
        counts = _vectors(records, sorted(pairs))
        estimate = [f for f, c in enumerate(COMPARISONS) if c.name not in rule.comparisons]
        fitted, _, iterations, done = _em(counts, m, u, estimate, prior_guess)
        em_pairs[rule.name] = len(pairs)
        em_iterations[rule.name] = iterations
        converged = converged and done
        for f in estimate:
            if any(vector[f] != NULL for vector in counts):
                estimates.setdefault(f, []).append(fitted[f])
    for f, runs in estimates.items():
        m[f] = _normalised([sum(run[level] for run in runs) / len(runs) for level in range(len(m[f]))])

    # 3. The prior: the share of matches among all candidate pairs, over all pairs of the sample.
    union_counts = _vectors(records, sorted(candidates.pairs)) if candidates.pairs else Counter[Vector]()
    n = len(records)
    all_pairs = n * (n - 1) / 2
    found_matches = 0.0
    if union_counts:
        _, share, _, _ = _em(union_counts, m, u, [], 0.3)
        matches = found_matches = share * sum(union_counts.values())
    else:
        matches = base.probability_two_random_records_match * all_pairs
    size = population if population and population > 1 else n
    # Matches per record stay the same at another size; pairs grow with its square.
    prior = _clamp(matches / all_pairs * (n - 1) / (size - 1))

    # 5. Keep the vetoes whose field the sample's matches rarely contradict (fitted m only).
    position = {c.name: f for f, c in enumerate(COMPARISONS)}
    conflict_rates: dict[str, float] = {}
    vetoes = []
    for name in base.vetoes:
        f = position[name]
        if f in estimates:
            conflict_rates[name] = round(sum(m[f][level] for level in CONFLICT_LEVELS[name]), 6)
            if conflict_rates[name] > veto_tolerance and found_matches >= MIN_MATCHES_TO_DROP_A_VETO:
                continue
        vetoes.append(name)

    tables, unseen = _term_frequencies(records, tf_min_people)
    comparisons = tuple(
        ComparisonParams(
            name=c.name,
            levels=tuple(
                LevelParams(label=label, m=_clamp(m[f][level]), u=_clamp(u[f][level]))
                for level, label in enumerate(c.levels)
            ),
        )
        for f, c in enumerate(COMPARISONS)
    )
    summary = TrainingSummary(
        sample=sample_name,
        records=n,
        u_pairs=len(random_pairs),
        em_pairs=em_pairs,
        em_iterations=em_iterations,
        converged=converged,
        conflict_rates=conflict_rates,
        veto_tolerance=veto_tolerance,
        matches=round(found_matches, 1),
    )
    # Validated anew (not model_copy): the copy must not carry the base's cached weight table.
    return LinkageModel.model_validate(
        {
            **base.model_dump(),
            "comparisons": comparisons,
            "probability_two_random_records_match": prior,
            "term_frequencies": tables,
            "term_frequency_unseen": unseen,
            "vetoes": tuple(vetoes),
            "training": summary,
        }
    )
