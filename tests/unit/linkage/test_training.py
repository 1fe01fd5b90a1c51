"""EM training recovers what made the data, and is repeatable."""

from __future__ import annotations

import pytest

from core.linkage import default_model, link_records, train_model
from core.linkage.comparisons import NULL, comparison_named
from core.testing.linkage_population import people


def _level_m(model: object, field: str, label: str) -> float:
    for comparison in model.comparisons:  # type: ignore[attr-defined]
        if comparison.name == field:
            return next(level.m for level in comparison.levels if level.label == label)
    raise AssertionError(field)


def test_em_recovers_the_share_of_exact_agreement_among_matches() -> None:
    """GIVEN people whose copies mistype each field with probability 0.2 WHEN trained THEN m(exact) is
    the share of exact agreement among the true pairs that hold the field (about 0.8 for names; more
    for birth dates, since a slip that makes a day impossible leaves the copy without one), and
    u(exact) is small."""
    records, truth = people(1500, copies=1, typo_rate=0.2, seed=1)
    model = train_model(records, seed=3, u_pairs=40_000)
    by_key = {r.key: r for r in records}
    pairs = [(by_key[a], by_key[b]) for a in truth for b in truth if a < b and truth[a] == truth[b]]
    for field in ("first_name", "last_name", "date_of_birth"):
        levels = [comparison_named(field).compare(a, b) for a, b in pairs]
        held = [level for level in levels if level != NULL]
        share = sum(1 for level in held if level == 0) / len(held)
        assert 0.75 <= share <= 0.95, (field, share)
        assert _level_m(model, field, "exact") == pytest.approx(share, abs=0.06), field
    assert model.training.converged
    first = next(c for c in model.comparisons if c.name == "first_name")
    assert first.levels[0].u < 0.1


def test_the_trained_model_links_the_people_it_was_trained_on() -> None:
    """GIVEN noisy synthetic people WHEN trained and linked THEN precision and recall are high."""
    records, truth = people(600, copies=2, typo_rate=0.15, seed=2)
    model = train_model(records, seed=0, u_pairs=40_000)
    result = link_records(records, model)
    predicted = {(a, b) for c in result.components for i, a in enumerate(c) for b in c[i + 1 :]}
    true = {(a, b) for a in truth for b in truth if a < b and truth[a] == truth[b]}
    hits = len(predicted & true)
    assert hits / len(predicted) >= 0.98
    assert hits / len(true) >= 0.95
    # AND a fitted model links at 0.99, where the untrained shipped model asks for 0.999
    assert (model.thresholds.link, default_model().thresholds.link) == (0.99, 0.999)


def test_training_is_repeatable_and_the_population_rescales_the_prior() -> None:
    """GIVEN one sample and seed WHEN trained twice THEN the same model; ten times the population gives a
    prior about ten times smaller (matches per record stay, pairs grow with the square)."""
    records, _ = people(300, copies=1, typo_rate=0.1, seed=4)
    first = train_model(records, seed=9, u_pairs=20_000)
    assert train_model(records, seed=9, u_pairs=20_000) == first
    bigger = train_model(records, seed=9, u_pairs=20_000, population=6000)
    ratio = first.probability_two_random_records_match / bigger.probability_two_random_records_match
    assert ratio == pytest.approx((6000 - 1) / (600 - 1), rel=1e-6)


def test_training_needs_two_records() -> None:
    """GIVEN one record WHEN trained THEN a ValueError says at least two are needed."""
    records, _ = people(1, copies=0)
    with pytest.raises(ValueError, match="at least two"):
        train_model(records)
