"""attack31p: her record naming her only in a refused email value (``Ann Lee <address>``) beside a
household's phone, resolved before her erasure lands during ``profilesync resolve``, is written to
``--out`` under the household's profile after the erasure answered.

Erased before the run, that record is dropped by the batch's check (docs/privacy.md, "Suppression":
merge drops a record whose email field holds her address whole in a form that is no address, which
would otherwise join a household's customer by its phone with her name). The search made when an
erasure lands during the run (profilesync/resolve_erasures.py, ``take_out_erased``) matches
exact identifiers and record ids only: her record's address is in its dropped values, not its
identifiers, so the household's customer is kept whole, her record among its sources and her name
in its profile (her record is the newer: the profile's first and last name are hers, not her
housemate's), in the ``--out`` written after her erasure answered.

Fix idea: the search after the run reads each record's refused values too (``_refused_by_value``, as
``SuppressionCheck.split`` does) and takes out, or scrubs, the record that names her there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from profilesync.cli import main
from tests.e2e.erased_during_resolve import (
    erase_after_batches,
    eraser,  # noqa: F401 (the other process of the erasures, one for this module too)
    erasing_in,
    given_a_state_store,
    others,
    write,
)

pytestmark = pytest.mark.slow

HER = "ann.quillon@example.org"
HOUSEHOLD = "+44 20 7946 0500"
HERS = {
    "source": "shop",
    "id": "ann-9",
    "updated_at": "2026-01-06T10:00:00Z",
    "email": f"Ann Quillon <{HER}>",
    "phone": HOUSEHOLD,
    "first_name": "Ann",
    "last_name": "Quillon",
    "country": "GB",
}
HOUSEMATE = {
    "source": "crm",
    "id": "tom",
    "updated_at": "2026-01-05T10:00:00Z",
    "email": "tom.bramble@example.org",
    "phone": HOUSEHOLD,
    "first_name": "Tom",
    "last_name": "Bramble",
    "country": "GB",
}

REASON = (
    "profilesync/resolve_erasures.py:261 take_out_erased matches a customer's exact identifiers and record "
    "ids only, not the refused values SuppressionCheck.split reads (core/suppression.py:218 "
    "_refused_by_value): her record naming her in a refused email beside a household's phone stays in "
    "the household's profile; fix idea: read each record's refused values in the search too"
)


def _resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, during: bool) -> str:
    """``--out`` of a run of her record and her housemate's in its first batch, 20 others after;
    erased by her address after the first batch (``during``) or before the run."""
    source = write(tmp_path / "people.jsonl", [HERS, HOUSEMATE, *others(20)])
    if during:
        answers = erase_after_batches(monkeypatch, erasing_in(tmp_path), ["--email", HER])
    else:
        answers = [erasing_in(tmp_path)(["--email", HER])]
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    assert [a["outcome"] for a in answers] == ["not_found"]
    return (tmp_path / "out.jsonl").read_text(encoding="utf-8")


def test_control_erased_before_the_run_her_record_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Passes on main: the batch's check drops her record; the housemate is a profile of his own."""
    given_a_state_store(tmp_path, monkeypatch, capsys)
    out = _resolve(tmp_path, monkeypatch, during=False)
    assert '"id": "tom"' in out  # her housemate's record is written
    assert "Quillon" not in out
    assert "ann-9" not in out


def test_erased_during_the_run_her_record_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN her record (her address in a display-name form, the household's phone) and her
    # housemate's in the first batch, and she is erased by her address once that batch is ingested
    given_a_state_store(tmp_path, monkeypatch, capsys)
    # WHEN the run writes --out after her erasure answered
    out = _resolve(tmp_path, monkeypatch, during=True)
    # THEN nothing of hers is in it: not her name, nor her record
    assert '"id": "tom"' in out  # her housemate's record is written
    assert "Quillon" not in out
    assert "ann-9" not in out
