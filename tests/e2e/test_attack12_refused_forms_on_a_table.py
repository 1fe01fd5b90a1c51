"""attack12: the same promise as tests/e2e/test_attack12_erased_spellings.py on a DynamoDB table
(``--endpoint-url``, moto's server): after her erasure from the table, ``profilesync resolve
--endpoint-url`` of a file holding her address written whole in forms the normaliser refuses
(``Name <address>``, ``mailto:address``, ``address.``) and her phone with words around it drops those
lines as hers and counts them, rather than write them to its quarantine file with their content (red
before core/quarantine.py keyed such values)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import HER, NAME, PHONE, REFUSED_FORMS, traces_in
from tests.e2e.test_endpoint_url import endpoint as moto_endpoint  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow


def _write(path: Path, lines: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _line(n: int, **fields: str) -> dict[str, str]:
    return {"source": "crm", "id": f"r{n}", "updated_at": "2026-01-05T10:00:00Z", **fields}


def test_resolve_into_a_table_drops_her_refused_lines_after_her_erasure(
    moto_endpoint: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "attack12-salt")
    where = ["--endpoint-url", moto_endpoint, "--table", "attack12", "--state-dir", str(tmp_path / "state")]
    # GIVEN her record and a stranger's resolved into the table, and she is erased from it
    first = _write(
        tmp_path / "first.jsonl",
        [_line(0, email="someone.else@example.com"), _line(1, email=HER, phone=PHONE, first_name=NAME[0])],
    )
    assert main(["resolve", str(first), "--out", str(tmp_path / "first.out.jsonl"), *where, "-q"]) == 0
    assert main(["privacy", "erase", "--email", HER, "--requested-by", "dpo", *where]) == 0
    capsys.readouterr()
    # WHEN a file holding her in refused forms is resolved into the table
    lines = [_line(10 + n, email=form, first_name=NAME[0]) for n, form in enumerate(REFUSED_FORMS)]
    lines += [
        _line(20, phone=f"{PHONE} (mobile)", last_name=NAME[1]),
        _line(21, email="new.person@example.com"),
    ]
    second = _write(tmp_path / "second.jsonl", lines)
    out = tmp_path / "second.out.jsonl"
    assert main(["resolve", str(second), "--out", str(out), *where, "-q"]) == 0
    printed = capsys.readouterr().out
    # THEN only the newcomer is a profile, nothing of her is written, and her four lines are counted
    quarantine = out.with_name("second.out.quarantine.jsonl")
    written = out.read_bytes() + (quarantine.read_bytes() if quarantine.exists() else b"")
    assert b"new.person@example.com" in out.read_bytes()
    assert traces_in(written) == [], written.decode()
    assert ["erased,", "dropped", "4"] in [line.split()[:3] for line in printed.splitlines()], printed
