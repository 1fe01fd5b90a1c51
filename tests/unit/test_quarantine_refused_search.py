"""The search inside refused values (core.quarantine) and its one limit, as docs/privacy.md states.

Every address written whole in an email value that is no address is read (before fixD22 only the
first 8, so the ninth address of a list was not keyed and her erasure missed the record); the token
scan starts a token only after a separator and never re-scans a run (the old pattern, kept here as
the oracle, re-scanned a run from each of its characters: ``"a" * 16_000 + "@"`` cost 1.6 CPU s).
A phone value over 64 characters is not searched for numbers (phonenumbers' matcher costs about
5 µs a character): documented, and held here.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from core.quarantine import ADDRESS, identifier_keys
from core.schema import RecordDraft

#: The token pattern before fixD22: the same tokens, found in time quadratic in a run's length.
OLD_ADDRESS = re.compile(r"[^\s\"<>,;:\[\]()@]+@[^\s\"<>,;:\[\]()@]+")


def test_the_ninth_address_of_a_list_is_keyed() -> None:
    value = "Team: " + ", ".join(f"team{n}@example.com" for n in range(8)) + ", her@example.com"
    keys = identifier_keys(RecordDraft(source="crm", source_id="1", emails=[value]))
    assert "email#her@example.com" in keys
    assert sum(k.startswith("email#") for k in keys) == 9


@given(st.text(alphabet="ab@ .<>,:'x\n", max_size=60))
def test_the_scan_finds_the_tokens_the_old_pattern_found(value: str) -> None:
    assert [m.group() for m in ADDRESS.finditer(value)] == [m.group() for m in OLD_ADDRESS.finditer(value)]


def test_a_token_is_taken_whole_however_long_its_run() -> None:
    value = "jo" * 5_000 + "tariq@example.com, " + "a" * 20_000 + "@"
    assert [m.group() for m in ADDRESS.finditer(value)] == ["jo" * 5_000 + "tariq@example.com"]


def test_a_number_in_a_phone_note_is_keyed_up_to_64_characters_and_not_beyond() -> None:
    short = "+44 20 7946 0018 (mobile; evenings only, ask for the desk)"
    long = "+44 20 7946 0018 (mobile; evenings only, ask for the night desk first)"
    assert len(short) <= 64 < len(long)
    keyed = [identifier_keys(RecordDraft(source="crm", source_id="1", phones=[v])) for v in (short, long)]
    assert ["phone#+442079460018" in keys for keys in keyed] == [True, False]
