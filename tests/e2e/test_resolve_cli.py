"""``profilesync resolve`` end to end: a JSON-lines file in, merged profiles and a quarantine out.

Runs ``profilesync.cli.main`` in-process against the embedded store (moto), plus one subprocess
run to prove ``python -m profilesync.cli`` works.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from profilesync.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]

PROFILE_KEYS = {
    "customer_id",
    "sources",
    "identifiers",
    "traits",
    "provenance",
    "computed",
    "consent",
    "version",
}

# Three people across crm, shop and email, one malformed line and one record with no identifier.
# Ann: crm + shop + email, email in two spellings, phone international (crm) and national (email);
#      two paid GBP orders (one a JSON number) and one refunded; consent from the email tool.
# Bob: crm + shop, one paid and one refunded GBP order, names in capitals.
# Chloe: email + crm + shop, linked by email then phone; consent for two channels.
PEOPLE = [
    {
        "source": "crm",
        "id": "c1",
        "updated_at": "2026-01-05T10:00:00Z",
        "email": "Ann@Example.com",
        "phone": "+44 20 7946 0018",
        "first_name": "ann",
        "last_name": "lee",
        "country": "GB",
    },
    {
        "source": "shop",
        "id": "s1",
        "updated_at": "2026-01-06T10:00:00Z",
        "email": "  ann@EXAMPLE.com ",
        "orders": [
            {"id": "o1", "total": 19.9, "currency": "GBP", "created_at": "2026-01-02T09:00:00Z"},
            {"id": "o2", "total": "30.00", "currency": "GBP", "created_at": "2026-01-03T09:00:00Z"},
            {
                "id": "o3",
                "total": "5.10",
                "currency": "GBP",
                "created_at": "2026-01-04T09:00:00Z",
                "status": "refunded",
            },
        ],
    },
    {
        "source": "email",
        "id": "e1",
        "updated_at": "2026-01-07T10:00:00Z",
        "phone": "020 7946 0018",
        "consent": {"email": True},
    },
    "{not json",
    "",
    {
        "source": "crm",
        "id": "c2",
        "updated_at": "2026-02-01T00:00:00Z",
        "email": "bob.stone@example.org",
        "first_name": "BOB",
        "last_name": "STONE",
    },
    {
        "source": "shop",
        "id": "s2",
        "updated_at": "2026-02-02T00:00:00Z",
        "email": "Bob.Stone@example.org",
        "orders": [
            {"id": "o9", "total": "42.00", "currency": "GBP", "created_at": "2026-02-01T12:00:00Z"},
            {
                "id": "o10",
                "total": "8.00",
                "currency": "GBP",
                "created_at": "2026-02-01T13:00:00Z",
                "status": "refunded",
            },
        ],
    },
    {"source": "crm", "id": "c9", "updated_at": "2026-02-01T00:00:00Z", "first_name": "nobody"},
    {
        "source": "email",
        "id": "e3",
        "updated_at": "2026-03-01T00:00:00Z",
        "email": "chloe@example.net",
        "consent": {"email": False, "sms": {"granted": True, "changed_at": "2026-02-20T00:00:00Z"}},
    },
    {
        "source": "crm",
        "id": "c3",
        "updated_at": "2026-03-02T00:00:00Z",
        "email": "CHLOE@example.net",
        "phone": "+1 202 555 0143",
        "first_name": "chloé",
        "last_name": "o'neil",
    },
    {"source": "shop", "id": "s3", "updated_at": "2026-03-03T00:00:00Z", "phone": "+1 (202) 555-0143"},
]


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """The input file: 11 lines, of which 10 non-blank (8 usable records, 2 to quarantine)."""
    path = tmp_path / "people.jsonl"
    lines = [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in PEOPLE]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _by_email(profiles: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["identifiers"]["email"][0]: p for p in profiles}


def _source_keys(profile: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(s["source"], s["object_type"], s["id"]) for s in profile["sources"]}


def test_resolve_writes_merged_profiles_quarantine_and_summary(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 8 usable records for 3 people, a malformed line and a record without email or phone
    out = tmp_path / "out" / "profiles.jsonl"

    # WHEN the file is resolved with GB as the default phone region
    code = main(["resolve", str(people), "--out", str(out), "--default-region", "GB"])
    captured = capsys.readouterr()

    # THEN it succeeds with one profile per person, each in the documented shape
    assert code == 0, captured.err
    profiles = _lines(out)
    assert len(profiles) == 3
    for profile in profiles:
        assert set(profile) == PROFILE_KEYS
        assert set(profile["identifiers"]) <= {"email", "phone"}
        assert all(set(s) == {"source", "object_type", "id"} for s in profile["sources"])
        assert set(profile["provenance"]) == set(profile["traits"])
        assert isinstance(profile["version"], int)
        assert profile["version"] >= 1
    assert len({p["customer_id"] for p in profiles}) == 3
    assert all(re.fullmatch(r"cus_[a-z2-7]+", p["customer_id"]) for p in profiles)
    by_email = _by_email(profiles)
    assert set(by_email) == {"ann@example.com", "bob.stone@example.org", "chloe@example.net"}

    # AND Ann's three records (linked by normalised email and by E.164 phone) are one profile
    ann = by_email["ann@example.com"]
    assert _source_keys(ann) == {
        ("crm", "contact", "c1"),
        ("shop", "contact", "s1"),
        ("email", "contact", "e1"),
    }
    assert ann["identifiers"] == {"email": ["ann@example.com"], "phone": ["+442079460018"]}
    assert ann["traits"] == {"first_name": "Ann", "last_name": "Lee", "country": "GB"}
    assert ann["provenance"]["first_name"]["source"] == "crm:contact:c1"
    # only paid orders count, summed exactly: 19.9 + 30.00 (a float sum would print "49.9")
    assert ann["computed"]["lifetime_value"] == {"GBP": "49.90"}
    assert ann["computed"]["order_count"] == 2
    assert ann["computed"]["segment"] == "repeat"
    assert ann["consent"]["email"]["granted"] is True
    assert ann["consent"]["email"]["source"] == "email:contact:e1"

    # AND Bob's refunded order is left out and his shouted name is title-cased
    bob = by_email["bob.stone@example.org"]
    assert _source_keys(bob) == {("crm", "contact", "c2"), ("shop", "contact", "s2")}
    assert bob["identifiers"] == {"email": ["bob.stone@example.org"]}
    assert (bob["traits"]["first_name"], bob["traits"]["last_name"]) == ("Bob", "Stone")
    assert bob["computed"]["lifetime_value"] == {"GBP": "42.00"}
    assert bob["computed"]["order_count"] == 1
    assert bob["consent"] == {}

    # AND Chloe (email -> crm by email, crm -> shop by phone) has no orders and two consents
    chloe = by_email["chloe@example.net"]
    assert len(chloe["sources"]) == 3
    assert chloe["identifiers"]["phone"] == ["+12025550143"]
    assert (chloe["traits"]["first_name"], chloe["traits"]["last_name"]) == ("Chloé", "O'Neil")
    assert chloe["computed"]["order_count"] == 0
    assert chloe["computed"]["lifetime_value"] == {}
    assert {ch: c["granted"] for ch, c in chloe["consent"].items()} == {"email": False, "sms": True}

    # AND the two unusable lines are in the default quarantine file, each with a reason
    quarantine = out.with_name("profiles.quarantine.jsonl")
    entries = _lines(quarantine)
    assert len(entries) == 2
    reasons = {e["source_id"]: e["reason"] for e in entries}
    assert set(reasons) == {"line 4", "c9"}
    assert "not valid JSON" in reasons["line 4"]
    assert "no usable identifier" in reasons["c9"]

    # AND the summary accounts for every line read: 10 = 8 + 2, and names the outputs
    stdout = captured.out
    assert re.search(r"records read\s+10\b", stdout)
    assert re.search(r"normalised\s+8\b", stdout)
    assert re.search(r"quarantined\s+2\b", stdout)
    assert re.search(r"^profiles\s+3\b", stdout, re.MULTILINE)
    assert f"wrote 3 profiles to {out}" in stdout
    assert f"wrote 2 quarantined records to {quarantine}" in stdout
    assert captured.err == ""


def test_running_twice_on_the_same_out_gives_identical_profiles(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one resolve run with the embedded store
    out = tmp_path / "profiles.jsonl"
    argv = ["resolve", str(people), "--out", str(out), "--default-region", "GB"]
    assert main(argv) == 0
    first = out.read_text(encoding="utf-8")
    first_quarantine = out.with_name("profiles.quarantine.jsonl").read_text(encoding="utf-8")

    # WHEN the same command runs again, overwriting the same --out
    assert main(argv) == 0
    capsys.readouterr()

    # THEN the output is byte for byte the same (a fresh store, deterministic ids), not appended
    assert out.read_text(encoding="utf-8") == first
    assert len(first.splitlines()) == 3
    assert out.with_name("profiles.quarantine.jsonl").read_text(encoding="utf-8") == first_quarantine


def test_batch_size_one_resolves_people_across_batches(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the default batching, where each person's records meet in one batch
    whole = tmp_path / "whole.jsonl"
    assert main(["resolve", str(people), "--out", str(whole), "--default-region", "GB"]) == 0

    # WHEN every record is ingested in its own batch, so each must find its person in the store
    single = tmp_path / "single.jsonl"
    argv = ["resolve", str(people), "--out", str(single), "--default-region", "GB", "--batch-size", "1"]
    assert main(argv) == 0
    capsys.readouterr()

    # THEN the same three people come out with the same content (ids and versions may differ)
    def content(path: Path) -> list[dict[str, Any]]:
        kept = [{k: v for k, v in p.items() if k not in ("customer_id", "version")} for p in _lines(path)]
        return sorted(kept, key=lambda p: json.dumps(p["sources"]))

    assert len(_lines(single)) == 3
    assert content(single) == content(whole)


def test_default_region_and_quarantine_options_are_honoured(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the same file, an explicit --quarantine path and no --default-region (so US)
    out = tmp_path / "profiles.jsonl"
    quarantine = tmp_path / "rejects" / "q.jsonl"
    quarantine.parent.mkdir()

    # WHEN it is resolved
    code = main(["resolve", str(people), "--out", str(out), "--quarantine", str(quarantine)])
    stdout = capsys.readouterr().out

    # THEN the national GB phone of Ann's email record is not valid in the US, so that record
    # (which has nothing else to match on) is quarantined too, in the chosen file only
    assert code == 0
    entries = _lines(quarantine)
    assert {e["source_id"] for e in entries} == {"line 4", "c9", "e1"}
    e1 = next(e for e in entries if e["source_id"] == "e1")
    assert "US" in e1["reason"]
    assert not out.with_name("profiles.quarantine.jsonl").exists()
    ann = _by_email(_lines(out))["ann@example.com"]
    assert ("email", "contact", "e1") not in _source_keys(ann)
    assert ann["consent"] == {}
    assert re.search(r"records read\s+10\b", stdout)
    assert re.search(r"quarantined\s+3\b", stdout)
    assert f"to {quarantine}" in stdout


def test_missing_input_file_returns_2_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an input path that does not exist and an --out in a directory not yet made
    missing = tmp_path / "absent.jsonl"
    out = tmp_path / "outdir" / "profiles.jsonl"

    # WHEN resolve runs
    code = main(["resolve", str(missing), "--out", str(out)])
    captured = capsys.readouterr()

    # THEN it fails with exit code 2 and a message naming the file, and writes nothing
    assert code == 2
    assert captured.err.startswith("profilesync resolve: ")
    assert "no such file" in captured.err
    assert str(missing) in captured.err
    assert captured.out == ""
    assert not out.parent.exists()


def test_batch_size_zero_is_refused_with_a_clear_message(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a batch size that could never make progress
    out = tmp_path / "profiles.jsonl"

    # WHEN resolve runs THEN it stops as a usage error naming the option, before writing anything
    assert main(["resolve", str(people), "--out", str(out), "--batch-size", "0"]) == 2
    assert capsys.readouterr().err == "profilesync resolve: --batch-size must be at least 1\n"
    assert not out.exists()
    assert not out.with_name("profiles.quarantine.jsonl").exists()


def test_python_dash_m_runs_the_cli(people: Path, tmp_path: Path) -> None:
    # GIVEN a fresh interpreter, run from another directory with relative paths
    work = tmp_path / "work"
    work.mkdir()
    (work / "in.jsonl").write_bytes(people.read_bytes())
    pythonpath = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}

    # WHEN `python -m profilesync.cli resolve` runs
    argv = ["resolve", "in.jsonl", "--out", "out/p.jsonl", "--default-region", "GB"]
    result = subprocess.run(
        [sys.executable, "-m", "profilesync.cli", *argv],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # THEN it exits 0, prints the summary and writes the profiles
    assert result.returncode == 0, result.stderr
    assert re.search(r"records read\s+10\b", result.stdout)
    assert len(_lines(work / "out" / "p.jsonl")) == 3


def test_summary_groups_quarantine_reasons_whatever_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN three malformed lines at different line numbers
    src = tmp_path / "bad.jsonl"
    src.write_text("{bad\n[1]\n{also bad\n", encoding="utf-8")
    # WHEN resolved
    assert main(["resolve", str(src), "--out", str(tmp_path / "o.jsonl")]) == 0
    out = capsys.readouterr().out
    # THEN the two invalid-JSON lines are one group of 2 in the summary
    assert "     2  not valid JSON" in out
    assert "     1  not a JSON object" in out


def test_the_embedded_store_is_a_temporary_file_next_to_the_output_removed_after_the_run(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an output folder, and a probe that sees the store while the run is on
    out = tmp_path / "out" / "profiles.jsonl"
    seen: list[Path] = []
    from profilesync import stores

    real = stores.open_stores

    def probe(**kwargs: Any) -> Any:
        seen.append(Path(kwargs["path"]))
        return real(**kwargs)

    monkeypatch.setattr(stores, "open_stores", probe)
    # WHEN resolve runs quietly
    assert main(["resolve", str(people), "--out", str(out), "--default-region", "GB", "--quiet"]) == 0
    captured = capsys.readouterr()
    # THEN the store was a SQLite file in the output's folder, and it is gone with its WAL files
    assert [p.parent for p in seen] == [out.parent]
    assert seen[0].suffix == ".sqlite3"
    assert sorted(p.name for p in out.parent.iterdir()) == ["profiles.jsonl", "profiles.quarantine.jsonl"]
    assert captured.err == ""
    assert len(_lines(out)) == 3


def test_the_embedded_store_writes_what_the_in_memory_store_writes_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from connectors.jsonl import read_jsonl
    from connectors.jsonl.batched import read_jsonl_batched
    from core.storage.memory import InMemoryProfileStore
    from core.testing.population import population
    from profilesync.resolve import resolve, write_profiles

    # GIVEN 400 people across three tools, shuffled, with malformed records among them
    source = tmp_path / "people.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for _, flat in population(400, seed=21):
            handle.write(json.dumps(flat, ensure_ascii=False) + "\n")
    # WHEN resolve runs on its embedded store, in batches of 37 (which keep each person's lines
    # together: connectors.jsonl.batched), and the same job on the fake
    out = tmp_path / "embedded.jsonl"
    assert main(["resolve", str(source), "--out", str(out), "--batch-size", "37", "--quiet"]) == 0
    capsys.readouterr()
    store = InMemoryProfileStore()
    resolve(read_jsonl_batched(source, 37), store, batch_size=37)
    reference = tmp_path / "memory.jsonl"
    with reference.open("w", encoding="utf-8") as handle:
        write_profiles(store.iter_profiles(), handle)
    # THEN the two outputs are the same bytes
    assert out.read_bytes() == reference.read_bytes()
    assert len(_lines(out)) == 400
    # AND the people and their content are those of batches of 37 in file order (ids, versions aside)
    in_order = InMemoryProfileStore()
    resolve(read_jsonl(source), in_order, batch_size=37)
    file_order = tmp_path / "file-order.jsonl"
    with file_order.open("w", encoding="utf-8") as handle:
        write_profiles(in_order.iter_profiles(), handle)

    def content(path: Path) -> list[dict[str, Any]]:
        kept = [{k: v for k, v in p.items() if k not in ("customer_id", "version")} for p in _lines(path)]
        return sorted(kept, key=lambda p: json.dumps(p["sources"]))

    assert content(out) == content(file_order)
