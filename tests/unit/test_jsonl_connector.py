"""The jsonl connector: one flat record per line becomes a RecordDraft, or a Quarantined entry."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connectors.jsonl import read_jsonl
from core.errors import InputError
from core.schema import Quarantined, RecordDraft

GOOD = (
    '{"source": "crm", "id": "c1", "updated_at": "2026-01-05T10:00:00Z", "email": "Ann@Example.com", '
    '"phone": ["+44 20 7946 0018", "020 7946 0019"], "first_name": "ann", "last_name": "Lee", '
    '"country": "GB", "score": 7, "consent": {"email": true}, '
    '"orders": [{"id": "o1", "total": 19.9, "currency": "GBP", "created_at": "2026-01-02T09:00:00Z"}]}'
)


def _write(tmp_path: Path, text: str, name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _read(path: Path, **kwargs: str) -> list[RecordDraft | Quarantined]:
    return list(read_jsonl(path, **kwargs))


def test_good_flat_line_becomes_a_draft_with_the_documented_mapping(tmp_path: Path) -> None:
    # GIVEN a file with one README-style flat record (email a string, phone a list)
    path = _write(tmp_path, GOOD + "\n")
    # WHEN it is read
    [draft] = _read(path)
    # THEN the reserved fields map onto the draft and every other field is a trait
    assert isinstance(draft, RecordDraft)
    assert (draft.source, draft.object_type, draft.source_id) == ("crm", "contact", "c1")
    assert draft.updated_at == "2026-01-05T10:00:00Z"
    assert draft.emails == ["Ann@Example.com"]
    assert draft.phones == ["+44 20 7946 0018", "020 7946 0019"]
    assert draft.traits == {"first_name": "ann", "last_name": "Lee", "country": "GB", "score": 7}
    assert draft.consent == {"email": True}
    assert len(draft.orders) == 1
    assert draft.raw is not None
    assert draft.raw["id"] == "c1"


def test_email_list_and_phone_string_are_both_accepted(tmp_path: Path) -> None:
    # GIVEN emails as a list and a phone as a plain string, and an explicit object_type
    path = _write(
        tmp_path,
        '{"source": "shop", "id": 42, "object_type": "customer", "email": ["a@x.io", "b@x.io"], '
        '"phone": "+1 202 555 0143"}\n',
    )
    # WHEN it is read
    [draft] = _read(path)
    # THEN both become lists, a numeric id becomes a string, object_type is not a trait
    assert isinstance(draft, RecordDraft)
    assert draft.emails == ["a@x.io", "b@x.io"]
    assert draft.phones == ["+1 202 555 0143"]
    assert (draft.object_type, draft.source_id) == ("customer", "42")
    assert draft.traits == {}


def test_missing_email_and_phone_give_empty_lists(tmp_path: Path) -> None:
    # GIVEN a record with neither email nor phone (quarantining it is core.normalise's job)
    path = _write(tmp_path, '{"source": "crm", "id": "c9", "first_name": "nobody"}\n')
    # WHEN it is read
    [draft] = _read(path)
    # THEN it is still a draft, with empty identifier lists rather than [None]
    assert isinstance(draft, RecordDraft)
    assert (draft.emails, draft.phones) == ([], [])


def test_json_numbers_with_a_fraction_arrive_as_decimal_never_float(tmp_path: Path) -> None:
    # GIVEN money and a trait written as JSON numbers, not strings
    path = _write(
        tmp_path,
        '{"source": "shop", "id": "s1", "ratio": 0.1, '
        '"orders": [{"id": "o1", "total": 19.9, "currency": "GBP"}, {"id": "o2", "total": 1e2}]}\n',
    )
    # WHEN it is read
    [draft] = _read(path)
    # THEN every fractional number is the exact Decimal of its text
    assert isinstance(draft, RecordDraft)
    first, second = draft.orders
    assert type(first["total"]) is Decimal
    assert first["total"] == Decimal("19.9")
    assert str(first["total"]) == "19.9"
    assert type(second["total"]) is Decimal
    assert second["total"] == Decimal("100")
    assert type(draft.traits["ratio"]) is Decimal
    assert draft.traits["ratio"] == Decimal("0.1")


def test_blank_lines_are_skipped_and_line_numbers_still_count_them(tmp_path: Path) -> None:
    # GIVEN blank and whitespace-only lines around a good line and a bad one
    path = _write(tmp_path, "\n   \n" + GOOD + "\n\t\n{not json\n\n")
    # WHEN it is read
    items = _read(path)
    # THEN only the two non-blank lines yield something, and the bad one has its real line number
    assert len(items) == 2
    assert isinstance(items[0], RecordDraft)
    assert isinstance(items[1], Quarantined)
    assert items[1].source_id == "line 5"


def test_non_json_line_is_quarantined_with_its_line_number_and_reason(tmp_path: Path) -> None:
    # GIVEN a good line followed by a truncated JSON line
    path = _write(tmp_path, GOOD + '\n{"source": "crm", "id": \n')
    # WHEN it is read
    good, bad = _read(path)
    # THEN the good line is unaffected and the bad one is a Quarantined that says why
    assert isinstance(good, RecordDraft)
    assert isinstance(bad, Quarantined)
    assert bad.source == "jsonl"
    assert bad.source_id == "line 2"
    assert "line 2" in bad.reason
    assert "not valid JSON" in bad.reason
    assert bad.raw == {"line": '{"source": "crm", "id":'}


def test_json_array_line_is_quarantined_as_not_an_object(tmp_path: Path) -> None:
    # GIVEN a line that is valid JSON but an array, not an object
    path = _write(tmp_path, '[{"source": "crm", "id": "c1"}]\n')
    # WHEN it is read
    [entry] = _read(path)
    # THEN it is quarantined, naming the line and that it is not an object
    assert isinstance(entry, Quarantined)
    assert entry.source_id == "line 1"
    assert "line 1" in entry.reason
    assert "not a JSON object" in entry.reason
    assert "is an array" in entry.reason


def test_quarantine_raw_line_is_capped(tmp_path: Path) -> None:
    # GIVEN a very long malformed line
    path = _write(tmp_path, "x" * 5000 + "\n")
    # WHEN it is read
    [entry] = _read(path)
    # THEN the raw text kept for the report is bounded
    assert isinstance(entry, Quarantined)
    assert entry.raw == {"line": "x" * 500}


@pytest.mark.parametrize(
    "line", ['{"id": "c1"}', '{"id": "c1", "source": ""}', '{"id": "c1", "source": null}']
)
def test_line_without_source_gets_the_default_source(tmp_path: Path, line: str) -> None:
    # GIVEN a record whose source is absent, empty or null
    path = _write(tmp_path, line + "\n")
    # WHEN it is read with the default and with a chosen default source
    [default] = _read(path)
    [chosen] = _read(path, default_source="upload")
    # THEN the default source fills the gap
    assert isinstance(default, RecordDraft)
    assert isinstance(chosen, RecordDraft)
    assert default.source == "jsonl"
    assert chosen.source == "upload"


def test_default_source_is_also_used_for_quarantined_lines(tmp_path: Path) -> None:
    # GIVEN a malformed line read with a chosen default source
    path = _write(tmp_path, "oops\n")
    # WHEN it is read
    [entry] = _read(path, default_source="upload")
    # THEN the quarantine entry carries that source
    assert isinstance(entry, Quarantined)
    assert entry.source == "upload"


def test_missing_file_raises_input_error_naming_the_path(tmp_path: Path) -> None:
    # GIVEN a path that does not exist
    path = tmp_path / "nope.jsonl"
    # WHEN it is read THEN InputError names the path and says what is wrong
    with pytest.raises(InputError, match="no such file") as info:
        _read(path)
    assert str(path) in str(info.value)


def test_directory_raises_input_error_naming_the_path(tmp_path: Path) -> None:
    # GIVEN a directory instead of a file
    path = tmp_path / "adir"
    path.mkdir()
    # WHEN it is read THEN InputError names the path and says it is a directory
    with pytest.raises(InputError, match="directory") as info:
        _read(path)
    assert str(path) in str(info.value)


def test_non_utf8_file_raises_input_error_naming_the_path(tmp_path: Path) -> None:
    # GIVEN a file that is not UTF-8 (a UTF-16 byte-order mark and Latin-1 bytes)
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b'\xff\xfe{"id": "caf\xe9"}\n')
    # WHEN it is read THEN InputError names the path and the encoding problem
    with pytest.raises(InputError, match="not UTF-8") as info:
        _read(path)
    assert str(path) in str(info.value)


def test_path_given_as_a_string_is_accepted(tmp_path: Path) -> None:
    # GIVEN the path as a str rather than a Path
    path = _write(tmp_path, GOOD + "\n")
    # WHEN it is read THEN it behaves the same
    [draft] = list(read_jsonl(str(path)))
    assert isinstance(draft, RecordDraft)
    assert draft.source_id == "c1"


def test_byte_order_mark_does_not_cost_the_first_record(tmp_path: Path) -> None:
    # GIVEN a file saved with a UTF-8 byte-order mark, as Excel and Notepad do
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"source": "crm", "id": "1", "email": "a@b.co"}\n')
    # WHEN read THEN the first line is a record, not a quarantined line
    [draft] = list(read_jsonl(path))
    assert isinstance(draft, RecordDraft)
    assert draft.emails == ["a@b.co"]


def test_nan_amounts_are_not_floats(tmp_path: Path) -> None:
    path = tmp_path / "nan.jsonl"
    path.write_text('{"source": "shop", "id": "1", "orders": [{"total": NaN}]}\n', encoding="utf-8")
    [draft] = list(read_jsonl(path))
    assert isinstance(draft, RecordDraft)
    assert not isinstance(draft.orders[0]["total"], float)
