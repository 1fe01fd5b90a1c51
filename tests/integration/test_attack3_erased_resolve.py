"""attack3: a person erased from a table, then resolved into it again from a file that holds her
under other spellings (capitals, Gmail dots and +tags, googlemail.com, another phone format), in
one batch with other people, at batch sizes 1 and 20,000 (``resolve --endpoint-url``, moto's
server standing in for DynamoDB). Nothing of hers may come back: not in the table, not in the
profiles written, not in the quarantine file written next to them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from profilesync.cli import main
from tests.e2e.test_endpoint_url import endpoint as moto_endpoint  # noqa: F401 (a fixture)
from tests.e2e.test_privacy_cli_attacks import run, scan

pytestmark = pytest.mark.slow

HER_EMAIL = "ann.smith@gmail.com"
HER_PHONE = "+442079460018"


@pytest.fixture
def endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "attack3-salt")
    return moto_endpoint


def _others(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "source": "crm",
            "id": f"p{n}",
            "updated_at": "2026-03-01T00:00:00Z",
            "email": f"person{n}@example.com",
            "first_name": "Pat",
            "last_name": f"Other{n}",
        }
        for n in range(start, start + count)
    ]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _her_traces(text: str) -> list[str]:
    """Her values, and unkeyed hashes of them, found in ``text`` (lower-cased)."""
    text = text.lower()
    values = [HER_EMAIL, "annsmith@gmail.com", "annsmith", "ann.smith", HER_PHONE, "2079460018", "7946 0018"]
    hashes = [
        f(v.encode()).hexdigest()
        for v in (HER_EMAIL, "annsmith@gmail.com", HER_PHONE)
        for f in (hashlib.md5, hashlib.sha1, hashlib.sha256)
    ]
    return [v for v in values + hashes if v in text]


@pytest.mark.parametrize("batch_size", [1, 20_000])
def test_an_erased_person_under_other_spellings_is_not_resolved_back_into_the_table(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], batch_size: int
) -> None:
    # GIVEN Ann (a Gmail address with a dot, a London phone) in two tools, and 20 other people,
    # resolved into a table on an endpoint, then erased by the address spelt without the dot
    table = f"attack3-{batch_size}"  # moto keeps tables between servers of one process
    where = ("--endpoint-url", endpoint, "--table", table, "--state-dir", str(tmp_path / "state"))
    ann = [
        {
            "source": "crm",
            "id": "ann-1",
            "updated_at": "2026-02-01T00:00:00Z",
            "email": HER_EMAIL,
            "phone": HER_PHONE,
            "first_name": "Ann",
            "last_name": "Smith",
        },
        {
            "source": "shop",
            "id": "ann-2",
            "updated_at": "2026-02-02T00:00:00Z",
            "email": HER_EMAIL,
            "orders": [{"id": "o1", "total": "10.00", "currency": "GBP", "created_at": "2026-01-05"}],
        },
    ]
    first = _write(tmp_path / "first.jsonl", [*_others(0, 10), *ann, *_others(10, 10)])
    assert main(["resolve", str(first), "--out", str(tmp_path / "first.out.jsonl"), *where, "--quiet"]) == 0
    code, erased = run(capsys, "privacy", "erase", "--email", "AnnSmith@gmail.com", *where)
    assert (code, erased["outcome"]) == (0, "erased")
    assert not _her_traces(json.dumps(scan(endpoint, table), ensure_ascii=False))
    # WHEN a file holding her under other spellings, new record ids and in a malformed record too,
    # among new people, is resolved into the same table
    variants = [
        {
            "source": "email",
            "id": "m-1",
            "updated_at": "2026-04-01T00:00:00Z",
            "email": "A.NN.SMITH+news@googlemail.com",
            "first_name": "Ann",
        },
        {
            "source": "crm",
            "id": "ann-1",
            "updated_at": "2026-04-02T00:00:00Z",
            "email": "someone.new@example.com",
        },  # her old record id, a new address
        {
            "source": "support",
            "id": "s-9",
            "updated_at": "2026-04-03T00:00:00Z",
            "phone": "0044 (0)20 7946 0018",
            "first_name": "Ann",
            "last_name": "Smith",
        },
        {
            "source": "shop",
            "id": "g-1",
            "updated_at": "yesterday-ish",  # malformed: quarantined
            "email": " Ann.Smith@GMAIL.com ",
            "phone": "020 7946 0018",
            "country": "GB",
        },
    ]
    again = _write(tmp_path / "again.jsonl", [*_others(20, 5), *variants, *_others(25, 5)])
    with again.open("a", encoding="utf-8") as cut:  # and a last line cut short in her address
        cut.write('{"source": "crm", "id": "c-1", "email": "ann.smith@gmail.com", "phone": "+4420')
    out = tmp_path / "again.out.jsonl"
    sized = ("--batch-size", str(batch_size), "--quiet")
    assert main(["resolve", str(again), "--out", str(out), *where, *sized]) == 0
    # THEN nothing of hers is in the table
    assert not _her_traces(json.dumps(scan(endpoint, table), ensure_ascii=False))
    # AND the run says it dropped her records
    printed = capsys.readouterr().out
    dropped = next(line for line in printed.splitlines() if line.startswith("erased, dropped"))
    assert int(dropped.split()[2]) == 5  # three well-formed records of hers, a malformed one, a cut line
    # AND the new people are there, and nothing of hers is written out
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(profiles) == 30
    assert not _her_traces(out.read_text(encoding="utf-8"))
    quarantine = out.with_name(out.stem + ".quarantine.jsonl")
    assert not _her_traces(quarantine.read_text(encoding="utf-8") if quarantine.exists() else "")
