"""Score a pair of records with a Fellegi-Sunter model, and say which field gave how much.

``score_pair`` gives the match weight, its probability and one ``FieldWeight`` per compared field:
the data ``explain`` prints ("first_name nickname +5.1, date_of_birth exact +12.0, ...").
``match_weight`` is the same number without the explanation, for the hot path. Both are symmetric
and depend on the two records and the model only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Final

from core.linkage.comparisons import NULL
from core.linkage.fields import LinkageRecord
from core.linkage.fused import fused_weigh
from core.linkage.model import LinkageModel, _Entry, _WeightTable, probability_from_weight
from core.linkage.slots import slot_maker
from core.privacy_caches import remember

__all__ = [
    "FieldWeight",
    "PairScore",
    "comparison_vector",
    "match_weight",
    "pair_weigh",
    "score_pair",
    "weigh",
]


@dataclass(frozen=True, slots=True)
class FieldWeight:
    """What one field said about a pair: its level and the weight (bits) that level adds."""

    field: str
    level: str
    weight: float
    term_frequency: float | None = None
    """The value's frequency when the exact level's weight was adjusted by it."""


@dataclass(frozen=True, slots=True)
class PairScore:
    """The score of one pair (keys in sorted order) and the per-field reasons."""

    a: str
    b: str
    weight: float
    probability: float
    fields: tuple[FieldWeight, ...]
    review_fields: tuple[str, ...] = ()
    """Fields at a level that asks for review whatever the score (an email domain typo)."""

    def as_dict(self) -> dict[str, object]:
        """Plain data for a review item, an explain answer or a report."""
        return {
            "records": [self.a, self.b],
            "weight": round(self.weight, 3),
            "probability": round(self.probability, 6),
            "fields": [
                {"field": f.field, "level": f.level, "weight": round(f.weight, 3)}
                | ({"term_frequency": f.term_frequency} if f.term_frequency is not None else {})
                for f in self.fields
            ],
            "review_fields": list(self.review_fields),
        }


def _tf_weight(
    m: float, value: str | None, tf: Mapping[str, float], unseen: float | None, floor: float
) -> float | None:
    if value is None:
        return None
    frequency = tf.get(value, unseen)
    if frequency is None:
        return None
    return math.log2(m / max(frequency, floor))


def comparison_vector(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> tuple[int, ...]:
    """The level of each of the model's comparisons for the pair (``NULL`` where a field is missing)."""
    return tuple(entry[0](a, b) for entry in model.table().entries)


def match_weight(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> float:
    """The pair's match weight in bits: the prior plus each field's weight."""
    return weigh(a, b, model)[0]


def weigh(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> tuple[float, bool]:
    """The match weight, and whether a field sits at a level that asks for review (no explanation built).

    The hot path of ingest: most candidate pairs are clear non-matches, which need no reasons. The
    sum is core.linkage.fused's for a model of the code's comparisons (the same float), else the loop.
    """
    return pair_weigh(model)(a, b)


def pair_weigh(model: LinkageModel) -> Callable[[LinkageRecord, LinkageRecord], tuple[float, bool]]:
    """``weigh`` for one model, looked up once (made on the first call): core.linkage.fused's, or the
    loop for a model of other comparisons."""
    table = model.table()
    fused = table.fused
    if fused is None:
        fused = table.fused = fused_weigh(table) or partial(_weigh_loop, table=table)
    return fused


def _weigh_loop(a: LinkageRecord, b: LinkageRecord, table: _WeightTable) -> tuple[float, bool]:
    total = table.prior_weight
    review = False
    for compare, weights, tf_level, tf_value, ms, tf, unseen, review_level, _ in table.entries:
        level = compare(a, b)
        if level < 0:
            continue
        if level == tf_level and tf_value is not None and (tf or unseen is not None):
            adjusted = _tf_weight(ms[level], tf_value(a), tf, unseen, table.tf_minimum)
            total += weights[level] if adjusted is None else adjusted
        else:
            total += weights[level]
        if level == review_level:
            review = True
    return total, review


def score_pair(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> PairScore:
    """Score the pair and keep every field's contribution (see the module docstring)."""
    if b.key < a.key:
        a, b = b, a
    table = model.table()
    shown = table.level_weights
    if shown is None:
        shown = table.level_weights = _level_weights(table)
    total = table.prior_weight
    fields: list[FieldWeight] = []
    review: list[str] = []
    for entry, (at_level, by_value) in zip(table.entries, shown, strict=True):
        compare, _, tf_level, tf_value, _, tf, unseen, review_level, comparison = entry
        level = compare(a, b)
        if level == NULL:
            continue
        if level == tf_level and tf_value is not None and (tf or unseen is not None):
            value = tf_value(a)
            field_weight = by_value.kept.get(value)
            if field_weight is None:
                field_weight = by_value.keep(value, _tf_field_weight(entry, level, value, table.tf_minimum))
        else:
            field_weight = at_level[level]
        total += field_weight.weight
        fields.append(field_weight)
        if level == review_level:
            review.append(comparison.name)
    return _make_score(a.key, b.key, total, probability_from_weight(total), tuple(fields), tuple(review))


_make_score: Final = slot_maker(PairScore)
_make_field_weight: Final = slot_maker(FieldWeight)


class _ByValue:
    """A comparison's term-frequency ``FieldWeight`` by value (a name, a town): people's values,
    so emptied on an erasure (core.privacy_caches) and when it holds ``LIMIT``."""

    __slots__ = ("__weakref__", "kept")
    LIMIT: Final = 20_000

    def __init__(self) -> None:
        self.kept: dict[str | None, FieldWeight] = {}
        remember(self)

    def cache_clear(self) -> None:
        self.kept.clear()

    def keep(self, value: str | None, field_weight: FieldWeight) -> FieldWeight:
        if len(self.kept) >= self.LIMIT:
            self.kept.clear()
        self.kept[value] = field_weight
        return field_weight


def _tf_field_weight(entry: _Entry, level: int, value: str | None, tf_minimum: float) -> FieldWeight:
    """The ``FieldWeight`` of a comparison's term-frequency level for the value (``tf_value`` of the
    pair's first record): adjusted by its frequency when the model has one, else the level's."""
    _, weights, _, _, ms, tf, unseen, _, comparison = entry
    weight, frequency = weights[level], None
    adjusted = _tf_weight(ms[level], value, tf, unseen, tf_minimum)
    if adjusted is not None and value is not None:
        weight = adjusted
        frequency = max(tf.get(value, unseen or 0.0), tf_minimum)
    return _make_field_weight(comparison.name, comparison.levels[level], weight, frequency)


def _level_weights(table: _WeightTable) -> tuple[tuple[tuple[FieldWeight, ...], _ByValue], ...]:
    """Per comparison, the ``FieldWeight`` of each of its levels unadjusted (no term frequency): a
    frozen value that every pair at the level shares, made once rather than per pair (a frozen
    dataclass's ``__init__`` cost more than the comparison behind it); and the ``FieldWeight`` of
    its term-frequency level by value, kept as pairs meet them (a name or town repeats across a
    population: its frequency, weight and ``FieldWeight`` were made again for every pair)."""
    return tuple(
        (
            tuple(
                FieldWeight(comparison.name, comparison.levels[level], weight, None)
                for level, weight in enumerate(weights)
            ),
            _ByValue(),
        )
        for _, weights, _, _, _, _, _, _, comparison in table.entries
    )
