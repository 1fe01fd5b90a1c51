"""``read_jsonl_batched`` reads what ``read_jsonl`` reads, in batches that keep each person's lines together.

The promises (connectors/jsonl/batched.py):

* every line's outcome (draft or quarantine entry, with its line number) comes exactly once, equal
  to ``read_jsonl``'s, whatever the batch size;
* no batch holds more than ``batch_size`` lines;
* lines sharing an email, a phone or a record id share a batch unless their group is larger than
  a batch; on the shuffled population, every person's records share one;
* files it cannot read line for line as ``read_jsonl`` does are read in file order, as before.
"""

from __future__ import annotations

import codecs
import json
import random
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import read_jsonl
from connectors.jsonl.batched import BATCH_END, BatchEnd, plan_batches, read_jsonl_batched
from core.errors import InputError
from core.schema import Quarantined, RecordDraft
from core.testing.population import population

Item = RecordDraft | Quarantined


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _batches(items: list[Item | BatchEnd]) -> list[list[Item]]:
    """The batches of a batched read (the items after the last ``BATCH_END`` as one more)."""
    batches: list[list[Item]] = [[]]
    for item in items:
        if isinstance(item, BatchEnd):
            batches.append([])
        else:
            batches[-1].append(item)
    return [b for b in batches if b]


def _dump(item: Item) -> str:
    return item.model_dump_json()


def _same_outcomes(path: Path, batch_size: int) -> list[list[Item]]:
    """Read ``path`` both ways; assert the same outcomes; return the batches."""
    batched = list(read_jsonl_batched(path, batch_size))
    plain = list(read_jsonl(path))
    flat = [i for i in batched if not isinstance(i, BatchEnd)]
    assert sorted(map(_dump, flat)) == sorted(map(_dump, plain))
    return _batches(batched)


def _line_numbers(batch: list[Item]) -> list[int]:
    return [int(str((i.raw or {}).get("n"))) for i in batch if isinstance(i, RecordDraft)]


@pytest.mark.parametrize("batch_size", [25, 60, 400])
def test_each_persons_records_share_a_batch_and_nothing_is_lost(tmp_path: Path, batch_size: int) -> None:
    # GIVEN 300 people across three tools, shuffled, with malformed records among them
    pairs = population(300, seed=4)
    source = _write(tmp_path / "people.jsonl", [json.dumps(flat, ensure_ascii=False) for _, flat in pairs])

    # WHEN the file is read in batches
    batches = _same_outcomes(source, batch_size)

    # THEN every line comes once (above), no batch is larger than asked, there is more than one,
    # and each person's records are in one batch
    assert len(batches) > 1
    assert all(len(batch) <= batch_size for batch in batches)
    batch_of_line: dict[str, int] = {}
    for number, batch in enumerate(batches):
        for item in batch:
            if isinstance(item, RecordDraft):
                batch_of_line[f"{item.source}:{item.source_id}"] = number
    where: dict[int, set[int]] = defaultdict(set)
    for person, flat in pairs:
        if person is not None and f"{flat['source']}:{flat['id']}" in batch_of_line:
            where[person].add(batch_of_line[f"{flat['source']}:{flat['id']}"])
    assert where
    assert all(len(batches_of_person) == 1 for batches_of_person in where.values())


def test_a_group_larger_than_a_batch_is_cut_in_file_order(tmp_path: Path) -> None:
    # GIVEN 35 lines sharing one email (a family inbox) between 10 unrelated lines
    lines = [
        json.dumps({"source": "crm", "id": f"u{i}", "email": f"u{i}@example.com", "n": i}) for i in range(5)
    ]
    lines += [
        json.dumps({"source": "crm", "id": f"f{i}", "email": "Family@Example.com ", "n": 5 + i})
        for i in range(35)
    ]
    lines += [
        json.dumps({"source": "crm", "id": f"v{i}", "email": f"v{i}@example.com", "n": 40 + i})
        for i in range(5)
    ]
    source = _write(tmp_path / "family.jsonl", lines)

    # WHEN it is read in batches of 10
    batches = _same_outcomes(source, 10)

    # THEN the family's lines fill batches of their own, in file order, and nothing is larger
    assert all(len(batch) <= 10 for batch in batches)
    family = [b for b in batches if any(i.source_id.startswith("f") for i in b if isinstance(i, RecordDraft))]
    assert [len(b) for b in family] == [10, 10, 10, 5]
    assert [n for b in family for n in _line_numbers(b)] == list(range(5, 40))


