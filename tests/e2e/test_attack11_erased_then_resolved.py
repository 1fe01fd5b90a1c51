"""attack11: a person erased from the embedded default store (``profilesync privacy erase``, no
``--endpoint-url``), then resolved again from a file holding her lines (``profilesync resolve``, no
``--endpoint-url``), as a newcomer runs both in one folder.

The erasure's receipt says its suppression entries are kept "so that no tool's next pull, and no
push, brings the person back". ``resolve`` on the embedded default resolves into a store of its own,
new every run (profilesync/resolve_cli.py:96-99: "nobody in it was ever erased"), and reads no
suppression: she comes back in the profiles written, uncounted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main

pytestmark = pytest.mark.slow

HER = "ann.smith@example.com"


def _lines(count: int) -> list[dict[str, object]]:
    others = [
        {
            "source": "crm",
            "id": f"p{n}",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": f"person{n}@example.com",
        }
        for n in range(count)
    ]
    hers = [
        {
            "source": "crm",
            "id": "ann",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": HER,
            "first_name": "Ann",
        },
        {"source": "shop", "id": "9", "updated_at": "2026-01-06T10:00:00Z", "email": HER.upper()},
    ]
    return others[: count // 2] + hers + others[count // 2 :]


@pytest.mark.xfail(
    strict=True,
    reason="resolve on the embedded default reads no suppression entries: the erasure is kept in "
    "<state-dir>/profilesync-dev-profiles.sqlite3 (privacy_cli), resolve resolves into a temporary "
    "store of its own and sets settings.suppression only with --endpoint-url "
    "(profilesync/resolve_cli.py:96-116). Smallest case: privacy erase --email ann@example.com, then "
    "resolve a file holding {source crm, id c1, email ann@example.com}: her profile is written, "
    "'erased, dropped' is not printed. Proposed fix: without --endpoint-url, when "
    "<--state-dir>/profilesync-dev-profiles.sqlite3 exists, open it read-only and pass "
    "SuppressionCheck(SQLiteSuppressionStore(it), audit_salt(state_dir)) as settings.suppression "
    "(and erased_check for the quarantine), as the --endpoint-url branch does; --state-dir's help "
    "then drops 'with --endpoint-url'",
)
def test_a_person_erased_from_the_embedded_store_is_not_resolved_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    # GIVEN a file of 40 people and her two records, resolved once
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in _lines(40)), encoding="utf-8")
    assert main(["resolve", str(source), "--out", "first.jsonl", "--quiet"]) == 0
    assert HER in Path("first.jsonl").read_text(encoding="utf-8")
    # AND she is erased from the embedded default store
    assert main(["privacy", "erase", "--email", HER, "--requested-by", "dpo"]) == 0
    capsys.readouterr()
    # WHEN the same file is resolved again
    assert main(["resolve", str(source), "--out", "second.jsonl", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN the 40 others are profiles, she is in neither output file, and the summary counts her two
    # records as erased
    written = Path("second.jsonl").read_text(encoding="utf-8")
    assert len(written.splitlines()) == 40
    quarantine = Path("second.quarantine.jsonl")
    assert (
        HER not in (written + (quarantine.read_text(encoding="utf-8") if quarantine.exists() else "")).lower()
    )
    assert any(
        line.split()[:2] == ["erased,", "dropped"] and line.split()[2] == "2" for line in printed.splitlines()
    )
