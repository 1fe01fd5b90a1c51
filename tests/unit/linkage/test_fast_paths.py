"""The hot path's shortcuts give what the plain code gives, on hypothesis-made records.

Ingest prepares every record and scores every candidate pair through shortcuts: the fused weigh
(core.linkage.fused), the shipped blocking rules written inline, one pass over a record's traits,
and birth dates read once per spelling. Each is checked here against the code it stands for.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from dataclasses import fields as dataclass_fields
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.linkage import (
    Edge,
    GraphNode,
    LinkageModel,
    LinkageRecord,
    blocking_keys,
    decide,
    default_model,
    linkage_record,
)
from core.linkage.blocking import RULES
from core.linkage.conflicts import vetoing_conflicts
from core.linkage.fields import _birth_date, _trait_texts
from core.linkage.fused import fused_weigh
from core.linkage.graph import _records_conflict, _value_conflicts
from core.linkage.linking import Decision, _explained, _no_link
from core.linkage.model import probability_from_weight
from core.linkage.scoring import FieldWeight, PairScore, _tf_weight, _weigh_loop, score_pair, weigh
from core.linkage.slots import slot_maker
from core.normalise._identity import FIELD_ALIASES, birth_date_slip, parse_date_of_birth, trait_text
from tests.hypothesis_profiles import examples

_NAMES = ["ann", "Anne", "anna", "Ann-Marie", "annie", "ana", "bob", "Robert", "rob", "o'neil", "oneil", "x"]
_SURNAMES = ["Smith", "Smyth", "smith", "Jones", "Johns", "Ann", "Bob", "Thompson", "Tompson", "a"]
_STREETS = ["12 High St", "12 High Street", "12a High St", "13 High St", "High Street", "Flat 2", "Villa 9"]
_DATES = [
    "1980-01-31",
    "1980-02-01",
    "1980-31-01",
    "19800131",
    "1980-01-13",
    "1932-02-39",
    "1900-01-01",
    "07/03/1980",
    "1975-06-02",
    "1962-11-20",
]

_value = st.one_of(
    st.none(), st.just(""), st.just("  "), st.booleans(), st.integers(0, 99), st.just("y" * 201)
)


def _field(choices: list[str]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), st.sampled_from(choices), _value)


_traits = st.fixed_dictionaries(
    {},
    optional={
        "first_name": _field(_NAMES),
        "given_name": _field(_NAMES),
        "last_name": _field(_SURNAMES),
        "surname": _field(_SURNAMES),
        "full_name": _field(["Ann Smith", "Bob", "Ann Marie Smyth"]),
        "dob": _field(_DATES),
        "date_of_birth": _field(_DATES),
        "house_number": _field(["12", "12a", "13", "x"]),
        "address": _field(_STREETS),
        "street": _field(_STREETS),
        "address_line2": _field(_STREETS),
        "postcode": _field(["SW1A 1AA", "SW1A 1AB", "SW1B 1AA", "4223", "4228", "42230"]),
        "city": _field(["London", "Londn", "Leeds", "Exeter"]),
        "town": _field(["London", "Leeds"]),
        "state": _field(["LND", "YKS"]),
        "national_id": _field(["123456789", "123456780", "987654321", "000000000"]),
        "country": _field(["GB"]),
    },
)
_emails = st.lists(
    st.sampled_from(
        [
            "ann.lee@gmail.com",
            "annlee@gmial.com",
            "ann.lee+x@googlemail.com",
            "ann.lee@work.com",
            "bob@x.org",
            "ab@x.org",
        ]
    ),
    max_size=2,
)
_phones = st.lists(st.sampled_from(["+441234567890", "+441234567891", "+449876543210"]), max_size=2)
_records = st.builds(linkage_record, st.sampled_from(["a", "b", "c"]), _traits, _emails, _phones)


def _model_with_frequencies() -> LinkageModel:
    data = default_model().model_dump()
    data["term_frequencies"] = {"first_name": {"ann": 0.02, "bob": 0.3}, "city": {"london": 0.2}}
    data["term_frequency_unseen"] = {"first_name": 0.001, "last_name": 0.0005}
    return LinkageModel.model_validate(data)


_MODELS = (default_model(), _model_with_frequencies())


@settings(max_examples=examples(ci=100, deep=600), deadline=None)
@given(_records, _records)
def test_the_fused_weigh_is_the_loops_sum(a: object, b: object) -> None:
    """GIVEN any two records WHEN weighed by the fused scorer and by the loop over the comparisons THEN
    the same float and review flag, for the shipped model and one with term frequencies."""
    for model in _MODELS:
        table = model.table()
        fused = fused_weigh(table)
        assert fused is not None
        assert fused(a, b) == _weigh_loop(a, b, table)  # type: ignore[arg-type]
        assert weigh(a, b, model) == _weigh_loop(a, b, table)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(_records, min_size=2, max_size=8))
def test_the_weights_the_fused_weigh_keeps_are_right_for_every_later_pair(records: list[object]) -> None:
    """GIVEN records sharing names and towns in other combinations (a swapped name, another surname)
    WHEN every pair is weighed both ways by one fused weigh, which keeps the weights of the values
    it has seen THEN each pair's weight is the loop's."""
    model = LinkageModel.model_validate(default_model().model_dump())  # a table of its own
    table = model.table()
    fused = fused_weigh(table)
    assert fused is not None
    for a in records:
        for b in records:
            assert fused(a, b) == _weigh_loop(a, b, table)  # type: ignore[arg-type]


def _records_conflict_as_written(a: object, b: object, vetoes: frozenset[str]) -> tuple[object, ...]:
    """What ``_records_conflict`` stands for: the vetoed conflicts, then the strict rule's (a national
    id's holders' conflict), each field once, in that order."""
    found = {c.field: c for c in vetoing_conflicts(a, b, vetoes)}  # type: ignore[arg-type]
    for conflict in _value_conflicts("national_id", a, b):  # type: ignore[arg-type]
        found.setdefault(conflict.field, conflict)
    return tuple(found.values())


_ANN = linkage_record("a", {"first_name": "Ann", "dob": "1980-01-31", "national_id": "123456789"})
_BOB = linkage_record("b", {"first_name": "Bob", "dob": "1975-06-02", "national_id": "987654321"})


@settings(max_examples=examples(ci=100, deep=600), deadline=None)
@example(_ANN, _BOB, frozenset({"date_of_birth"}))
@example(_ANN, _BOB, frozenset({"national_id", "x"}))
@example(_ANN, _BOB, frozenset())
@given(
    _records, _records, st.frozensets(st.sampled_from(["first_name", "date_of_birth", "national_id", "x"]))
)
def test_the_graph_reads_a_pairs_conflicts_from_one_evidence(
    a: object, b: object, vetoes: frozenset[str]
) -> None:
    """GIVEN any two records and any veto fields WHEN the graph asks whether they may be in one
    component THEN the conflicts (and their order, which the refusal's reason lists) are those of
    the vetoes and the strict rule worked out apart."""
    assert _records_conflict(a, b, vetoes) == _records_conflict_as_written(a, b, vetoes)  # type: ignore[arg-type]


def _score_pair_as_written(a: object, b: object, model: LinkageModel) -> PairScore:
    """What ``score_pair`` stands for: every field's weight and its ``FieldWeight`` made per pair."""
    if b.key < a.key:  # type: ignore[attr-defined]
        a, b = b, a
    table = model.table()
    total = table.prior_weight
    fields: list[FieldWeight] = []
    review: list[str] = []
    for compare, weights, tf_level, tf_value, ms, tf, unseen, review_level, comparison in table.entries:
        level = compare(a, b)  # type: ignore[arg-type]
        if level < 0:
            continue
        weight, frequency = weights[level], None
        if level == tf_level and tf_value is not None and (tf or unseen is not None):
            value = tf_value(a)  # type: ignore[arg-type]
            adjusted = _tf_weight(ms[level], value, tf, unseen, table.tf_minimum)
            if adjusted is not None and value is not None:
                weight = adjusted
                frequency = max(tf.get(value, unseen or 0.0), table.tf_minimum)
        total += weight
        fields.append(FieldWeight(comparison.name, comparison.levels[level], weight, frequency))
        if level == review_level:
            review.append(comparison.name)
    keys = (a.key, b.key)  # type: ignore[attr-defined]
    return PairScore(*keys, total, probability_from_weight(total), tuple(fields), tuple(review))


@settings(max_examples=examples(ci=100, deep=600), deadline=None)
@given(_records, _records)
def test_a_pairs_explanation_is_the_one_made_field_by_field(a: object, b: object) -> None:
    """GIVEN any two records WHEN explained by ``score_pair`` (each level's ``FieldWeight`` made once
    per model) THEN the same weight, probability and fields as made per pair, with term frequencies
    too."""
    for model in _MODELS:
        assert score_pair(a, b, model) == _score_pair_as_written(a, b, model)  # type: ignore[arg-type]


def test_a_copy_of_a_model_decides_by_its_own_thresholds_and_vetoes() -> None:
    """GIVEN a model that decided a pair, and a copy of it with other thresholds and no vetoes (a
    copy shares the weight table) WHEN the copy decides the pair THEN by the copy's thresholds and
    vetoes, not the first model's."""
    ann = linkage_record(
        "a", {"first_name": "Ann", "last_name": "Lee", "dob": "1980-01-31", "postcode": "LS1 4AP"}
    )
    twin = linkage_record(
        "b", {"first_name": "Ann", "last_name": "Lee", "dob": "1975-06-02", "postcode": "LS1 4AP"}
    )
    model = default_model()
    assert decide(ann, twin, model).outcome != "link"  # the birth date's veto
    loose = model.model_copy(
        update={"vetoes": (), "thresholds": model.thresholds.model_copy(update={"link": 0.5})}
    )
    assert loose.table() is model.table()
    assert decide(ann, twin, loose).outcome == "link"


def test_a_swapped_name_is_not_taken_for_another_pair_of_the_same_first_names() -> None:
    """GIVEN Ann Bob / Bob Ann (swapped) weighed first WHEN Ann Smith / Bob Jones is weighed THEN its
    first names are different, not swapped (the kept weight is by both names of each record)."""
    model = LinkageModel.model_validate(default_model().model_dump())
    table = model.table()
    fused = fused_weigh(table)
    assert fused is not None
    swapped = [
        linkage_record(k, {"first_name": f, "last_name": last})
        for k, f, last in (("a", "Ann", "Bob"), ("b", "Bob", "Ann"))
    ]
    apart = [
        linkage_record(k, {"first_name": f, "last_name": last})
        for k, f, last in (("c", "Ann", "Smith"), ("d", "Bob", "Jones"))
    ]
    assert fused(*swapped) == _weigh_loop(*swapped, table)
    assert fused(*apart) == _weigh_loop(*apart, table)


def test_a_model_of_other_comparisons_is_weighed_by_the_loop() -> None:
    """GIVEN a model whose comparisons are in another order WHEN its fused weigh is asked for THEN
    there is none (the loop weighs it), and it still scores like the loop."""
    data = default_model().model_dump()
    data["comparisons"] = list(reversed(data["comparisons"]))
    model = LinkageModel.model_validate(data)
    assert fused_weigh(model.table()) is None
    a = linkage_record("a", {"first_name": "Ann", "last_name": "Smith", "postcode": "SW1A 1AA"})
    b = linkage_record("b", {"first_name": "Anne", "last_name": "Smith", "postcode": "SW1A 1AB"})
    assert weigh(a, b, model) == _weigh_loop(a, b, model.table())


def test_a_clear_no_link_is_the_decision_the_dataclass_makes() -> None:
    """GIVEN the decision made through its slots WHEN compared with the dataclass's THEN equal, same
    hash and text, and still frozen."""
    fast, plain = _no_link("a", "b", "score 0.0000"), Decision("a", "b", "no_link", "score 0.0000")
    assert fast == plain
    assert hash(fast) == hash(plain)
    assert repr(fast) == repr(plain)
    assert fast.as_dict() == plain.as_dict()
    far = decide(
        linkage_record("a", {"first_name": "Ann"}),
        linkage_record("b", {"first_name": "Zed"}),
        default_model(),
    )
    assert type(far) is Decision
    assert (far.outcome, far.score, far.conflicts) == ("no_link", None, ())
    with pytest.raises(AttributeError):
        far.reason = "changed"  # type: ignore[misc]


@settings(max_examples=examples(ci=100, deep=400), deadline=None)
@given(_records)
def test_the_inline_blocking_keys_are_the_rules_keys(record: object) -> None:
    """GIVEN any record WHEN keyed by the inline shipped rules and by the rules one by one THEN the
    same keys in the same order."""
    assert blocking_keys(record) == blocking_keys(record, list(RULES))  # type: ignore[arg-type]


@settings(max_examples=examples(ci=100, deep=400), deadline=None)
@given(_traits)
def test_one_pass_over_the_traits_reads_what_each_field_reads(traits: dict[str, object]) -> None:
    """GIVEN any traits (aliases, blanks, booleans, numbers, oversized values) WHEN read in one pass
    THEN each field has the text ``trait_text`` gives it."""
    expected = {f: t for f in FIELD_ALIASES if (t := trait_text(traits, f)) is not None}
    assert _trait_texts(traits) == expected


@given(st.sampled_from(_DATES) | st.text(max_size=12), st.dates(date(1990, 1, 1), date(2100, 1, 1)))
def test_a_birth_date_read_once_per_spelling_and_day_is_read_as_always(raw: str, today: date) -> None:
    """GIVEN a typed birth date and a day WHEN read through the cache THEN as parsed afresh."""
    assert _birth_date(raw, today) == (parse_date_of_birth(raw, today), birth_date_slip(raw, today))


@settings(max_examples=examples(ci=50, deep=200), deadline=None)
@given(_records, _records)
def test_a_frozen_dataclass_made_through_its_slots_is_the_one_its_init_makes(a: object, b: object) -> None:
    """GIVEN the frozen dataclasses ingest makes per record and per pair WHEN made by ``slot_maker``
    from the values their ``__init__`` is given THEN equal, hashed alike, and still frozen."""
    score = score_pair(a, b, default_model())  # type: ignore[arg-type]
    made: list[tuple[type, tuple[object, ...]]] = [
        (LinkageRecord, tuple(getattr(a, f.name) for f in dataclass_fields(LinkageRecord))),
        (GraphNode, (a, True, ("source#a",), ("email#x",), ("k1", "k2"))),
        (GraphNode, (b, False, (), (), None)),
        (Edge, ("a", "b", "fuzzy", "score 0.9991", score)),
        (PairScore, (score.a, score.b, score.weight, score.probability, score.fields, score.review_fields)),
        (Decision, (score.a, score.b, "review", "score 0.9 but different dates of birth", score, ())),
    ]
    for cls, values in made:
        expected, got = cls(*values), slot_maker(cls)(*values)
        assert type(got) is cls
        assert got == expected
        assert hash(got) == hash(expected)
        with pytest.raises(FrozenInstanceError):
            got.__setattr__(dataclass_fields(cls)[0].name, None)


def test_a_maker_is_refused_for_a_class_its_init_does_more_for() -> None:
    """GIVEN a dataclass without slots, and one with a ``__post_init__`` WHEN a slot maker is asked for
    THEN refused: setting the slots would skip what their ``__init__`` does."""

    @dataclass(frozen=True)
    class Plain:
        a: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            raise ValueError

    for cls in (Plain, Checked):
        with pytest.raises(TypeError):
            slot_maker(cls)


def test_a_kept_term_frequency_weight_is_its_own_comparisons() -> None:
    """GIVEN a model with term frequencies for first and last names, and one value ("ann") exact as a
    first name in one pair and as a surname in another WHEN both pairs are explained (each
    comparison keeps its term-frequency ``FieldWeight`` by value) THEN each pair's fields are the
    ones made field by field: a weight kept for the first name is never the surname's."""
    model = _model_with_frequencies()
    first = (
        linkage_record("a", {"first_name": "Ann", "last_name": "Lee"}),
        linkage_record("b", {"first_name": "Ann", "last_name": "Roe"}),
    )
    last = (
        linkage_record("c", {"first_name": "Zed", "last_name": "Ann"}),
        linkage_record("d", {"first_name": "Kim", "last_name": "Ann"}),
    )
    for a, b in (first, last, first, last):
        assert score_pair(a, b, model) == _score_pair_as_written(a, b, model)


def test_the_kept_term_frequency_weights_are_emptied_by_an_erasure() -> None:
    """GIVEN pairs explained with a model that keeps each name's term-frequency ``FieldWeight``
    (people's names) WHEN the process forgets personal values (an erasure) THEN none is kept."""
    from core.privacy_caches import forget_personal_values

    model = _model_with_frequencies()
    ann = linkage_record("a", {"first_name": "Ann", "last_name": "Lee"})
    score_pair(ann, linkage_record("b", {"first_name": "Ann", "last_name": "Lee"}), model)
    kept = [by_value.kept for _, by_value in model.table().level_weights or ()]
    assert any("ann" in values or "lee" in values for values in kept)
    forget_personal_values()
    assert not any(kept)


def _decide_as_written(a: object, b: object, model: LinkageModel) -> Decision:
    """What ``decide`` stands for: a clear non-match's probability and reason worked out per pair."""
    if b.key < a.key:  # type: ignore[attr-defined]
        a, b = b, a
    weight, review = weigh(a, b, model)  # type: ignore[arg-type]
    p = probability_from_weight(weight)
    if not review and p < model.thresholds.review:
        return Decision(a.key, b.key, "no_link", f"score {p:.4f}")  # type: ignore[attr-defined]
    return _explained(a, b, model)  # type: ignore[arg-type]


@settings(max_examples=examples(ci=75, deep=300), deadline=None)
@given(st.lists(_records, min_size=2, max_size=6))
def test_a_clear_no_links_reason_kept_by_weight_is_its_own(records: list[object]) -> None:
    """GIVEN records decided pair after pair (a clear non-match's probability and reason are kept by
    its weight) WHEN each pair is decided THEN the decision made per pair, for both models."""
    for model in _MODELS:
        for i, a in enumerate(records):
            for b in records[i + 1 :]:
                assert decide(a, b, model) == _decide_as_written(a, b, model)  # type: ignore[arg-type]


def test_two_clear_no_links_at_other_weights_give_their_own_scores() -> None:
    """GIVEN two clear non-matches at different weights, decided one after the other WHEN their
    reasons are read THEN each its own probability (a reason kept for one weight is not another's)."""
    model = default_model()
    ann = linkage_record("a", {"first_name": "Ann", "last_name": "Lee", "postcode": "LS1 4AP"})
    bob = linkage_record("b", {"first_name": "Bob", "last_name": "Lee", "postcode": "LS1 4AP"})
    zed = linkage_record("c", {"first_name": "Zed", "last_name": "Kim", "postcode": "M1 1AA"})
    for x, y in ((ann, bob), (ann, zed), (ann, bob)):
        assert decide(x, y, model) == _decide_as_written(x, y, model)


def test_the_names_and_towns_the_fused_weigh_keeps_are_emptied_by_an_erasure() -> None:
    """GIVEN pairs weighed by the fused weigh (it keeps weights by names, pairs of names and towns:
    people's values) WHEN the process forgets personal values (an erasure) THEN none is kept."""
    from core.linkage.fused import _KeptWeights
    from core.privacy_caches import _MADE, forget_personal_values

    model = _model_with_frequencies()
    ann = linkage_record("a", {"first_name": "Ann", "last_name": "Lee", "city": "Leeds"})
    anne = linkage_record("b", {"first_name": "Anne", "last_name": "Lea", "city": "York"})
    weigh(ann, anne, model)
    weigh(ann, linkage_record("c", {"first_name": "Ann", "last_name": "Lee", "city": "Leeds"}), model)
    kept = [cache for cache in list(_MADE) if isinstance(cache, _KeptWeights)]
    assert any(("ann", "anne", "lee", "lea") in table or "ann" in table for k in kept for table in k.tables)
    forget_personal_values()
    assert not any(table for k in kept for table in k.tables)
