"""The match weight of a pair in one function: the shipped comparisons inlined, in the model's order.

``scoring.weigh`` is ingest's hot path (a batch at 3,000 people decides ~800 pairs, nearly all clear
non-matches). Its generic form loops over the model's comparisons and calls each one, which costs
more than most comparisons' own work: a missing field (``NULL``) or two equal values (``exact``) is
known from two attribute reads. ``fused_weigh`` is the same sum for a model whose comparisons are
the code's, in the code's order (every shipped and trained model): each field's missing and equal
cases are read inline, the comparison is called only for the rest, the term-frequency weight of
an exact name or town is looked up once per value, and the weight of two different names or towns
is kept per pair of values (a name's comparison reads the other name too, for a swap). The inlined
cases are facts of the code's comparisons: a name, postcode, town, region or national id is
``NULL`` when either value is missing and ``exact`` when the two are equal; two equal birth dates
are ``exact``; equal street keys and house numbers are ``house_number_and_street``, and a record
with neither a street nor a line 2 is ``NULL`` on address; line 2, email and phone are ``NULL``
when either record has none. The weights are added in the model's order, as the loop adds them,
so the two give the same float
(tests/unit/linkage/test_fast_paths.py checks both on hypothesis-made records). Any other model
takes the loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from core.linkage.comparisons import COMPARISONS, NULL
from core.privacy_caches import remember

if TYPE_CHECKING:
    from core.linkage.fields import LinkageRecord
    from core.linkage.model import _Entry, _WeightTable

__all__ = ["Weigh", "fused_weigh"]

Weigh = Callable[["LinkageRecord", "LinkageRecord"], tuple[float, bool]]

_SHIPPED: Final = tuple(c.name for c in COMPARISONS)
_COMPARE: Final = {c.name: c.compare for c in COMPARISONS}
_K = TypeVar("_K")
_KEPT: Final = 20_000
"""Pairs of different names (or towns) whose weight is kept, and values whose exact weight is: each
table is emptied when full (a few megabytes at most; 8,576 pairs of names at 3,000 people)."""


class _KeptWeights:
    """The tables of weights one fused weigh keeps by value (names, towns: people's values), so
    that an erasure empties them (core.privacy_caches, which holds this weakly: it lives as long as
    the weigh that keeps it)."""

    __slots__ = ("__weakref__", "tables")

    def __init__(self) -> None:
        self.tables: list[dict[Any, float]] = []
        remember(self)

    def table(self) -> dict[Any, float]:
        made: dict[Any, float] = {}
        self.tables.append(made)
        return made

    def cache_clear(self) -> None:
        for table in self.tables:
            table.clear()


def _exact_weights(entry: _Entry, tf_minimum: float, kept: _KeptWeights) -> Callable[[str], float]:
    """The weight of the exact level for a value, as the generic loop works it out (the level's
    weight, or the term-frequency weight when the model has frequencies for the field), kept per value."""
    _, weights, tf_level, tf_value, ms, tf, unseen, _, _ = entry
    plain = weights[0]
    if tf_level != 0 or tf_value is None or not (tf or unseen is not None):
        return lambda value: plain
    known = kept.table()
    m = ms[0]

    def weight(value: str) -> float:
        found = known.get(value)
        if found is None:
            frequency = tf.get(value, unseen)
            found = plain if frequency is None else math.log2(m / max(frequency, tf_minimum))
            if len(known) < _KEPT:
                known[value] = found
        return found

    return weight


def _keep(kept: dict[_K, float], key: _K, weight: float) -> float:
    """Keep a weight worked out for a pair of values (the table emptied when full) and return it."""
    if len(kept) >= _KEPT:
        kept.clear()
    kept[key] = weight
    return weight


def fused_weigh(table: _WeightTable) -> Weigh | None:
    """The fused weigh for the table's model, or None when its comparisons are not the code's in the
    code's order (the generic loop then weighs)."""
    entries = table.entries
    if tuple(e[8].name for e in entries) != _SHIPPED or any(e[0] is not _COMPARE[e[8].name] for e in entries):
        return None
    by_name = {e[8].name: e for e in entries}
    email_review = by_name["email"][7]
    prior, tf_minimum = table.prior_weight, table.tf_minimum
    kept = _KeptWeights()
    first_exact = _exact_weights(by_name["first_name"], tf_minimum, kept)
    last_exact = _exact_weights(by_name["last_name"], tf_minimum, kept)
    city_exact = _exact_weights(by_name["city"], tf_minimum, kept)
    w_first, w_last, w_dob, w_address, w_line2, w_postcode, w_city, w_region, w_email, w_phone, w_id = (
        e[1] for e in entries
    )
    (
        first_name,
        last_name,
        date_of_birth,
        address,
        address_line2,
        postal_code,
        city,
        _,
        email,
        phone,
        national_id,
    ) = (e[0] for e in entries)

    # The weight of two different names (with the other name, which a swap reads) or towns, by the
    # values: a population holds far fewer of those than pairs, and each costs a similarity or more.
    firsts: dict[tuple[str, str, str | None, str | None], float] = kept.table()
    lasts: dict[tuple[str, str, str | None, str | None], float] = kept.table()
    towns: dict[tuple[str, str], float] = kept.table()

    # ``kept`` rides as a default: the weigh holds it (privacy_caches holds it weakly), no call pays.
    def weigh(a: LinkageRecord, b: LinkageRecord, _kept: _KeptWeights = kept) -> tuple[float, bool]:
        total = prior
        x, y = a.first_name, b.first_name
        if x is not None and y is not None:
            if x == y:
                total += first_exact(x)
            else:
                names = (x, y, a.last_name, b.last_name)
                weight = firsts.get(names)
                total += _keep(firsts, names, w_first[first_name(a, b)]) if weight is None else weight
        x, y = a.last_name, b.last_name
        if x is not None and y is not None:
            if x == y:
                total += last_exact(x)
            else:
                names = (x, y, a.first_name, b.first_name)
                weight = lasts.get(names)
                total += _keep(lasts, names, w_last[last_name(a, b)]) if weight is None else weight
        x, y = a.date_of_birth, b.date_of_birth
        if x is not None and x == y:
            total += w_dob[0]
        else:
            level = date_of_birth(a, b)
            if level != NULL:
                total += w_dob[level]
        x, y = a.street_key, b.street_key
        if x is not None and x == y and a.house_number is not None and a.house_number == b.house_number:
            total += w_address[0]
        elif (x is not None or a.line2_key is not None) and (y is not None or b.line2_key is not None):
            level = address(a, b)
            if level != NULL:
                total += w_address[level]
        if a.line2_key is not None and b.line2_key is not None:
            total += w_line2[address_line2(a, b)]
        x, y = a.postal_code, b.postal_code
        if x is not None and y is not None:
            total += w_postcode[0] if x == y else w_postcode[postal_code(a, b)]
        x, y = a.city, b.city
        if x is not None and y is not None:
            if x == y:
                total += city_exact(x)
            else:
                weight = towns.get((x, y))
                total += _keep(towns, (x, y), w_city[city(a, b)]) if weight is None else weight
        x, y = a.region, b.region
        if x is not None and y is not None:
            total += w_region[0] if x == y else w_region[1]
        review = False
        if a.email_keys and b.email_keys:
            level = email(a, b)
            total += w_email[level]
            review = level == email_review
        if a.phones and b.phones:
            total += w_phone[phone(a, b)]
        x, y = a.national_id, b.national_id
        if x is not None and y is not None:
            total += w_id[0] if x == y else w_id[national_id(a, b)]
        return total, review

    return weigh
