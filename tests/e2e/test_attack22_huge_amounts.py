"""attack22: two order totals normalisation accepts stop the whole ``profilesync resolve`` run.

core/normalise/_money.py refuses an amount only when it needs more than the decimal context's 28
digits ("too large"), so ``9999999999999999999999999999`` JPY (28 digits, no minor units) is an
order. Two of them on one customer sum, in that context, to ``2.000000000000000000000000000E+28``
(rounded to 28 digits); core/computed_traits.py's average order value then quantizes the half of it
to whole yen, 29 digits, and ``decimal.InvalidOperation`` escapes: resolve answers "unexpected error
(InvalidOperation ...) ... report it if it persists" and writes no profile at all, the other
people's neither, and quarantines nothing (the merge function, given the same batch, would fail
the whole batch on every retry). Bad input must get a clear error and lose nothing.

Fixed by the lead: core/normalise/_money.py refuses an amount of 10^15 major units or more.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main

HUGE = "9" * 28


def _lines() -> list[dict[str, object]]:
    orders = [
        {"id": f"o{n}", "total": HUGE, "currency": "JPY", "created_at": f"2025-12-0{n}T00:00:00Z"}
        for n in (1, 2)
    ]
    return [
        {
            "source": "shop",
            "id": "big",
            "updated_at": "2026-01-01T00:00:00Z",
            "email": "rich@example.com",
            "orders": orders,
        },
        {"source": "crm", "id": "c1", "updated_at": "2026-01-01T00:00:00Z", "email": "someone@example.com"},
    ]


def test_huge_order_totals_are_quarantined_or_summed_never_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one customer with two 28-digit yen orders and another customer without orders
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in _lines()), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # WHEN resolve runs
    code = main(["resolve", str(source), "--out", str(out), "--state-dir", str(tmp_path / "s"), "--quiet"])
    # THEN it finishes, and the customer without orders has her profile
    assert code == 0
    profiles = {p["identifiers"]["email"][0]: p for p in map(json.loads, out.read_text("utf-8").splitlines())}
    assert set(profiles) == {"someone@example.com", "rich@example.com"}
    # AND the two impossible totals are dropped and counted, not summed (lead: refused at 10^15)
    assert profiles["rich@example.com"]["computed"]["order_count"] == 0
    assert "values dropped           2  (orders 2)" in capsys.readouterr().out
