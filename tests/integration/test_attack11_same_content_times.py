"""attack11: two versions of one record with the same content and different times (an echo of a push,
or a tool re-exporting an unchanged contact) decide a trait differently by batch size and by order.

Drawn by ``test_attack11_resolve_orders.py`` (an order delivered twice, 1 January then 2 January,
provenance differing). The smallest case: Ann's CRM contact exported on 1 January and again, unchanged,
on 3 January; her newsletter record, on the same address, says ``Mel`` on 2 January.

* One by one (``--batch-size 1``, the lines in time order) the 3 January copy is an echo: unchanged,
  only its staleness watermark moves (``TouchSource``, core/ingest_plan.py:86-95), the snapshot keeps
  1 January, and ``Mel`` (2 January) wins.
* In one batch ``core.pipeline.latest_versions`` (core/pipeline.py:184-192, used by
  core/batch_ingest.py:66 too) keeps the newest duplicate, 3 January, as the snapshot, and ``Ann``
  wins.
* One by one with the 3 January copy first, the 1 January copy is "unchanged" and ``Ann`` wins again.

docs/architecture.md ("The content's own time keeps deciding survivorship, so an echo never makes a
tool's stale value the most recent") says the first; DESIGN.md principle 2 says the same records in
any order and any batching give the same profile.

Fixed by keeping the start of the content's latest run (core.content_run): the earliest time of the
current content after the newest time of any other content of the record, folded order-free from
every version, in one call or many. Ann counts from 1 January whatever the order and batching, and
Mel (2 January) wins; tests/integration/test_times19_content_runs.py holds it for random versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from profilesync.cli import main

pytestmark = pytest.mark.slow

ANN_JAN_1 = {"source": "crm", "id": "c0", "updated_at": "2026-01-01T00:00:00Z", "email": "ann@example.com",
             "first_name": "Ann"}  # fmt: skip
ANN_JAN_3 = {**ANN_JAN_1, "updated_at": "2026-01-03T00:00:00Z"}
MEL_JAN_2 = {"source": "mail", "id": "m0", "updated_at": "2026-01-02T12:00:00Z", "email": "ann@example.com",
             "first_name": "Mel"}  # fmt: skip


def _first_name(tmp: Path, lines: list[dict[str, Any]], batch_size: int) -> tuple[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    source = tmp / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp / "out.jsonl"
    argv = ["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", str(batch_size)]
    assert main(argv) == 0
    (profile,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return profile["traits"]["first_name"], profile["provenance"]["first_name"]["updated_at"]


def test_an_unchanged_copy_decides_a_trait_the_same_at_every_batch_size(tmp_path: Path) -> None:
    # GIVEN the three lines in time order
    lines = [ANN_JAN_1, MEL_JAN_2, ANN_JAN_3]
    # WHEN resolved one by one and in one batch
    one_by_one = _first_name(tmp_path / "one", lines, 1)
    together = _first_name(tmp_path / "all", lines, 20_000)
    # THEN the same first name wins, from the same time: Mel, Ann's content counting from 1 January
    assert one_by_one == together == ("Mel", "2026-01-02T12:00:00+00:00")


def test_an_unchanged_copy_decides_a_trait_the_same_in_any_order(tmp_path: Path) -> None:
    # GIVEN the lines one by one, the unchanged copies in either order
    forward = _first_name(tmp_path / "forward", [ANN_JAN_1, ANN_JAN_3, MEL_JAN_2], 1)
    backward = _first_name(tmp_path / "backward", [ANN_JAN_3, ANN_JAN_1, MEL_JAN_2], 1)
    # THEN the same first name wins
    assert forward == backward == ("Mel", "2026-01-02T12:00:00+00:00")
