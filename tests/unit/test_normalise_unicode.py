"""Email addresses as people's tools actually hold them, in every script: one person, one key.

RFC 6531 lets the part before the @ be any UTF-8 text, and the normaliser says it takes letters and
digits of any script. It took letters only: the vowel signs of Devanagari and Thai, Arabic's short
vowels and the dot of a lower-cased Turkish capital I are combining marks, not letters, so
``राम@example.com`` and ``ปิยะ@example.com`` were refused, and a record with only that address was
quarantined. Invisible format characters (a byte-order mark, a right-to-left mark, a zero-width space)
come along when an address is copied out of a web page or a right-to-left interface; an address holding
one was refused, so the same person's records in two tools were two profiles, or one was quarantined.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from core.normalise import normalise_email, normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore

UPDATED = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

SCRIPTS = [
    "राम@example.com",  # Devanagari: the vowel sign AA (U+093E) is a spacing combining mark
    "अनिल@example.in",  # Devanagari: vowel sign I
    "ปิยะ@example.com",  # Thai: the vowel sign I (U+0E34) is a non-spacing mark
    "مُحَمَّد@example.com",  # Arabic with its short vowels (harakat)
    "தமிழ்@example.com",  # Tamil: a virama (U+0BCD)
    "ắ@example.com",  # Vietnamese: a letter with two marks, NFC has a precomposed form
]


@pytest.mark.parametrize("address", SCRIPTS)
def test_an_address_in_a_script_with_combining_marks_is_kept_in_nfc(address: str) -> None:
    # GIVEN an internationalised address whose local part holds combining marks, NFC or NFD
    for form in ("NFC", "NFD"):
        # WHEN normalised
        result = normalise_email(unicodedata.normalize(form, address))
        # THEN it is the one NFC address, whichever form came in
        assert result == unicodedata.normalize("NFC", address)


def test_a_lower_cased_turkish_capital_i_is_kept() -> None:
    # GIVEN "İpek" (U+0130): lower-casing makes it "i" followed by a combining dot above
    # WHEN normalised THEN it is an address, lower-cased like every other
    assert normalise_email("İpek@example.com") == "i\u0307pek@example.com"


INVISIBLE = {
    "byte-order mark": "\ufeffann@example.com",
    "right-to-left mark": "\u200fann@example.com",
    "left-to-right mark at the end": "ann@example.com\u200e",
    "zero-width space inside": "ann\u200b@example.com",
    "word joiner": "ann@\u2060example.com",
    "bidi isolate around it": "\u2068ann@example.com\u2069",
    "soft hyphen": "an\u00adn@example.com",
}


@pytest.mark.parametrize("address", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_format_characters_copied_with_an_address_are_left_out(address: str) -> None:
    # GIVEN an address carrying a character no one can see, from a copy and paste
    # WHEN normalised THEN it is the address without it
    assert normalise_email(address) == "ann@example.com"


def test_a_zero_width_joiner_is_not_removed_where_a_script_needs_it() -> None:
    # GIVEN a Persian local part where the zero-width non-joiner (U+200C) is part of the spelling
    address = "می\u200cخواهم@example.com"
    # WHEN normalised THEN it is kept, not folded into another address
    assert "\u200c" in normalise_email(address)


def test_twins_of_one_address_in_three_tools_are_one_profile() -> None:
    # GIVEN one person's address as three tools hold it: NFC, NFD, and with a right-to-left mark
    address = "رَامِي@example.com"
    forms = [
        unicodedata.normalize("NFC", address),
        unicodedata.normalize("NFD", address),
        "\u200f" + unicodedata.normalize("NFC", address),
    ]
    drafts = [
        RecordDraft(source=source, source_id="1", updated_at=UPDATED, emails=[form])
        for source, form in zip(("crm", "shop", "email"), forms, strict=True)
    ]
    # WHEN normalised and ingested
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store, IngestSettings(sleep=lambda _: None))
    # THEN the three are one profile with one email
    [profile] = store.iter_profiles()
    emails = [i.value for i in profile.identifiers if i.kind == "email"]
    assert emails == [unicodedata.normalize("NFC", address)]
