"""Comparison levels and Fellegi-Sunter scores: the examples that matter, and symmetry for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.linkage import (
    COMPARISONS,
    LinkageModel,
    comparison_named,
    default_model,
    linkage_record,
    match_weight,
    score_pair,
)


def level(field: str, a: dict[str, str], b: dict[str, str]) -> str | None:
    comparison = comparison_named(field)
    index = comparison.compare(linkage_record("a", a), linkage_record("b", b))
    return None if index < 0 else comparison.levels[index]


def test_first_name_levels() -> None:
    """GIVEN pairs of first names WHEN compared THEN exact, nickname, typo, initial or different."""
    assert level("first_name", {"first_name": "Ann"}, {"first_name": "ann"}) == "exact"
    assert level("first_name", {"first_name": "Bob"}, {"first_name": "Robert"}) == "nickname"
    assert (
        level("first_name", {"first_name": "Katherine"}, {"first_name": "Katharine"}) == "jaro_winkler_0.92"
    )
    assert level("first_name", {"first_name": "J"}, {"first_name": "John"}) == "initial"
    assert level("first_name", {"first_name": "Tom"}, {"first_name": "Sue"}) == "different"
    assert level("first_name", {"first_name": "Tom"}, {}) is None


def test_swapped_names_have_their_own_level() -> None:
    """GIVEN first and last name swapped between tools WHEN compared THEN both say swapped."""
    a, b = {"first_name": "Ned", "last_name": "Clarke"}, {"first_name": "Clarke", "last_name": "Ned"}
    assert level("first_name", a, b) == "swapped_with_last_name"
    assert level("last_name", a, b) == "swapped_with_first_name"


def test_date_of_birth_levels() -> None:
    """GIVEN dates typed differently WHEN compared THEN swaps and a day apart are near, a digit one edit."""
    dob = "date_of_birth"
    assert level(dob, {dob: "1988-04-07"}, {dob: "1988-07-04"}) == "day_month_swapped_or_a_day_apart"
    assert level(dob, {dob: "1980-01-31"}, {dob: "1980-02-01"}) == "day_month_swapped_or_a_day_apart"
    assert level(dob, {dob: "1980-01-21"}, {dob: "1980-01-27"}) == "one_edit"
    assert level(dob, {dob: "1980-01-21"}, {dob: "1980-11-02"}) == "same_year"
    assert level(dob, {dob: "1980-01-21"}, {dob: "1961-11-02"}) == "different"


def test_address_and_postcode_levels() -> None:
    """GIVEN addresses WHEN compared THEN number + street, a number typo, the street only, the area."""
    assert (
        level("address", {"address": "12 High Street"}, {"address": "12 high st"})
        == "house_number_and_street"
    )
    assert (
        level("address", {"address": "12 High St"}, {"address": "13 High St"})
        == "street_and_house_number_close"
    )
    assert level("address", {"address": "12 High St"}, {"address": "40 High St"}) == "street_only"
    assert level("postal_code", {"postcode": "SW1A 1AA"}, {"postcode": "SW1A 2BB"}) == "same_area"
    assert level("postal_code", {"postcode": "4223"}, {"postcode": "4228"}) == "one_edit"


def test_email_levels() -> None:
    """GIVEN emails WHEN compared THEN one mailbox, a typo domain, the same user name, or different."""

    def email(a: str, b: str) -> str | None:
        comparison = comparison_named("email")
        index = comparison.compare(linkage_record("a", {}, [a]), linkage_record("b", {}, [b]))
        return comparison.levels[index]

    assert email("ann.lee+x@gmail.com", "annlee@googlemail.com") == "same_mailbox"
    assert email("ann.lee@gmial.com", "annlee@gmail.com") == "domain_typo"
    assert email("ann.lee@work.com", "ann.lee@home.net") == "same_user_name"
    assert email("ann.lee@work.com", "bob@work.com") == "different"


_text = st.one_of(st.none(), st.sampled_from(["ann", "Anne", "bob", "Robert", "o'neil", "12 High St", "x"]))
_records = st.builds(
    lambda key, first, last, dob, street, pc, emails: linkage_record(
        key,
        {
            k: v
            for k, v in {
                "first_name": first,
                "last_name": last,
                "dob": dob,
                "address": street,
                "postcode": pc,
            }.items()
            if v
        },
        emails,
    ),
    st.sampled_from(["a", "b"]),
    _text,
    _text,
    st.one_of(
        st.none(), st.sampled_from(["1980-01-31", "1980-02-01", "1980-31-01", "19800113", "2001-06-07"])
    ),
    _text,
    st.one_of(st.none(), st.sampled_from(["SW1A 1AA", "SW1A 2BB", "4223", "4228"])),
    st.lists(
        st.sampled_from(["a.b@gmail.com", "ab@gmial.com", "ab+1@googlemail.com", "x@y.org"]), max_size=2
    ),
)


@settings(max_examples=300, deadline=None)
@given(_records, _records)
def test_every_comparison_and_the_score_are_symmetric(a: object, b: object) -> None:
    """GIVEN any two records WHEN compared both ways THEN every level and the weight are the same."""
    model = default_model()
    for comparison in COMPARISONS:
        assert comparison.compare(a, b) == comparison.compare(b, a), comparison.name  # type: ignore[arg-type]
    assert abs(match_weight(a, b, model) - match_weight(b, a, model)) < 1e-9  # type: ignore[arg-type]
    assert score_pair(a, b, model) == score_pair(b, a, model)  # type: ignore[arg-type]


def test_the_explained_weights_add_up_to_the_score() -> None:
    """GIVEN a scored pair WHEN its field weights are summed with the prior THEN they give its weight."""
    model = default_model()
    a = linkage_record("a", {"first_name": "Bob", "last_name": "Brown", "dob": "1980-05-17"})
    b = linkage_record("b", {"first_name": "Robert", "last_name": "Brown", "dob": "1980-05-17"})
    score = score_pair(a, b, model)
    assert abs(model.prior_weight + sum(f.weight for f in score.fields) - score.weight) < 1e-9
    assert [f.level for f in score.fields] == ["nickname", "exact", "exact"]
    assert abs(score.weight - match_weight(a, b, model)) < 1e-9


def test_a_common_surname_counts_for_less_than_a_rare_one() -> None:
    """GIVEN term frequencies WHEN two pairs agree on Smith and on a rare name THEN Smith weighs less."""
    model = LinkageModel.model_validate(
        {
            **default_model().model_dump(),
            "term_frequencies": {"last_name": {"smith": 0.02}},
            "term_frequency_unseen": {"last_name": 0.0001},
        }
    )
    smith = score_pair(
        linkage_record("a", {"surname": "Smith"}), linkage_record("b", {"surname": "Smith"}), model
    )
    rare = score_pair(
        linkage_record("a", {"surname": "Wojcik"}), linkage_record("b", {"surname": "Wojcik"}), model
    )
    assert smith.fields[0].term_frequency == 0.02
    assert rare.weight - smith.weight > 7  # log2(0.02 / 0.0001) = 7.6 bits
