"""attack10: ``profilesync resolve``'s scratch store (``SQLiteProfileStore(scratch=True)``: no history,
no name index, no holder markers) fed people whose records do not fit in one item together.

Each person's 6 to 18 records are spread over three sources and linked in a chain (the first and
second share an email, the second and third a phone, ...), each record carrying 4 to 31 KB of
traits (the normaliser keeps 32 KB a record), so that joining them makes merges in steps past
DynamoDB's 400 KB item, which must be refused before their first step
(core.merge_steps.check_merge_fits) and never leave a customer frozen. In any order, in batches of
1, 2 or all: every record read is in exactly one profile or in the quarantine file (nothing lost,
none twice), no profile is past the item limit, and the customers and the quarantined records are
those the same lines make on a store that keeps everything (a non-scratch SQLite store through the
same ``resolve``), where no customer is left frozen.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.merge_undo import find_frozen
from core.pipeline import IngestSettings
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from profilesync.cli import main
from tests.integration.identity_attack_records import flat, resolve_lines

pytestmark = pytest.mark.slow

SOURCES = ("crm", "shop", "mail")


def _record(person: int, i: int, kilobytes: int) -> dict[str, Any]:
    links: dict[str, Any] = {}
    if i % 2 == 0:
        links["email"] = [f"p{person}.{i}@example.com", f"p{person}.{i + 1}@example.com"]
    else:
        links["email"] = f"p{person}.{i}@example.com"
        links["phone"] = f"+44207946{person}{i:03d}"
    if i % 2 == 0 and i > 0:
        links["phone"] = f"+44207946{person}{i - 1:03d}"
    chars = kilobytes * 1000 // 8  # under the normaliser's 4,096 characters a trait, 32 KB a record
    traits = {f"t{i}_{j}": chr(0x41 + j) * chars for j in range(8)}
    return flat(SOURCES[i % 3], f"{person}-{i}", day=1 + i, first_name=f"Zoë{person}", **links, **traits)


@st.composite
def inputs(draw: st.DrawFn) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for person in range(draw(st.integers(1, 2))):
        sizes = draw(st.lists(st.sampled_from([4, 16, 31]), min_size=6, max_size=18))
        lines += [_record(person, i, kb) for i, kb in enumerate(sizes)]
    return draw(st.permutations(lines))


def _keys(lines: list[dict[str, Any]]) -> set[str]:
    return {f"{line['source']}:contact:{line['id']}" for line in lines}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=inputs(), batch=st.sampled_from([1, 2, 20_000]))
def test_people_too_large_for_one_item_lose_no_record_and_leave_nobody_frozen(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    lines: list[dict[str, Any]],
    batch: int,
) -> None:
    folder = tmp_path_factory.mktemp("heavy")
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = folder / "out.jsonl"
    capsys.readouterr()
    # WHEN the file is resolved on the scratch store
    assert main(["resolve", str(source), "--out", str(out), "--batch-size", str(batch), "--quiet"]) == 0
    capsys.readouterr()
    # THEN every record is in one profile or in the quarantine file, none twice, none lost
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    quarantine = [json.loads(line) for line in (folder / "out.quarantine.jsonl").read_text().splitlines()]
    held = Counter(f"{s['source']}:{s['object_type']}:{s['id']}" for p in profiles for s in p["sources"])
    assert not [k for k, n in held.items() if n > 1]
    refused = {f"{q['source']}:contact:{q['source_id']}" for q in quarantine}
    assert set(held) | refused == _keys(lines)
    assert not set(held) & refused
    # AND no profile is past DynamoDB's item
    assert max(len(json.dumps(p).encode()) for p in profiles) < 400_000
    # AND the customers are those a store keeping everything makes of the same lines
    database = SQLiteDatabase(str(folder / "full.sqlite3"))
    try:
        full = SQLiteProfileStore(database)
        _, quarantined = resolve_lines(
            lines, full, batch_size=batch, settings=IngestSettings(sleep=lambda _: None)
        )
        assert find_frozen(full, IngestSettings()) == []
        made = {frozenset(f"{s.source}:contact:{s.id}" for s in p.sources) for p in full.iter_profiles()}
        assert made == {frozenset(f"{s['source']}:contact:{s['id']}" for s in p["sources"]) for p in profiles}
        assert {f"{q.source}:contact:{q.source_id}" for q in quarantined} == refused
    finally:
        database.close()