def test_links_by_phone_digits_owner_and_record_id(tmp_path: Path) -> None:
    # GIVEN lines that link only by a phone written two ways, an order naming its buyer's record,
    # and two versions of one record, spread among 60 unrelated lines
    rng = random.Random(3)
    filler = [{"source": "email", "id": f"x{i}", "email": f"x{i}@example.com"} for i in range(60)]
    linked = [
        {"source": "crm", "id": "c1", "phone": "+44 20 3000 2291", "first_name": "Ann"},
        {"source": "shop", "id": "s1", "phone": "020 3000 2291"},
        {"source": "shop", "id": "o1", "object_type": "order", "owner_id": "s1", "total": "5.00"},
        {"source": "crm", "id": "c9", "email": "bo@example.com", "updated_at": "2026-01-01T00:00:00Z"},
        {"source": "crm", "id": "c9", "email": "bo@example.org", "updated_at": "2026-02-01T00:00:00Z"},
    ]
    rows = filler + linked
    rng.shuffle(rows)
    source = _write(tmp_path / "linked.jsonl", [json.dumps(r) for r in rows])

    # WHEN it is read in batches of 8
    batches = _same_outcomes(source, 8)

    # THEN each linked set is in one batch
    def batch_ids(wanted: set[str]) -> set[int]:
        return {
            n
            for n, b in enumerate(batches)
            for i in b
            if isinstance(i, RecordDraft) and i.source_id in wanted
        }

    assert len(batch_ids({"c1", "s1", "o1"})) == 1
    assert len(batch_ids({"c9"})) == 1


def test_a_file_that_fits_one_batch_is_read_as_read_jsonl_reads_it(tmp_path: Path) -> None:
    # GIVEN 30 lines, and a batch of 30
    source = _write(
        tmp_path / "small.jsonl", [json.dumps({"id": str(i), "email": "a@b.co"}) for i in range(30)]
    )

    # WHEN read batched THEN it is read_jsonl's sequence, with no batch ends
    assert plan_batches(source, 30) is None
    assert list(map(_dump, read_jsonl_batched(source, 30))) == list(map(_dump, read_jsonl(source)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            b'{"id": "1"}\r{"id": "2"}\n' * 20, id="a carriage return alone ends a line in text mode"
        ),
        pytest.param(b'{"id": "1"}\n{"id": "2", "x": "\r"}\n' * 20, id="a raw carriage return inside a line"),
    ],
)
def test_files_read_differently_line_by_line_keep_file_order(tmp_path: Path, content: bytes) -> None:
    # GIVEN a file whose lines text mode splits where bytes do not
    source = tmp_path / "odd.jsonl"
    source.write_bytes(content)

    # WHEN read batched THEN it is read in file order, exactly as read_jsonl reads it
    assert plan_batches(source, 3) is None
    assert list(map(_dump, read_jsonl_batched(source, 3))) == list(map(_dump, read_jsonl(source)))  # type: ignore[arg-type]


def test_bom_crlf_bad_bytes_and_junk_lines_read_as_read_jsonl_reads_them(tmp_path: Path) -> None:
    # GIVEN a UTF-8 file with a byte-order mark, CRLF line ends, a Latin-1 line, blank lines, lines
    # that are not JSON objects, and a line nested too deep to parse
    lines = [
        json.dumps({"source": "crm", "id": f"c{i}", "email": f"P{i % 7}@Example.com"}).encode()
        for i in range(40)
    ]
    lines[3] = b'{"source": "crm", "id": "lat", "first_name": "Jos\xe9"}'
    lines[8] = b"   "
    lines[11] = b"[1, 2]"
    lines[17] = b"{not json"
    lines[23] = b"[" * 5000 + b"]" * 5000
    source = tmp_path / "odd.jsonl"
    source.write_bytes(codecs.BOM_UTF8 + b"\r\n".join(lines) + b"\r\n")

    # WHEN read in batches of 6 THEN the outcomes (quarantine entries with their line numbers too)
    # are read_jsonl's, and the batches are within their size
    batches = _same_outcomes(source, 6)
    assert len(batches) > 1
    assert all(len(b) <= 6 for b in batches)
    reasons = [i.reason for b in batches for i in b if isinstance(i, Quarantined)]
    assert any("line 4 is not UTF-8" in r for r in reasons)


