"""attack31p: an erased person's quarantined JSON-object line is kept where the same line broken is hers.

attack30's fix (profilesync/erased_quarantine.py ``_values``) reads every *value* of a quarantined JSON
object, whatever its column or nesting, for her addresses and phones. A line that is no JSON object
is read otherwise: ``ADDRESS`` over its whole text (``_line_fields``), so any address written
anywhere in it, a key, a long text, the thousandth member, is found. The JSON object's reading
skips three things the broken line's does not:

* **object keys**: a contacts export keyed by address or number (``"emails": {"ann@example.com":
  {"primary": true}}``, Google's and Apple's contacts exports and many CRMs' custom JSON columns write
  maps like it); ``_values`` pushes ``value.values()`` only;
* **a value longer than 320 characters** (``_MOST_LITERAL``): a vCard kept in a column (RFC 6350,
  what a phone's contacts app exports: her address on its ``EMAIL`` line, the whole card 400
  characters with its address and note), or HubSpot's ``hs_additional_emails`` (her former addresses,
  semicolon-separated) past 320 characters;
* **values past the 1,024th** (``_MOST_LITERALS``): a record with a long list of tags before the
  column that names her.

Each is quarantined (no usable identifier) with its content, so after her erasure by that address her
line stays in ``resolve``'s quarantine file on every run, while the same line with a trailing comma
is hers and dropped (the controls). Privacy: the quarantine file is what a person mending lines
reads and keeps; docs/privacy.md says every value of a quarantined record is read.

The broken line's reading has its own gap: ``ADDRESS`` over the raw text reads a JSON escape after her
address into it (a vCard's ``...pref:ann.lee@example.org\\r\\nADR``, a note's ``\\n``), and the
decoded literal, which would be read right, is skipped when it is over 320 characters: her broken line
holding her vCard or a long note is kept too (``test_her_broken_line_with_a_long_value_is_hers``).

Fix idea: in ``_values``, read keys as values (``stack.extend(value.keys())`` for str keys), and for
the two bounds run ``ADDRESS`` over the text ``json.dumps(raw)`` once (as ``_line_fields`` does over a
broken line's text), so that only the phone matcher's reads stay bounded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.jsonl import line_outcome
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined, RecordDraft
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

SALT = "attack31p-quarantine"
HER = "ann.lee@example.org"
AT = "2026-01-05T10:00:00Z"

#: A vCard 3.0 as a phone's contacts app exports it (RFC 2426's layout), her address on its EMAIL line.
VCARD = "\r\n".join(
    [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "PRODID:-//Apple Inc.//iPhone OS 17.4//EN",
        "N:Lee;Ann;;;",
        "FN:Ann Lee",
        "ORG:Harbour Lights Bakery;",
        "TITLE:Owner",
        f"EMAIL;type=INTERNET;type=HOME;type=pref:{HER}",
        "ADR;type=WORK;type=pref:;;12 Quay Street;Whitby;North Yorkshire;YO21 3PT;United Kingdom",
        "NOTE:Met at the trade fair in Harrogate\\, wants the wholesale price list every spring.",
        "BDAY:1984-06-02",
        "REV:2024-03-11T09:21:44Z",
        "END:VCARD",
    ]
)


def _erased(key: str) -> Callable[[Quarantined], bool]:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(key), key.partition("#")[0], "req-1", at)])  # type: ignore[arg-type]
    return erased_check(check, NormaliseOptions(default_region="GB"))


def _quarantined(line: dict[str, Any]) -> Quarantined:
    """What ``resolve`` makes of the line (connectors.jsonl, then the normaliser): quarantined, no
    identifier it maps."""
    text = json.dumps(line)
    draft = line_outcome(1, text, len(text), "contacts")
    assert isinstance(draft, RecordDraft), draft
    outcome = normalise_record(draft)
    assert isinstance(outcome, Quarantined), outcome
    return outcome


def _broken(line: dict[str, Any]) -> Quarantined:
    """The same line with a trailing comma, as connectors.jsonl quarantines a line that is no JSON
    object (its first 500 characters, and the addresses written past them)."""
    text = json.dumps(line)[:-1] + ",}"
    entry = line_outcome(1, text, len(text), "contacts")
    assert isinstance(entry, Quarantined), entry
    return entry


def _lines() -> dict[str, dict[str, Any]]:
    base = {"source": "contacts", "id": "7", "updated_at": AT, "first_name": "Ann", "last_name": "Lee"}
    additional = ";".join([f"ann.lee.{year}@example.org" for year in range(2000, 2020)] + [HER])
    return {
        "an address as a key": {**base, "Email": {HER: {"primary": True, "label": "home"}}},
        "a vCard column": {**base, "vcard": VCARD},
        "hs_additional_emails past 320": {**base, "hs_additional_emails": additional},
        "after 1,024 tags": {**base, "tags": [f"tag-{n}" for n in range(1100)], "Email": HER},
    }


CASES = sorted(_lines())

REASON = (
    "profilesync/erased_quarantine.py:99 _values reads dict values only (:114, never keys), skips a string "
    "over _MOST_LITERAL (320) and stops at _MOST_LITERALS (1,024), where a broken line's ADDRESS over the "
    "whole text (:125) has no such gaps; fix idea: read str keys too and run ADDRESS once over "
    "json.dumps(raw), bounding only the phone matcher"
)


@pytest.mark.parametrize("case", CASES)
def test_her_json_object_line_is_hers(case: str) -> None:
    # GIVEN she was erased by her address
    erased = _erased(f"email#{HER}")
    # WHEN her line names it only in a key, a long value or past the 1,024th value, and is quarantined
    entry = _quarantined(_lines()[case])
    # THEN it is hers: dropped from the quarantine file
    assert erased(entry)


@pytest.mark.parametrize("case", [c for c in CASES if c != "a vCard column"])
def test_control_the_same_line_broken_is_hers(case: str) -> None:
    """Passes on main: the broken line's whole text is read for addresses. Catches ``_line_fields``
    losing its ``ADDRESS.findall(line)`` over the text (the literals alone miss the long ones), and
    connectors.jsonl losing ``beyond_head`` (her address after 1,100 tags is past the head)."""
    assert _erased(f"email#{HER}")(_broken(_lines()[case]))


BROKEN_REASON = (
    "profilesync/erased_quarantine.py:125 runs ADDRESS over a broken line's raw text, where a JSON escape "
    "after her address is read into it ('ann.lee@example.org\\r\\nADR'), and :178 skips the decoded "
    "literal over _MOST_LITERAL (320) that would have been read right (connectors/jsonl/__init__.py:229 "
    "likewise decodes \\u escapes only); fix idea: decode JSON's short escapes (\\n \\r \\t \\\" \\/) "
    "to spaces before ADDRESS, in both places"
)


@pytest.mark.parametrize(
    "line",
    [
        {"source": "contacts", "id": "7", "updated_at": AT, "vcard": VCARD},
        {
            "source": "crm",
            "id": "7",
            "updated_at": AT,
            "note": "Called twice about the spring order; the wholesale list goes to her home inbox now, "
            "not the shop's, and she asked us to stop using the old one. New address below, confirmed "
            f"on the phone on 4 March:\n{HER}\nShe prefers mornings, never Fridays; the shop is shut "
            "on Mondays in winter. Keep the invoices in the shop's name.",
        },
    ],
    ids=["a vCard column", "a long note"],
)
def test_her_broken_line_with_a_long_value_is_hers(line: dict[str, Any]) -> None:
    # GIVEN she was erased by her address
    erased = _erased(f"email#{HER}")
    # WHEN her line, broken (a trailing comma), names her address on a line of its own inside a value
    # over 320 characters (a vCard's EMAIL line, a note's), and is quarantined
    entry = _broken(line)
    assert len(line.get("vcard", line.get("note", ""))) > 320
    # THEN it is hers: dropped from the quarantine file
    assert erased(entry)


def test_control_her_broken_line_with_a_short_note_is_hers() -> None:
    """Passes on main: a literal of at most 320 characters is decoded and read (``_literals``)."""
    line = {"source": "crm", "id": "7", "updated_at": AT, "note": f"New address:\n{HER}\nMornings."}
    assert _erased(f"email#{HER}")(_broken(line))


def test_control_a_stranger_keyed_line_is_not_hers() -> None:
    """Passes on main, and must after a fix: a line keyed by someone else's address is not hers."""
    line = {"source": "contacts", "id": "8", "updated_at": AT, "Email": {"bo@example.org": {"primary": True}}}
    assert not _erased(f"email#{HER}")(_quarantined(line))
