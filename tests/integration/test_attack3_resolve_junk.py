"""attack3: hypothesis-generated junk through ``profilesync resolve`` (the CLI, embedded store, batch
sizes 1 to 20,000): Unicode, long fields, nested garbage, NaN, timestamps far ahead or behind, ids of
several types, duplicate ids from different sources, a byte-order mark, CRLF line ends, blank
lines and a last line cut short. Nothing lost and the counts add up: every line is read; every
record is in exactly one profile or in the quarantine file; ``read = normalised + quarantined``;
and the distinct records stored plus the repeated versions are the records normalised."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profilesync.cli import main

pytestmark = pytest.mark.slow

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
TIMES = st.sampled_from(
    ["2026-02-01T10:00:00Z", "2026-02-01T10:00:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
     "2026-02-30", "yesterday", "", "2026-02-01T10:00:00+14:00", "2099-01-01T00:00:00Z", "1970-01-01"]
)  # fmt: skip
EMAILS = st.sampled_from(
    ["ann@example.com", "ANN@EXAMPLE.COM", "bob@bücher.example", "not-an-email", "", "a@a.com", "x" * 300]
) | st.text(max_size=20)
PHONES = st.sampled_from(["+442079460018", "020 7946 0018", "(201) 200-0001", "12", "+1 201 200 0001 x9"])


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": draw(st.sampled_from(["crm", "shop", "mail", "", "crm:x", "ünï"])),
        "id": draw(
            st.sampled_from(["1", "2", "3", 1, 2, 4.0, "", None, "\u0000", "x" * 500]) | st.text(max_size=5)
        ),
        "updated_at": draw(TIMES),
    }
    if draw(st.booleans()):
        record["email"] = draw(EMAILS | st.lists(EMAILS, max_size=3))
    if draw(st.booleans()):
        record["phone"] = draw(PHONES)
    if draw(st.booleans()):
        record["first_name"] = draw(st.text(max_size=30) | st.just("y" * 5000))
    if draw(st.booleans()):
        record["extra"] = draw(JUNK)
    if draw(st.booleans()):
        record["orders"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"id": st.sampled_from(["o1", "o2", 3]),
                     "total": st.sampled_from(["1.00", "NaN", "-1", "1e308"]),
                     "currency": st.sampled_from(["GBP", "XXX", ""]), "created_at": TIMES}
                ),
                max_size=3,
            )
            | JUNK
        )  # fmt: skip
    return record


def _line(record: dict[str, Any], nan: bool) -> str:
    text = json.dumps(record, ensure_ascii=False)
    return text.replace('"updated_at": ', '"score": NaN, "updated_at": ', 1) if nan else text


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(records(), st.booleans(), st.booleans()), min_size=1, max_size=25),
    st.sampled_from([1, 3, 20_000]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_junk_through_resolve_loses_nothing_and_the_counts_add_up(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    lines: list[tuple[dict[str, Any], bool, bool]],
    batch: int,
    bom: bool,
    crlf: bool,
    cut: bool,
) -> None:
    # GIVEN a file of junk records, some lines NaN-bearing, blank lines between some
    folder = tmp_path_factory.mktemp("junk")
    texts = [_line(record, nan) + ("\n" if not blank else "\n\n") for record, nan, blank in lines]
    body = "".join(t.replace("\n", "\r\n") if crlf else t for t in texts)
    if cut:
        body = body.rstrip("\r\n")[:-3]  # the last line cut short
    source = folder / "in.jsonl"
    source.write_text(("\ufeff" if bom else "") + body, encoding="utf-8")
    out = folder / "out.jsonl"
    capsys.readouterr()
    # WHEN the file is resolved
    assert main(["resolve", str(source), "--out", str(out), "--batch-size", str(batch), "--quiet"]) == 0
    counts = _summary(capsys.readouterr().out)
    # THEN every line is read, and read = normalised + quarantined
    read = sum(1 for line in body.replace("\r\n", "\n").split("\n") if line.strip())
    assert counts["records read"] == read
    assert counts["records read"] == counts["normalised"] + counts["quarantined"]
    # AND the quarantine file holds each quarantined record, the profiles file each profile
    # (split on line feeds alone: a value may hold U+0085 or U+2028, which str.splitlines splits on)
    quarantine = (folder / "out.quarantine.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(quarantine) == counts["quarantined"]
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
    assert len(profiles) == counts["profiles"]
    # AND no record is in two profiles; the distinct records stored and the repeated versions are the
    # records normalised (a version replaced by a later batch's is counted as written, not unchanged)
    held = Counter(f"{s['source']}:{s['object_type']}:{s['id']}" for p in profiles for s in p["sources"])
    assert not [k for k, n in held.items() if n > 1]
    if batch >= len(lines):
        assert len(held) + counts["unchanged"] == counts["normalised"]
    else:
        assert len(held) + counts["unchanged"] <= counts["normalised"]


def test_a_one_record_file_saved_with_a_byte_order_mark_is_resolved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one record in a file an editor saved as "UTF-8 with BOM"
    source = tmp_path / "one.jsonl"
    record = {"source": "crm", "id": "1", "updated_at": "2026-02-01T10:00:00Z", "email": "ann@example.com"}
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps(record).encode() + b"\r\n")
    # WHEN it is resolved THEN it is one profile (the input check refused it as "not JSON lines")
    assert main(["resolve", str(source), "--out", str(tmp_path / "out.jsonl"), "--quiet"]) == 0
    assert _summary(capsys.readouterr().out)["profiles"] == 1


def _summary(printed: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in printed.splitlines():
        words = line.split()
        if len(words) >= 2 and words[-1].replace(",", "").isdigit() and not line.startswith(" " * 4):
            counts[" ".join(words[:-1])] = int(words[-1].replace(",", ""))
        elif len(words) >= 2 and words[1].replace(",", "").isdigit() and words[0] == "unchanged":
            counts["unchanged"] = int(words[1].replace(",", ""))
    return counts
