"""attack31r: ``profilesync resolve`` gives the same people whatever the order of the file's lines
and the batch size (scale in odd order). Holds on main (a promise that holds).

The file: core.testing.population's people in three tools, older versions of a third of their
records (another address, name or phone, a day or two before), twins of some records stamped on the
same second with another first name (the hash breaks that tie: core.merge ``newest``), one person in
six more tools (her name and address written six ways), and a family of three behind one inbox, each
with a phone of their own (within the email limit: one customer in exact mode). Resolved as written,
sorted, reversed and shuffled, each in one batch and in batches of 2 (a person's lines then cross
batches: the planner's attach, merge, stale and touch paths): every run gives the same profiles,
each compared whole but for its id and version (a customer's id is its founding record's, which
the order chooses: docs/architecture.md, "Batch at a time").

Checked able to fail: with core/merge.py's ``newest`` keeping the first of two versions stamped on the
same second (``return a`` for the hash tie-break, line 278) instead of the larger hash, the batches
of 2 fail (resolve exits 1: "a newer shop:contact:s5 was stored while the batch was read").
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.testing.population import population
from profilesync.cli import main


def _older(record: dict[str, Any], rng: random.Random, days: int) -> dict[str, Any]:
    old = dict(record)
    stamp = datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00")) - timedelta(days=days)
    old["updated_at"] = stamp.isoformat().replace("+00:00", "Z")
    change = rng.choice(["email", "first_name", "phone"])
    if change == "email" and "email" in old:
        old["email"] = "old." + old["email"].strip()
    elif change == "phone" and "phone" in old:
        old["phone"] = "+1 201 200 " + str(2000 + rng.randint(0, 99))
    else:
        old["first_name"] = "Formerly"
    return old


def _records() -> list[dict[str, Any]]:
    rng = random.Random(31)
    records = [flat for _, flat in population(14, seed=5, malformed_share=0.05)]
    more: list[dict[str, Any]] = []
    for record in records:
        if not isinstance(record.get("updated_at"), str) or not record["updated_at"].endswith("Z"):
            continue
        roll = rng.random()
        if roll < 0.35:
            more += [_older(record, rng, days) for days in range(1, rng.randint(2, 3))]
        elif roll < 0.5:
            more.append({**record, "first_name": rng.choice(["Twin", "Other", "Zed"])})  # the same second
    tools = ["hubspot", "klaviyo", "stripe", "salesforce", "woocommerce", "zendesk"]
    addresses = ["Lea.Martin@example.fr", " lea.martin@EXAMPLE.FR", "lea.martin@example.fr "]
    for n, tool in enumerate(tools):
        more.append(
            {
                "source": tool,
                "id": f"{tool}-lea",
                "updated_at": f"2026-0{1 + n % 6}-1{n}T10:00:00Z",
                "email": addresses[n % 3],
                "first_name": ["Léa", "LEA", "lea"][n % 3],
                "last_name": "Martin",
            }
        )
    for n, first in enumerate(["Ann", "Ben", "Cleo"]):
        more.append(
            {
                "source": "shop",
                "id": f"family-{n}",
                "updated_at": f"2026-02-0{n + 1}T09:00:00Z",
                "email": "the.lees@example.com",
                "phone": f"+44 20 7946 00{n + 10}",
                "first_name": first,
                "last_name": "Lee",
            }
        )
    return records + more


def _profiles(lines: list[str], folder: Path, batch_size: str | None) -> list[str]:
    folder.mkdir()
    source = folder / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = folder / "out.jsonl"
    size = [] if batch_size is None else ["--batch-size", batch_size]
    argv = ["resolve", str(source), "--out", str(out), "--state-dir", str(folder / "state"), "--quiet", *size]
    assert main(argv) == 0
    people = []
    for line in out.read_text(encoding="utf-8").splitlines():
        profile = json.loads(line)
        del profile["customer_id"], profile["version"]
        people.append(json.dumps(profile, sort_keys=True, ensure_ascii=False))
    return sorted(people)


@pytest.mark.parametrize("batch_size", [None, "2"], ids=["one batch", "batches of 2"])
def test_the_same_people_whatever_the_order_of_the_lines(
    tmp_path: Path, batch_size: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN people in many tools, older versions, twins of one second, a family on one inbox
    lines = [json.dumps(record, ensure_ascii=False) for record in _records()]
    shuffled = list(lines)
    random.Random(7).shuffle(shuffled)
    orders = {"file": lines, "sorted": sorted(lines), "reversed": lines[::-1], "shuffled": shuffled}
    # WHEN each order is resolved
    got = {name: _profiles(order, tmp_path / name, batch_size) for name, order in orders.items()}
    # THEN every order gives the same profiles (Léa one of them, the family one)
    assert len(got["file"]) > 12
    assert sum("the.lees@example.com" in profile for profile in got["file"]) == 1
    assert sum("lea.martin@example.fr" in profile for profile in got["file"]) == 1
    assert {name: profiles == got["file"] for name, profiles in got.items()} == dict.fromkeys(orders, True)