def test_an_unreadable_file_fails_as_read_jsonl_fails(tmp_path: Path) -> None:
    # GIVEN a UTF-16 file and a missing one
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_bytes(codecs.BOM_UTF16_LE + '{"id": "1"}\n'.encode("utf-16-le") * 10)

    # WHEN read batched THEN the same InputError as read_jsonl's
    for path in (utf16, tmp_path / "missing.jsonl"):
        with pytest.raises(InputError) as batched:
            list(read_jsonl_batched(path, 2))
        with pytest.raises(InputError) as plain:
            list(read_jsonl(path))
        assert str(batched.value) == str(plain.value)


def test_batch_size_below_one_is_refused(tmp_path: Path) -> None:
    source = _write(tmp_path / "a.jsonl", ['{"id": "1"}'])
    with pytest.raises(ValueError, match="at least 1"):
        plan_batches(source, 0)


_EMAILS = st.sampled_from(["a@x.co", "B@x.co", "b@x.co ", "c@x.co", "", "not-an-email", "d@x.co"])
_PHONES = st.sampled_from(["+44 20 3000 0001", "020 3000 0001", "+1 201 200 0002", "12", ""])
_LINE = st.one_of(
    st.fixed_dictionaries(
        {"source": st.sampled_from(["crm", "shop"]), "id": st.sampled_from([f"r{i}" for i in range(12)])},
        optional={
            "email": st.one_of(_EMAILS, st.lists(_EMAILS, max_size=2)),
            "phone": _PHONES,
            "owner_id": st.sampled_from(["r1", "r2", ""]),
            "object_type": st.just("order"),
        },
    ).map(json.dumps),
    st.sampled_from(["", "{", "[]", "null", '"text"', '{"id": [1]}']),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, min_size=1, max_size=40), batch_size=st.integers(1, 12))
def test_any_file_any_batch_size_same_outcomes_and_linked_lines_together(
    tmp_path: Path, lines: list[str], batch_size: int
) -> None:
    # GIVEN any small file of linked, unlinked and junk lines
    source = _write(tmp_path / "any.jsonl", lines)

    # WHEN read batched THEN nothing is lost or repeated, no batch is too large, and lines sharing
    # a record id whose group fits in a batch share one
    batches = _same_outcomes(source, batch_size)
    assert all(len(b) <= batch_size for b in batches)
    plan = plan_batches(source, batch_size)
    if plan is None:
        assert len(lines) <= batch_size or len(batches) == 1
        return
    assert plan.ends[-1] == len(lines)
    assert sorted(plan.order) == list(range(len(lines)))
    assert sum(1 for _ in read_jsonl_batched(source, batch_size) if _ is BATCH_END) == plan.batches
    batch_of = {
        line: b
        for b, (start, end) in enumerate(zip([0, *plan.ends], plan.ends, strict=False))
        for line in plan.order[start:end]
    }
    for group in _reference_groups(lines):
        if len(group) <= batch_size:
            assert len({batch_of[line] for line in group}) == 1


def _reference_groups(lines: list[str]) -> list[set[int]]:
    """The documented links, pair by pair, closed transitively (a slow, separate model)."""

    def values(text: str) -> set[str]:
        try:
            data = json.loads(text)
        except ValueError:
            return set()
        if not isinstance(data, dict):
            return set()
        found = set()
        if isinstance(data.get("id"), str):
            found.add(f"{data['source']}/{data.get('object_type', 'contact')}/{data['id']}")
        if data.get("owner_id"):
            found.add(f"{data['source']}/contact/{data['owner_id']}")
        emails = data.get("email", [])
        for email in emails if isinstance(emails, list) else [emails]:
            if "@" in email:
                found.add(email.strip().lower())
        digits = "".join(c for c in data.get("phone", "") if c.isdigit())
        if len(digits) >= 7:
            found.add("phone " + digits[-9:])
        return found

    held = [values(line) for line in lines]
    groups = [{i} for i in range(len(lines))]
    merged = True
    while merged:
        merged = False
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if any(held[i] & held[j] for i in groups[a] for j in groups[b]):
                    groups[a] |= groups.pop(b)
                    merged = True
                    break
            if merged:
                break
    return groups


def test_a_pipe_is_not_read_ahead(tmp_path: Path) -> None:
    # GIVEN a named pipe (which cannot be read twice) with no writer yet: opening it would block
    import os

    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)

    # WHEN the batches are planned THEN there is no plan, and the pipe was not opened (this returns)
    assert plan_batches(pipe, 5) is None
