"""The varied demo population (core.testing.varied_population) and its scoring against the truth."""

from __future__ import annotations

import pytest

from core.normalise import has_other_identity
from core.testing.varied_population import grouping_accuracy, varied_population


def test_the_population_is_deterministic_and_every_record_can_be_found() -> None:
    # GIVEN the same seed twice WHEN generated THEN the same records
    first, again = varied_population(200, seed=3), varied_population(200, seed=3)
    assert first == again
    # AND a record with neither email nor phone still names its person well enough to be kept
    for _, record in first:
        if "email" not in record and "phone" not in record:
            assert has_other_identity(record)
    # AND the variations happen: work emails that no other record of the person holds
    emails: dict[int, set[str]] = {}
    for person, record in first:
        assert person is not None
        emails.setdefault(person, set()).add(str(record.get("email", "")).strip().lower())
    assert sum(1 for found in emails.values() if len(found - {""}) > 1) > 20


def test_grouping_accuracy_counts_pairs_splits_and_over_merges() -> None:
    # GIVEN people 1 (a, b, c) and 2 (d), profiles {a, b}, {c, d}
    person_of = {"a": 1, "b": 1, "c": 1, "d": 2}
    found = grouping_accuracy([["a", "b"], ["c", "d"]], person_of)
    # THEN pairs: predicted ab, cd; true ab, ac, bc -> precision 1/2, recall 1/3
    assert (found.precision, found.recall) == (0.5, pytest.approx(1 / 3))
    assert (found.profiles, found.people, found.split, found.over_merged) == (2, 2, 1, 1)
