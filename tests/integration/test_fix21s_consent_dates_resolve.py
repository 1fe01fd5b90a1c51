"""fix21s: ``profilesync resolve`` over a file holding several versions of one contact, in any order.

A flat record's ``"consent": {"email": {"granted": false, "dated_by_record": true}}`` is a decision
with no time of its own, dated by the record (``updated_at``), as the Salesforce connector maps its
``HasOptedOutOfEmail``. The file holds three versions of Léa's
contact and her opt-in at another tool (2026-10-01). Whatever order the versions come in, the result
is the one of the versions in time order (ingest folds a record's versions of one call into the
newest, each such decision carried along them oldest first: core.ingest_rounds.carried_fold):

- the opt-out ticked in 2024 and untouched by two later edits keeps its 2024 time: her opt-in wins;
- the box unticked in 2025 and ticked again on 2026-10-05: a new decision, dated anew, which wins.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from profilesync.cli import main
from tests.integration.test_attack3_resolve_counts import _summary

EMAIL = "lea.martin@example.fr"
OPT_IN = {
    "source": "klaviyo",
    "object_type": "profile",
    "id": "01JKLAVIYOLEA000000000000",
    "updated_at": "2026-10-01T10:00:00Z",
    "email": EMAIL,
    "consent": {"email": {"granted": True, "changed_at": "2026-10-01T10:00:00Z"}},
}


def _contact(stamp: str, title: str, opted_out: bool) -> dict[str, Any]:
    return {
        "source": "salesforce",
        "object_type": "contact",
        "id": "0035g00000Lm1aAAF",
        "updated_at": stamp,
        "email": EMAIL,
        "first_name": "Léa",
        "job_title": title,
        # as the Salesforce connector maps the checkbox: no time of its own, dated by the contact
        **({"consent": {"email": {"granted": False, "dated_by_record": True}}} if opted_out else {}),
    }


def _email_consent(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[dict[str, Any]]) -> Any:
    source, out = tmp_path / "records.jsonl", tmp_path / "profiles.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    assert main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
    counts = _summary(capsys.readouterr().out)
    assert (counts["records read"], counts["quarantined"]) == (len(lines), 0)
    (profile,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    email = profile["consent"]["email"]
    return email["granted"], email["changed_at"][:10]


UNTOUCHED = (
    _contact("2024-03-01T08:00:00Z", "Acheteuse", True),
    _contact("2026-10-05T02:00:00Z", "Directrice achats", True),
    _contact("2026-10-20T02:00:00Z", "Directrice", True),
)
TICKED_AGAIN = (
    _contact("2024-03-01T08:00:00Z", "Acheteuse", True),
    _contact("2025-02-01T08:00:00Z", "Acheteuse", False),
    _contact("2026-10-05T02:00:00Z", "Directrice achats", True),
)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_an_opt_out_untouched_by_two_edits_keeps_its_time_in_any_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: tuple[int, ...]
) -> None:
    lines = [OPT_IN, *(UNTOUCHED[i] for i in order)]
    assert _email_consent(tmp_path, capsys, lines) == (True, "2026-10-01")


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_an_opt_out_ticked_again_is_dated_anew_in_any_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: tuple[int, ...]
) -> None:
    lines = [OPT_IN, *(TICKED_AGAIN[i] for i in order)]
    assert _email_consent(tmp_path, capsys, lines) == (False, "2026-10-05")
