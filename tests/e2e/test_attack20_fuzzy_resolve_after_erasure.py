"""attack20: ``profilesync resolve --identity probabilistic`` over a file holding an erased person's
records, one of which holds none of her identifiers (her shop account under a private address, the
case docs/privacy.md "Records that only a fuzzy link makes hers" is about).

Her erasure on the embedded store leaves fingerprints only of her *stored* records, and a ``resolve``
user's state store never stores anyone: ``resolve`` resolves into a store of its own, made for the
run and removed after it. So ``privacy erase`` answers ``not_found`` and suppresses her address, and
nothing fuzzy. The run then drops her CRM line (her address is suppressed) and keeps her shop line,
which its own model links to that dropped line at a probability of 1.0 (``identity link`` over the
same file shows the edge): her name, birth date and address come out of ``resolve`` as a profile.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main

pytestmark = pytest.mark.slow

HER = "philippa.quennell@example.com"
PRIVATE = "pq.private@example.org"


def _lines(path: Path) -> Path:
    her = {
        "first_name": "Philippa",
        "last_name": "Quennell",
        "date_of_birth": "1980-01-02",
        "postcode": "LS1 4AP",
        "city": "Leeds",
    }
    lines = [
        {
            "source": "crm",
            "id": "1",
            "updated_at": "2026-01-01T00:00:00Z",
            "email": HER,
            "address": "8 Mill Lane",
        },
        {
            "source": "shop",
            "id": "2",
            "updated_at": "2026-01-01T00:00:00Z",
            "email": PRIVATE,
            "address": "8 Mill Ln",
        },
        {"source": "crm", "id": "3", "updated_at": "2026-01-01T00:00:00Z", "email": "bob@example.com"},
    ]
    lines[0].update(her)
    lines[1].update(her)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """Her two records and Bob's, and the model's verdict on hers: one person (a fuzzy link)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    source = _lines(tmp_path / "people.jsonl")
    assert main(["identity", "link", str(source), "--out", "links.jsonl"]) == 0
    customers = [json.loads(line) for line in Path("links.jsonl").read_text(encoding="utf-8").splitlines()]
    [hers] = [c for c in customers if "crm:contact:1" in c["records"]]
    assert hers["records"] == ["crm:contact:1", "shop:contact:2"]
    assert [e["kind"] for e in hers["edges"]] == ["fuzzy"]
    capsys.readouterr()
    return source


def test_her_shop_record_that_only_a_fuzzy_link_makes_hers_is_not_resolved_back(
    people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN her erasure in the folder's store (she was never stored there: resolve keeps no store)
    assert main(["privacy", "erase", "--email", HER, "--requested-by", "dpo"]) == 0
    capsys.readouterr()
    # WHEN the file is resolved with probabilistic identity
    assert main(["resolve", str(people), "--out", "out.jsonl", "--identity", "probabilistic", "--quiet"]) == 0
    # THEN Bob is resolved, her CRM line is dropped, and her shop line is not a profile either
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert "bob@example.com" in written
    assert HER not in written
    assert [t for t in ("quennell", PRIVATE, "1980-01-02") if t in written] == []
