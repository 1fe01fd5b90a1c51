"""attack30: a name of modifier letters alone (the Japanese long-vowel mark ``ー`` a kana keyboard types
for ``-``) counts as a name, and keeps a record of no one.

A record without email or phone is kept when it names a person well enough
(core/normalise/_identity.py ``has_other_identity``): both names (each with a letter,
``_letters``, line 200) and an address, say. ``_letters`` asks ``str.isalpha``, which is true of
modifier letters (general category Lm) that are no name on their own: ``ー`` (U+30FC, what the ``-``
key types in a Japanese input method's kana mode, so a customer who writes ``-`` in a required name
field on a Japanese form gives ``ー``), its half-width ``ｰ`` (U+FF70), the iteration mark ``々``
(U+3005), the half-width voiced mark ``ﾞ`` (U+FF9E). The same form filled with ``-`` or ``－``
(U+FF0D, punctuation) is quarantined as "no usable identifier" (the control); with ``ー`` the record
is kept as a person named ``ー ー`` at that address, whose names the matcher then weighs against
every other ``ー ー``.

Fix idea: ``_letters`` asks for a letter that is not a modifier letter (category L but not Lm; a
name of real letters keeps its ʻokina or its ``ー`` beside them: ``Kaʻiulani``, ``ユーコ``).
"""

from __future__ import annotations

import pytest

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.schema import Quarantined, SourceRecord


def _outcome(first: str, last: str) -> SourceRecord | Quarantined:
    """A shop's customer with no email or phone: her names as typed, and her address."""
    return normalise_record(
        draft_from_flat(
            {
                "source": "shop",
                "id": "1",
                "updated_at": "2026-01-05T10:00:00Z",
                "first_name": first,
                "last_name": last,
                "street": "1-2-3 Jingumae",
                "city": "Shibuya",
            }
        )
    )


@pytest.mark.parametrize(("first", "last"), [("-", "-"), ("－", "－")])
def test_control_a_dash_for_both_names_is_no_name(first: str, last: str) -> None:
    assert isinstance(_outcome(first, last), Quarantined)


@pytest.mark.parametrize(
    ("first", "last"), [("花子", "山田"), ("ユーコ", "ヤマダ"), ("Kaʻiulani", "Cleghorn")]
)
def test_control_names_of_letters_with_modifier_letters_in_them_are_names(first: str, last: str) -> None:
    assert isinstance(_outcome(first, last), SourceRecord)


@pytest.mark.parametrize(("first", "last"), [("ー", "ー"), ("ｰ", "ｰ"), ("々", "々"), ("ﾞ", "ﾞ")])
def test_a_modifier_letter_alone_for_both_names_is_no_name(first: str, last: str) -> None:
    # GIVEN a form's required names filled with what a Japanese kana keyboard types for "-"
    # WHEN the record (no email, no phone, an address) is normalised
    # THEN it is quarantined (no usable identifier), as with "-"
    assert isinstance(_outcome(first, last), Quarantined)
