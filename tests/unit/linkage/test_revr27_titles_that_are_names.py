"""revR27: a title lead27n drops that is also a first name (``Sig``, ``Ing``, ``Mag``) is kept.

``core/linkage/names.py`` ``HONORIFICS`` says words that are also first names are left out, but holds
``sig`` (Italian ``Sig.``, Signor), ``ing`` (``Ing.``, an engineer) and ``mag`` (``Mag.``, Austrian
Magister), and they were dropped as written without their dot: ``Sig Hansen`` (Sigurd, as Norwegians
shorten it) read as a surname alone, so on the family inbox he shares with ``Anna Hansen`` nothing
conflicted and the two were one person. With the dot they are titles still.
"""

from __future__ import annotations

import pytest

from core.linkage import conflict_evidence, linkage_record


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Sig Hansen", ("sig", "hansen")),
        ("Ing Larsen", ("ing", "larsen")),
        ("Sig. Mario Rossi", ("mario", "rossi")),  # (guards: with the dot, a title)
        ("Ing. Karl Huber", ("karl", "huber")),
        ("Mag. Eva Gruber", ("eva", "gruber")),
        ("Dr Klaus Becker", ("klaus", "becker")),
    ],
)
def test_a_title_that_is_also_a_first_name_is_one_only_with_its_dot(
    full: str, expected: tuple[str | None, str | None]
) -> None:
    record = linkage_record("k", {"full_name": full})
    assert (record.first_name, record.last_name) == expected


def test_sig_and_anna_on_one_inbox_are_two_people() -> None:
    a = linkage_record("a", {"full_name": "Sig Hansen"})
    b = linkage_record("b", {"full_name": "Anna Hansen"})
    assert "first_name" in {c.field for c in conflict_evidence(a, b)}
    # AND a first-name field written so is his name too
    assert linkage_record("c", {"first_name": "Sig Arne", "last_name": "Hansen"}).first_name == "sigarne"
