"""revL28: left28 read a name in capitals ending in a short legal form as a person's whenever its first
word is a listed first name, so that ``CARLOS SA`` is Carlos Sá. But most short forms are no one's
surname: ``PETER HANSEN KG``, ``JAN DE VRIES BV``, ``MARIO ROSSI SPA`` (firms named after their
founders, as many are) became Peter Kg, Jan Bv and Mario Spa, a first name the firm's records then
carried into the linkage. Only a form that is also a surname (``SA``: Sá, ``AS``: Ås) may end a
person's name.
"""

from __future__ import annotations

import pytest

from core.linkage.names import split_full_name


@pytest.mark.parametrize(
    "name",
    ["PETER HANSEN KG", "JAN DE VRIES BV", "MARIO ROSSI SPA", "MARIA CO", "PETER HANSEN UG", "ANNA SL"],
)
def test_a_firm_in_capitals_named_after_its_founder_names_no_person(name: str) -> None:
    assert split_full_name(name) == (None, None)


@pytest.mark.parametrize(("name", "split"), [("CARLOS SA", ("carlos", "sa")), ("MARIA AS", ("maria", "as"))])
def test_a_person_whose_surname_is_a_form_still_reads_as_hers(name: str, split: tuple[str, str]) -> None:
    assert split_full_name(name) == split
