"""attack3: the counts ``profilesync resolve`` prints add up to what it stored.

A customer whose records together outgrow one item (400 KB) makes its batch fail; ``core.isolation``
ingests the halves again until the record that cannot be stored is alone, and quarantines it. The
records are all kept (in profiles or quarantined) but the summary should still say what happened:
none of the file's records was a repeat, so none is "unchanged", and every profile is a new customer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main
from tests.integration.item_packing import items_as_text  # noqa: F401  (the fixture)

# The chains outgrow the item by addresses of repeated letters: written as text, not packed.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("items_as_text")]

DOMAIN = ".".join(["d" * 60] * 3) + ".example.com"


def _chain(count: int, name: str = "", own: int = 0) -> list[dict[str, object]]:
    """Records each holding two long addresses, the second the next record's first: one chain of
    ``count`` records whose customer's profile would be larger than one item holds (``name``: the
    prefix of its ids and addresses, for another chain). ``own`` more addresses of its own in each
    record make the customer outgrow the item in fewer records: about 690 records with none, 170 with
    three, 95 with seven."""
    return [
        {
            "source": "crm",
            "id": f"{name}{i}",
            "updated_at": "2026-01-01T00:00:00Z",
            "email": [
                f"{name}{'p' * 50}.{i}@{DOMAIN}",
                *(f"{name}{'p' * 50}.{i}.{j}@{DOMAIN}" for j in range(own)),
                f"{name}{'p' * 50}.{i + 1}@{DOMAIN}",
            ],
            "first_name": "Chain",
        }
        for i in range(count)
    ]


def _summary(printed: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in printed.splitlines():
        words = line.split()
        if len(words) >= 2 and words[-1].replace(",", "").isdigit():
            counts[" ".join(words[:-1])] = int(words[-1].replace(",", ""))
    return counts


def test_the_summary_of_a_run_with_an_oversized_customer_counts_no_record_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 130 distinct records chained into one customer too large for one item (eight addresses a
    # record: it outgrows the item at about 95)
    source = tmp_path / "chain.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in _chain(130, own=7)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # WHEN they are resolved
    assert main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
    counts = _summary(capsys.readouterr().out)
    # THEN nothing is lost: every record is in a profile or quarantined
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    stored = sum(len(p["sources"]) for p in profiles)
    assert counts["quarantined"] >= 1
    assert stored + counts["quarantined"] == counts["records read"] == 130
    assert counts["profiles"] == len(profiles)
    # AND the summary says what happened: no record was a repeat, every profile a new customer
    assert counts["unchanged"] == 0
    assert counts["new customers"] == len(profiles)


def test_records_that_each_alone_make_a_customer_too_large_are_quarantined_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a chained customer just under one item's size, then two records that each join it on its
    # first address with 80 KB of notes: each alone makes the customer too large to store
    heavy = [
        {
            "source": "shop",
            "id": f"big{j}",
            "updated_at": "2026-01-02T00:00:00Z",
            "email": f"{'p' * 50}.0@{DOMAIN}",
            **{f"note_{k}": "z" * 1000 for k in range(80)},
        }
        for j in range(2)
    ]
    source = tmp_path / "chain.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in [*_chain(85, own=7), *heavy]), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # WHEN they are resolved (before the fix the run stopped with the store's error, exit 1)
    assert main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
    # THEN the two are quarantined with the store's reason, and the chain is one profile
    counts = _summary(capsys.readouterr().out)
    assert (counts["records read"], counts["quarantined"], counts["profiles"]) == (87, 2, 1)
    quarantined = [json.loads(q) for q in out.with_name("out.quarantine.jsonl").read_text().splitlines()]
    assert sorted(q["source_id"] for q in quarantined) == ["big0", "big1"]
    assert all("RecordRejectedError" in q["reason"] for q in quarantined)
    (profile,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(profile["sources"]) == 85
