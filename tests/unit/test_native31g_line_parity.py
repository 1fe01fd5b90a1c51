"""``resolve --out``'s lines written by the extension (native/src/out_line.rs, ``profile_lines``) are
the Python path's bytes: ``_encode_line(document_line(json.loads(data)))`` for every document.

The compiled pass copies a value's text only where decoding and encoding it again is the identity
(canonical strings, integers, no repeated key) and leaves every other document to the Python
function it is given; these tests hold it to the Python path on hypothesis profiles (any text,
times at any offset with or without microseconds, money in three currencies), on the same documents
written by other encoders (``ensure_ascii``, indents, other separators: each either the same line
or declined), and on hand-written documents of every case it must decline.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.schema import Profile
from profilesync import resolve_output
from profilesync.resolve import profile_line
from profilesync.resolve_output import _isoformat, _line_of
from tests.hypothesis_profiles import examples
from tests.unit.test_resolve_output_bytes import profiles

native = pytest.importorskip("profilesync_native", reason="native/ is not built (make native)")
if not hasattr(native, "profile_lines"):
    pytest.skip("this build of the extension has no profile_lines (`make native`)", allow_module_level=True)


def _python(documents: list[Any]) -> str:
    return "".join(_line_of(document) + "\n" for document in documents)


def _compiled(documents: list[Any]) -> tuple[str, int]:
    text, declined = native.profile_lines(documents, _isoformat, _line_of)
    return text, declined


_SLOW = settings(
    max_examples=examples(ci=40, deep=200), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_SLOW
@given(batch=st.lists(profiles(), min_size=1, max_size=4))
def test_pydantic_documents_are_written_by_the_compiled_pass_byte_for_byte(batch: list[Profile]) -> None:
    # GIVEN profiles as the store keeps them: pydantic's JSON text
    documents = [profile.model_dump_json() for profile in batch]
    # WHEN their lines are written by the compiled pass
    text, declined = _compiled(documents)
    # THEN none is left to Python, and the bytes are the Python path's and json.dumps of the models'
    assert declined == 0
    assert text == _python(documents)
    assert text == "".join(json.dumps(profile_line(p), ensure_ascii=False) + "\n" for p in batch)


_OTHER_ENCODERS: list[dict[str, Any]] = [
    {"ensure_ascii": True},  # every other character as \\uXXXX: declined where there is one
    {"ensure_ascii": False},  # json's separators, with spaces
    {"ensure_ascii": False, "indent": 2},
    {"ensure_ascii": False, "separators": (",", ":")},
]


@_SLOW
@given(profile=profiles(), how=st.sampled_from(_OTHER_ENCODERS))
def test_the_same_document_by_other_encoders_gives_the_same_line_or_is_declined(
    profile: Profile, how: dict[str, Any]
) -> None:
    # GIVEN a profile's document written again by json's encoder in another form
    document = json.dumps(json.loads(profile.model_dump_json()), **how)
    # WHEN written by the compiled pass
    text, declined = _compiled([document])
    # THEN the line is the Python path's; only a character json escaped that pydantic does not is declined
    assert text == _python([document])
    parsed = json.loads(document)
    escaped_more = json.dumps(parsed, ensure_ascii=True) != json.dumps(parsed, ensure_ascii=False)
    assert declined == int(how["ensure_ascii"] and escaped_more)


_GOOD = json.loads(
    '{"customer_id":"cus_1","identifiers":[{"kind":"email","value":"a@example.com"},'
    '{"kind":"source","value":"crm:contact:1"},{"kind":"phone","value":"+441"},'
    '{"kind":"email","value":"b@example.com"}],"traits":{"city":{"value":"Leeds","source":"crm:contact:1",'
    '"updated_at":"2026-01-02T03:04:05Z"}},"computed":{"lifetime_value":{"GBP":"1.50"},"order_count":2,'
    '"first_order_at":"2026-01-01T00:00:00Z","last_order_at":null,"average_order_value":{},'
    '"segment":"customer"},"consent":{"email":{"granted":true,"changed_at":"2026-01-02T03:04:05.5+05:30",'
    '"source":"crm:contact:1"}},"sources":[{"source":"crm","object_type":"contact","id":"1",'
    '"updated_at":"2026-01-02T03:04:05Z"}],"version":3}'
)


def _with(path: tuple[str, ...], raw: str) -> str:
    """``_GOOD``'s compact JSON with the value at ``path`` replaced by the JSON text ``raw``."""
    marker = "\x00MARK\x00"
    document = json.loads(json.dumps(_GOOD))
    here = document
    for step in path[:-1]:
        here = here[int(step)] if isinstance(here, list) else here[step]
    if isinstance(here, list):
        here[int(path[-1])] = marker
    else:
        here[path[-1]] = marker
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).replace(json.dumps(marker), raw)


