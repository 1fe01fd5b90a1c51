"""attack30: an erased person's line that is no JSON object stays in ``resolve``'s quarantine file when
her identifier is written the way real tools write JSON.

A line that is no JSON object (a trailing comma, a truncated last line) is quarantined with its first
500 characters (``{"line": ...}``, connectors/jsonl ``_bad_line``). profilesync/erased_quarantine.py
decides whether it is an erased person's by the addresses written in its *raw text*
(``ADDRESS.findall(line)``, line 50) and the phone numbers in its string literals, decoded
(``_phone_tokens``). So:

* an address written with a JSON escape is not read: Python's ``json.dumps`` (``ensure_ascii``, its
  default, what most exports use) writes ``ann@b\\u00fccher.de`` for her address at an
  internationalised domain, and ``\\u0040`` is a valid spelling of ``@``; the same record as a JSON
  object is hers (``idna obj`` control below);
* a phone written as a JSON number (a spreadsheet's export: ``"phone": 442079460018``) is not read
  (only string literals are); the same record as a JSON object is hers;
* her address written past the line's first 500 characters (a long note before it) is cut off with
  the rest, while the head kept names her (her name, her street): the head is not hers.

Each line is read by connectors.jsonl's own ``read_jsonl`` from a file, as ``resolve`` reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.jsonl import read_jsonl
from core.normalise import NormaliseOptions, normalise_email
from core.schema import Quarantined
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

SALT = "attack30-lines"
FIX = (
    "profilesync/erased_quarantine.py:50 reads addresses in the line's raw text only: read them in "
    "its string literals decoded as JSON too (as _phone_tokens decodes them)"
)


def _erased(*keys: str) -> Callable[[Quarantined], bool]:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(k), k.partition("#")[0], "req-1", at) for k in keys])  # type: ignore[arg-type]
    return erased_check(check, NormaliseOptions(default_region="GB"))


def _read(tmp_path: Path, text: str) -> Quarantined:
    """The one entry ``read_jsonl`` makes of a file holding ``text`` as its only line."""
    path = tmp_path / "people.jsonl"
    path.write_text(text + "\n", encoding="utf-8")
    (entry,) = list(read_jsonl(path))
    assert isinstance(entry, Quarantined), entry
    return entry


IDN = "ann@bücher.de"


def test_control_her_idn_address_unescaped_in_a_broken_line_is_hers(tmp_path: Path) -> None:
    erased = _erased(f"email#{normalise_email(IDN)}")
    assert erased(_read(tmp_path, '{"id": "7", "email": "ann@bücher.de", "first_name": "Ann",}'))


def test_control_her_idn_address_escaped_in_a_json_object_is_hers(tmp_path: Path) -> None:
    # the well-formed line (as json.dumps writes it) that a refused record would be quarantined from
    erased = _erased(f"email#{normalise_email(IDN)}")
    entry = Quarantined(source="jsonl", source_id="7", reason="a bad date", raw={"id": "7", "email": IDN})
    assert erased(entry)


@pytest.mark.parametrize(
    "written",
    [
        "ann@b\\u00fccher.de",  # json.dumps(ensure_ascii=True), every Python export's default
        "ann\\u0040b\\u00fccher.de",
    ],
)
def test_her_escaped_idn_address_in_a_broken_line_is_hers(tmp_path: Path, written: str) -> None:
    # GIVEN she was erased by her address at an internationalised domain
    erased = _erased(f"email#{normalise_email(IDN)}")
    # WHEN her line, written by json.dumps and hand-edited (a trailing comma), is quarantined
    entry = _read(tmp_path, f'{{"id": "7", "email": "{written}", "first_name": "Ann",}}')
    # THEN it is hers: dropped from the quarantine file, not kept with her name and address
    assert erased(entry)


def test_her_address_with_an_escaped_at_sign_in_a_broken_line_is_hers(tmp_path: Path) -> None:
    erased = _erased("email#ann.lee@example.com")
    entry = _read(tmp_path, '{"id": "7", "email": "ann.lee\\u0040example.com", "first_name": "Ann",}')
    assert erased(entry)


def test_control_her_phone_as_a_number_in_a_json_object_is_hers(tmp_path: Path) -> None:
    erased = _erased("phone#+442079460018")
    entry = Quarantined(
        source="jsonl", source_id="7", reason="a bad date", raw={"id": "7", "phone": 442079460018}
    )
    assert erased(entry)


def test_her_phone_as_a_number_in_a_broken_line_is_hers(tmp_path: Path) -> None:
    # GIVEN she was erased by her phone
    erased = _erased("phone#+442079460018")
    # WHEN her broken line writes the number unquoted, as a spreadsheet's export does
    entry = _read(tmp_path, '{"id": "7", "phone": 442079460018, "first_name": "Ann",}')
    # THEN it is hers
    assert erased(entry)


#: A CRM export's line: her name and street first, a long note, then her address (past character 500).
_NOTE = "Prefers delivery after six; " * 17


def test_control_her_line_with_her_address_in_its_first_500_characters_is_hers(tmp_path: Path) -> None:
    erased = _erased("email#ann.lee@example.com")
    text = f'{{"id": "7", "first_name": "Ann", "email": "ann.lee@example.com", "note": "{_NOTE}",}}'
    assert erased(_read(tmp_path, text))


def test_her_broken_line_whose_address_is_past_the_kept_head_is_hers(tmp_path: Path) -> None:
    # GIVEN she was erased by her address
    erased = _erased("email#ann.lee@example.com")
    # WHEN her broken line names her, her street and a long note before her address
    text = (
        f'{{"id": "7", "first_name": "Ann", "last_name": "Lee", "street": "1 High Street", '
        f'"note": "{_NOTE}", "email": "ann.lee@example.com",}}'
    )
    assert text.index("ann.lee@") > 500
    entry = _read(tmp_path, text)
    assert "1 High Street" in str(entry.raw)  # what the quarantine file would keep of her
    # THEN it is hers: not kept with her name and street
    assert erased(entry)


@pytest.mark.parametrize(
    "written", ["ann＠example.com", "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ann﹫example.com", "ann%40example.com"]
)
def test_control_her_address_typed_full_width_or_encoded_in_a_json_object_is_hers(written: str) -> None:
    erased = _erased("email#ann@example.com")
    entry = Quarantined(source="jsonl", source_id="7", reason="a bad date", raw={"id": "7", "email": written})
    assert erased(entry)


@pytest.mark.parametrize(
    "written", ["ann＠example.com", "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ann﹫example.com", "ann%40example.com"]
)
def test_her_address_typed_full_width_or_encoded_in_a_broken_line_is_hers(
    tmp_path: Path, written: str
) -> None:
    # GIVEN she was erased by her address
    erased = _erased("email#ann@example.com")
    # WHEN her broken line holds it as a Japanese input method types it (full-width), or URL-encoded
    entry = _read(tmp_path, f'{{"id": "7", "email": "{written}", "first_name": "Ann",}}')
    # THEN it is hers, as the same record as a JSON object is (the control above)
    assert erased(entry)
