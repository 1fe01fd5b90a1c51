"""fix21p: the term frequencies a trained model keeps are counted in people and name nobody
(attack20's finding: tests/e2e/test_attack20_trained_model.py). A person's records, tied by an email
or phone or by the same name and birth date, hold each value once; a value fewer than
``tf_min_people`` people hold is left out (weighed as unseen)."""

from __future__ import annotations

from core.linkage import linkage_record
from core.linkage.training import TF_MIN_PEOPLE, _people, _term_frequencies


def _records(surname: str, people: int, copies: int, *, tie: str) -> list:  # type: ignore[type-arg]
    """``people`` people with the last name ``surname``, each with ``copies`` records tied by
    ``tie``: ``email`` (one address, other first names), ``born`` (the same name and birth date)."""
    out = []
    for p in range(people):
        for c in range(copies):
            first = f"ann{p}" if tie == "born" else f"ann{p}x{c}"
            traits = {"first_name": first, "last_name": surname, "date_of_birth": f"19{60 + p}-01-02"}
            emails = [f"{surname}{p}@example.com"] if tie == "email" else []
            out.append(linkage_record(f"crm:contact:{surname}{p}-{c}", traits, emails))
    return out


def test_records_tied_by_an_email_or_by_name_and_birth_date_are_one_person() -> None:
    records = [*_records("lee", 2, 3, tie="email"), *_records("khan", 2, 2, tie="born")]
    person = _people(records)
    assert len(set(person)) == 4
    assert person[0] == person[1] == person[2] != person[3]
    assert person[6] == person[7] != person[8] == person[9]


def test_a_value_held_by_fewer_than_k_people_is_left_out_however_many_records_hold_it() -> None:
    # GIVEN "okafor" held by 4 people in 3 records each (12 records), "lee" by 5 people in one each
    records = [
        *_records("okafor", TF_MIN_PEOPLE - 1, 3, tie="email"),
        *_records("lee", TF_MIN_PEOPLE, 1, tie="born"),
    ]
    tables, unseen = _term_frequencies(records)
    # THEN only "lee" is kept, at its share of people (5 of 9), and the unseen share is one person's
    assert set(tables["last_name"]) == {"lee"}
    assert abs(tables["last_name"]["lee"] - 5 / 9) < 1e-9
    assert abs(unseen["last_name"] - 1 / 9) < 1e-9


def test_the_minimum_is_a_setting() -> None:
    records = [*_records("okafor", 3, 2, tie="born"), *_records("lee", 2, 1, tie="born")]
    assert set(_term_frequencies(records, 3)[0]["last_name"]) == {"okafor"}
    assert set(_term_frequencies(records, 2)[0]["last_name"]) == {"okafor", "lee"}