# (the document, whether the compiled pass must leave it to Python)
_CASES: list[tuple[str, bool]] = [
    (json.dumps(_GOOD, separators=(",", ":")), False),
    (_with(("traits", "city", "value"), '"Le\\"eds\\\\ \\n\\t\\u001f\\u0000"'), False),  # canonical escapes
    (_with(("traits", "city", "value"), '"L\\u00e9eds"'), True),  # a character pydantic writes as it is
    (_with(("traits", "city", "value"), '"L\\/eds"'), True),
    (_with(("traits", "city", "value"), '"\\u000a"'), True),  # \\n has a short form
    (_with(("traits", "city", "value"), '"\\u001F"'), True),  # upper-case hex
    (_with(("traits", "city", "value"), '"\\ud83d\\ude00"'), True),  # a surrogate pair
    (_with(("traits", "city", "value"), "1.50"), True),  # a float's text
    (_with(("traits", "city", "value"), "1e5"), True),
    (_with(("traits", "city", "value"), "-0"), True),
    (_with(("traits", "city", "value"), "-17"), False),
    (_with(("traits", "city", "value"), "123456789012345678901"), True),  # beyond 18 digits
    (_with(("traits", "city", "value"), '[1, {"a": null, "b": [true, false]}, []]'), False),
    (_with(("version",), "NaN"), True),
    (_with(("computed",), '{"a":1,"a":2}'), True),  # a repeated key: json.loads keeps the last
    (_with(("traits", "city", "updated_at"), '"2026-01-02T03:04:05.123Z"'), False),  # isoformat's
    (_with(("traits", "city", "updated_at"), '"2026-01-02T03:04:05-00:00"'), False),
    (_with(("traits", "city", "updated_at"), '"2026-01-02T03:04:05\\u0000"'), True),  # not a time
    (_with(("traits", "city", "updated_at"), '"2026-01-02\\u0054"'), True),
    (_with(("traits", "city", "updated_at"), '"２026-01-02T03:04:05Z"'), True),  # not ASCII
    (_with(("identifiers", "0", "kind"), "7"), True),  # a kind that is not text
    (_with(("identifiers", "1"), '{"kind":"source"}'), False),  # a source key's value is not read
    (_with(("sources",), '{"source":"crm"}'), True),  # not a list
    (_with(("traits",), "[]"), True),
    (_with(("consent", "email", "granted"), '"yes"'), False),  # copied whatever it is
    (_with(("customer_id",), '"cus_\u2028\u00e9\U0001f600"'), False),  # written as it is, not escaped
    (" \n" + json.dumps(_GOOD) + "\t\r\n", False),  # whitespace around and inside
    (json.dumps(_GOOD) + " x", True),  # not one document: json.loads raises
    ("[1, 2]", True),
]


@pytest.mark.parametrize(("document", "declines"), _CASES)
def test_each_hand_written_case_is_the_python_line_or_declined(document: str, declines: bool) -> None:
    # GIVEN a document the compiled pass must copy, or must leave to Python
    # WHEN written both ways
    try:
        expected: str | BaseException = _python([document])
    except Exception as error:  # the Python path raises: so must the compiled pass, the same error
        expected = error
    if isinstance(expected, BaseException):
        with pytest.raises(type(expected)) as raised:
            _compiled([document])
        assert str(raised.value) == str(expected)
        return
    text, declined = _compiled([document])
    # THEN the same bytes, and declined exactly where it must be
    assert text == expected
    assert declined == int(declines)


def test_a_packed_profile_and_a_page_of_several_are_written_in_order() -> None:
    # GIVEN a page of documents: text, a declined one, and a packed profile's bytes
    from core.storage.profile_packing import PACK_THRESHOLD_BYTES, pack_profile

    plain = json.dumps(_GOOD, separators=(",", ":"))
    odd = _with(("traits", "city", "value"), "1.5")
    many = [{"kind": "email", "value": f"p{n}@example.com"} for n in range(PACK_THRESHOLD_BYTES // 30)]
    big = json.dumps(dict(_GOOD, identifiers=many), separators=(",", ":"))
    packed = pack_profile(big, [])
    assert packed is not None
    page = [plain, odd, packed, plain]
    # WHEN written by the compiled pass
    text, declined = _compiled(page)
    # THEN line for line the Python path's, the two it cannot copy left to it
    assert text == _python(page)
    assert declined == 2


def test_the_writer_of_a_store_range_writes_the_same_bytes_and_progress_both_ways(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # GIVEN a SQLite table of 2,345 profiles' items, as the embedded store keeps them
    import sqlite3

    connection = sqlite3.connect(tmp_path / "store.sqlite")
    connection.execute("CREATE TABLE items (pk TEXT, sk TEXT, data)")
    rows = []
    for n in range(2345):
        document = dict(_GOOD, customer_id=f"cus_{n:05d}", version=n)
        data = json.dumps(document, separators=(",", ":"))
        rows.append((f"CUSTOMER#cus_{n:05d}", "PROFILE", data if n % 7 else data.replace('"1.50"', "1.5")))
    connection.executemany("INSERT INTO items VALUES (?, ?, ?)", rows)
    # WHEN the range is written with the compiled pages and with the Python path
    written: dict[str, tuple[str, list[int], int]] = {}
    for way, lines in (("compiled", native.profile_lines), ("python", None)):
        monkeypatch.setattr(resolve_output, "LINES", lines)
        out, told = io.StringIO(), list[int]()
        count = resolve_output._write_range(connection, "", None, out, told.append)
        written[way] = (out.getvalue(), told, count)
    # THEN the same bytes, the same progress calls and the same count
    assert written["compiled"] == written["python"]
    assert written["python"][1] == [1000, 2000]
    assert written["python"][2] == 2345
