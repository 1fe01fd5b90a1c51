"""attack11: hostile lines, written as bytes, among good ones through ``profilesync resolve``.

Hypothesis draws each line: a good record, a record with one hostile value (a lone surrogate or a NUL
written as a JSON escape, in a name, an address or the id; a number or a date as a string; a year 0,
9999 or 1 with an offset; a Unix time; nesting 30 to 3,000 deep; a 200 KB string; a phone as a JSON
number; a list of junk as the address), or junk bytes (a byte-order mark in the middle of the file,
a lone carriage return, a blank line, invalid UTF-8, a cut line, a bare value). Every record line
has an id of its own. Whatever the batch size: every line that is not blank is read; ``read =
normalised + quarantined``; the quarantine file has one line per quarantined record; every record
normalised is in exactly one profile; every good line is.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profilesync.cli import main
from tests.integration.test_attack3_resolve_counts import _summary

pytestmark = pytest.mark.slow

#: Raw JSON text of a hostile value (written as is between the braces of a line).
HOSTILE_VALUES = [
    '"first_name": "Ann\\ud800"',
    '"first_name": "\\udfff"',
    '"email": "ann\\ud83d@example.com"',
    '"email": "nul\\u0000@example.com"',
    '"first_name": "a\\u0000b"',
    '"updated_at": "1767600000"',
    '"updated_at": 1767600000',
    '"updated_at": "0000-01-01T00:00:00Z"',
    '"updated_at": "9999-12-31T23:59:59-14:00"',
    '"updated_at": "0001-01-01T00:00:00+14:00"',
    '"updated_at": "2026-02-01T10:00:00+05:45"',
    '"updated_at": 1e400',
    '"phone": 442079460018',
    '"phone": "442079460018"',
    '"email": [null, 1, {"a": "b@c.de"}, ["x@y.zz"]]',
    '"orders": [{"id": 1, "total": "1e309", "currency": "XXX", "created_at": "9999-01-01"}]',
    '"consent": {"email": "yes", "sms": null}',
    '"id": "\\ud800"',
    '"id": 1.5',
    '"owner_id": ["L1"], "object_type": "order"',
]
#: Junk lines (a first line starting with a UTF-16 byte-order mark makes the file refused as UTF-16:
#: ``cli_checks.check_json_lines``, exit 2; here the bytes are inside a line).
JUNK_LINES = [
    b'\xef\xbb\xbf{"source": "crm"}',
    b"\r",
    b"",
    b"   ",
    b"{}\xff\xfe",
    b'{"source": "crm", "id": "cut',
    b"42",
    b"null",
    b"[]",
    b"\x00",
]


def _good(i: int, source: str) -> bytes:
    record = {
        "source": source,
        "id": f"L{i}",
        "updated_at": "2026-01-05T10:00:00Z",
        "email": f"p{i % 7}@example.com",
    }
    return json.dumps(record).encode()


@st.composite
def lines(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    # (a file with no JSON object among its first lines is refused whole: cli_checks.check_json_lines)
    out: list[tuple[str, bytes]] = [("good", _good(1_000, "crm"))]
    for i in range(draw(st.integers(1, 30))):
        source = draw(st.sampled_from(["crm", "shop"]))
        kind = draw(st.sampled_from(["good", "good", "hostile", "deep", "huge", "junk"]))
        if kind == "good":
            out.append(("good", _good(i, source)))
        elif kind == "junk":
            out.append(("junk", draw(st.sampled_from(JUNK_LINES))))
        else:
            head = f'{{"source": "{source}", "id": "L{i}", "updated_at": "2026-01-05T10:00:00Z", '
            head += f'"email": "q{i}@example.com", '
            if kind == "hostile":
                value = draw(st.sampled_from(HOSTILE_VALUES))
            elif kind == "deep":
                depth = draw(st.sampled_from([30, 1_000, 3_000]))
                value = '"extra": ' + "[" * depth + "1" + "]" * depth
            else:
                value = '"first_name": "' + "x" * 200_000 + '"'
            out.append((kind, (head + value + "}").encode()))
    return out


@settings(
    max_examples=int(os.environ.get("ATTACK11_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(drawn=lines(), batch_size=st.sampled_from([1, 3, 20_000]), crlf=st.booleans())
def test_hostile_lines_are_each_in_a_profile_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    drawn: list[tuple[str, bytes]],
    batch_size: int,
    crlf: bool,
) -> None:
    capsys.readouterr()
    tmp = tmp_path_factory.mktemp("junk")
    source = tmp / "in.jsonl"
    source.write_bytes(b"".join(raw + (b"\r\n" if crlf else b"\n") for _, raw in drawn))
    out = tmp / "out.jsonl"
    # WHEN resolved
    assert main(["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", str(batch_size)]) == 0
    counts = _summary(capsys.readouterr().out)
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    quarantine = (tmp / "out.quarantine.jsonl").read_text(encoding="utf-8").splitlines()
    stored = [(s["source"], s["id"]) for p in profiles for s in p["sources"]]
    # THEN every line but the blank ones is read, and the counts add up
    blank = sum(1 for _, raw in drawn if not raw.strip(b" \r\t"))
    assert counts["records read"] == len(drawn) - blank
    assert counts["records read"] == counts["normalised"] + counts["quarantined"]
    assert counts["quarantined"] == len(quarantine)
    # AND every record normalised is in exactly one profile, every good line among them
    assert len(stored) == len(set(stored)) == counts["normalised"]
    goods = {(json.loads(raw)["source"], json.loads(raw)["id"]) for kind, raw in drawn if kind == "good"}
    assert goods <= set(stored)
