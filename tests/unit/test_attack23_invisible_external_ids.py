"""attack23: an external id (or a name) of blank characters other than spaces and format characters keeps a
profile of nobody.

Last round (91eebbc) made ``has_external_id`` (core/normalise/_identity.py) refuse an external id
of spaces and invisible *format* characters (``"\\u200b"`` alone kept a profile of nobody): a person
record with no email, no phone and no other identity is kept only when its tool's id in another
system names something. Blank characters of other categories still pass: the Hangul fillers
(U+3164, U+115F, U+FFA0: letters, and Unicode's default-ignorable code points, the blank "names"
people type where a form insists on one), the braille blank (U+2800, a symbol), controls (NUL, DEL)
and the combining grapheme joiner (U+034F, a mark). Each such record is stored as a customer of its
own that nothing can name or join, instead of quarantined with its reason.
"""

from __future__ import annotations

import pytest

from core.normalise import normalise_record
from core.normalise._identity import EXTERNAL_ID_TRAIT
from core.schema import Quarantined, RecordDraft

BLANKS = ["\u3164", "\u115f", "\uffa0", "\u2800", "\x00", "\x7f", "\u034f", "\u3164\u3164 \u2800"]


def _outcome(value: str) -> object:
    draft = RecordDraft(
        source="crm",
        object_type="contact",
        source_id="1",
        updated_at="2026-01-01T00:00:00Z",
        traits={EXTERNAL_ID_TRAIT: value},
    )
    return normalise_record(draft)


@pytest.mark.parametrize("value", BLANKS, ids=["+".join(f"U{ord(c):04X}" for c in v) for v in BLANKS])
def test_an_external_id_of_blank_characters_keeps_no_record(value: str) -> None:
    # GIVEN a contact whose only identity is an external id of blank characters
    # WHEN it is normalised THEN it is quarantined with the reason, as "\u200b" alone is
    assert isinstance(_outcome(value), Quarantined)


@pytest.mark.parametrize("value", ["\u200b", " \u00a0\u3000", "\u2060\ufeff"])
def test_control_spaces_and_format_characters_keep_no_record(value: str) -> None:
    assert isinstance(_outcome(value), Quarantined)


@pytest.mark.parametrize("value", ["A-1", "\u30a2", "0", "#7"])
def test_control_an_external_id_that_names_something_keeps_the_record(value: str) -> None:
    assert not isinstance(_outcome(value), Quarantined)


def test_names_of_hangul_fillers_with_a_birth_date_keep_no_record() -> None:
    # GIVEN a contact named with fillers only (as a form that insists on a name gets), and a birth date
    draft = RecordDraft(
        source="crm",
        object_type="contact",
        source_id="2",
        updated_at="2026-01-01T00:00:00Z",
        traits={"first_name": "\u3164", "last_name": "\u3164", "date_of_birth": "1980-02-03"},
    )
    # THEN it is quarantined: one name alone is no evidence, and these are none (the braille blank is)
    assert isinstance(normalise_record(draft), Quarantined)
