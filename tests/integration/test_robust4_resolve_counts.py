"""robust4: ``profilesync resolve``'s summary adds up wherever an oversized customer sits.

A chain of records whose customer outgrows one item (tests/integration/test_attack3_resolve_counts)
is stored round by round until the store refuses a record; the batch is ingested again without the
records already stored (core.ingest_settings.PartialIngest). Wherever the chain is in the file,
whatever the batch size, and with two chains: every line read is in a profile or quarantined, no
record is counted unchanged, and every profile is a new customer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main
from tests.integration.test_attack3_resolve_counts import _chain, _summary

pytestmark = pytest.mark.slow


def _people(count: int, name: str) -> list[dict[str, object]]:
    """``count`` people of two records each (a CRM contact and a shop customer, one email)."""
    return [
        {"source": source, "id": f"{name}{n}", "email": f"{name}{n}@example.com", "first_name": "Pat"}
        for n in range(count)
        for source in ("crm", "shop")
    ]


@pytest.mark.parametrize(
    ("position", "batch_size"),
    [
        *((where, 20_000) for where in ("start", "middle", "end", "two chains")),
        ("middle", 1),
        ("two chains", 97),
    ],
)
def test_the_summary_adds_up_wherever_the_oversized_customer_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], position: str, batch_size: int
) -> None:
    # GIVEN 300 people, and a chain of 130 records too large for one item among them (eight addresses
    # a record: it outgrows the item at about 95)
    before, after = {"start": (0, 300), "middle": (150, 150), "end": (300, 0), "two chains": (150, 150)}[
        position
    ]
    lines = [*_people(before, "b"), *_chain(130, own=7), *_people(after, "a")]
    if position == "two chains":
        lines += _chain(120, "second", own=7)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # WHEN they are resolved in batches of ``batch_size``
    assert main(["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", str(batch_size)]) == 0
    counts = _summary(capsys.readouterr().out)
    # THEN every line is in a profile or quarantined, and the summary says so
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    stored = sum(len(p["sources"]) for p in profiles)
    chains = 2 if position == "two chains" else 1
    assert counts["quarantined"] >= chains
    assert stored + counts["quarantined"] == counts["records read"] == len(lines)
    assert counts["profiles"] == len(profiles)
    # AND no record is counted unchanged, every profile a new customer
    assert counts["unchanged"] == 0
    assert counts["new customers"] == len(profiles)
