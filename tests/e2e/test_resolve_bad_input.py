"""``profilesync resolve`` with the records that broke it on main (issue 11): each is quarantined or
trimmed alone, the run goes on, and nothing read goes unaccounted for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.testing.population import repeat_buyer
from profilesync.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def _write(path: Path, records: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _people(n: int) -> list[dict[str, Any]]:
    return [
        {"source": "crm", "id": f"p{i}", "updated_at": "2026-01-05", "email": f"p{i}@example.com"}
        for i in range(n)
    ]


@pytest.mark.parametrize("batch_size", ["1", "5", "500", "default"])
def test_a_repeat_buyer_is_one_profile_with_every_order_whatever_the_batch_size(
    tmp_path: Path, batch_size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a customer and her 12 orders sharing her email (main: 6 profiles with --batch-size 5,
    # a crash with the default: "multiple operations on one item")
    source = _write(tmp_path / "in.jsonl", repeat_buyer(12))
    out = tmp_path / "out.jsonl"
    # WHEN resolved
    size = [] if batch_size == "default" else ["--batch-size", batch_size]
    assert main(["resolve", str(source), "--out", str(out), *size]) == 0
    # THEN one profile with all 12 orders in lifetime value
    [profile] = _lines(out)
    assert profile["computed"]["order_count"] == 12
    assert profile["computed"]["lifetime_value"] == {"GBP": "120.00"}


def test_poison_records_are_quarantined_or_trimmed_alone_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 20 good people and, between them, each record that ended a whole run on main
    poison: list[Any] = [
        '{"source": "crm", "id": "\\ud800", "updated_at": "2026-01-05", "email": "s@example.com"}',
        '{"source": "crm", "id": "u1", "updated_at": "2026-01-05", "email": "u@x.io", "city": "\\udc00"}',
        {"source": "crm", "id": "x" * 1100, "updated_at": "2026-01-05", "email": "long@example.com"},
        {
            "source": "crm",
            "id": "many",
            "updated_at": "2026-01-05",
            "email": [f"m{i}@example.com" for i in range(120)],
        },
        {
            "source": "crm",
            "id": "big",
            "updated_at": "2026-01-05",
            "email": "big@example.com",
            "notes": "n" * 420_000,
        },
        {
            "source": "shop",
            "id": "orders",
            "updated_at": "2026-01-05",
            "email": "buyer@example.com",
            "orders": [
                {"id": f"o{i}", "total": "1.00", "currency": "GBP", "created_at": "2026-01-01"}
                for i in range(10_000)
            ],
        },
        {"source": "crm", "id": ["a", "b"], "updated_at": "2026-01-05", "email": "list@example.com"},
        {"source": "crm", "id": "future", "updated_at": "2099-01-01T00:00:00Z", "email": "f@example.com"},
        {
            "source": "shop",
            "id": "neg",
            "updated_at": "2026-01-05",
            "email": "neg@example.com",
            "orders": [{"id": "r1", "total": "-500", "currency": "GBP", "created_at": "2026-01-01"}],
        },
    ]
    good = _people(20)
    source = _write(tmp_path / "in.jsonl", [*good[:10], *poison, *good[10:]])
    out = tmp_path / "out.jsonl"
    # WHEN resolved
    code = main(["resolve", str(source), "--out", str(out)])
    summary = capsys.readouterr().out
    # THEN the run completes, and every line is a profile's record or quarantined
    assert code == 0
    profiles = _lines(out)
    quarantined = _lines(tmp_path / "out.quarantine.jsonl")
    assert len(quarantined) == 3  # the lone surrogate id, the 1,100-byte id, the list id
    reasons = sorted(q["reason"] for q in quarantined)
    assert reasons[0].startswith("record key is 1,112 bytes")
    assert reasons[1].startswith("source id holds invalid Unicode")
    assert reasons[2].startswith("source id must be a string or an integer, not a list")
    assert len(profiles) == 20 + 6
    by_id = {s["id"]: p for p in profiles for s in p["sources"]}
    assert len(by_id["many"]["identifiers"]["email"]) == 40
    assert "notes" not in by_id["big"]["traits"]
    assert by_id["orders"]["computed"]["lifetime_value"] == {"GBP": "10000.00"}
    assert by_id["neg"]["computed"]["segment"] == "prospect"
    assert "city" not in by_id["u1"]["traits"]
    assert "future-dated             1" in summary
    assert "records read            29" in summary


def _resolve_measured(source: Path, out: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``profilesync resolve`` in a fresh process (its peak memory is its own): the outcome and
    the peak resident memory in MB."""
    script = (
        "import resource, sys; from profilesync.cli import main; code = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "resolve", str(source), "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done, int(done.stdout.strip().splitlines()[-1]) / 1024


def test_a_50_mb_line_is_quarantined_as_too_large_with_bounded_memory(tmp_path: Path) -> None:
    # GIVEN a file whose second line is 50 MB of one JSON record, and the same file without it
    source, small = tmp_path / "in.jsonl", tmp_path / "small.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(_people(1)[0]) + "\n")
        handle.write('{"source": "crm", "id": "huge", "updated_at": "2026-01-05", "notes": "')
        for _ in range(50):
            handle.write("x" * (1 << 20))
        handle.write('"}\n')
        handle.write(json.dumps(_people(2)[1]) + "\n")
    _write(small, _people(2))
    out = tmp_path / "out.jsonl"
    # WHEN each is resolved in a fresh process
    _, baseline = _resolve_measured(small, tmp_path / "small-out.jsonl")
    _, peak = _resolve_measured(source, out)
    # THEN the two people are resolved and the line is quarantined as too large
    assert len(_lines(out)) == 2
    [entry] = _lines(tmp_path / "out.quarantine.jsonl")
    assert entry["reason"].startswith("line 2 is 52,428,8")
    assert "over the 4,194,304 a record may have" in entry["reason"]
    # AND the line cost a few MB over the same run without it (it cost 785 MB for the run on main)
    assert peak - baseline < 64, (peak, baseline)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{out}", "--quarantine", "{input}"], "--quarantine {input} is the same file as the input"),
        (["--out", "{input}"], "--out {input} is the same file as the input"),
        (["--out", "{out}", "--quarantine", "{out}"], "--quarantine {out} is the same file as --out"),
        (["--out", "{alias}"], "--out {alias} is the same file as the input"),
    ],
)
def test_an_output_naming_the_input_or_the_other_output_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    # GIVEN a 2,000-line input (main overwrote it to one line with --quarantine in.jsonl, exit 0)
    source = _write(tmp_path / "in.jsonl", _people(2000))
    before = source.read_bytes()
    alias = tmp_path / "alias.jsonl"  # a link to the input: the same file under another name
    alias.symlink_to(source)
    names = {"input": str(source), "out": str(tmp_path / "out.jsonl"), "alias": str(alias)}
    argv = ["resolve", str(source), *(a.format(**names) for a in args)]
    # WHEN resolve is asked to write over it
    code = main(argv)
    # THEN it exits 2 with one line naming the clash, and the input is untouched, nothing created
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert (
        err == f"profilesync resolve: {message.format(**names)}; give {message.split()[0]} a path of its own"
    )
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.jsonl", "in.jsonl"]
