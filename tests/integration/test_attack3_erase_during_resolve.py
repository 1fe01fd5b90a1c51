"""attack3: a person erased while ``profilesync resolve --endpoint-url`` is ingesting a file that holds
her records before, around and after the moment of the erasure (batches of 3, in another process).
When the run ends, nothing of hers is in the table, whatever batch was in flight."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from core.testing.population import population
from profilesync.cli import main
from tests.e2e.test_endpoint_url import endpoint  # noqa: F401 (a fixture)
from tests.e2e.test_privacy_cli_attacks import scan
from tests.integration.test_attack3_killed_resolve import _half_customers, _profiles, _resolve

pytestmark = pytest.mark.slow

EMAIL = "kim.erased@example.com"
PHONE = "+442079460777"


def _hers(n: int) -> dict[str, Any]:
    return {
        "source": ("crm", "shop", "mail")[n % 3],
        "id": f"kim-{n}",
        "updated_at": f"2026-02-{n % 27 + 1:02d}T00:00:00Z",
        "email": EMAIL.upper() if n % 2 else EMAIL,
        **({"phone": "+44 20 7946 0777"} if n % 3 == 0 else {}),
        "first_name": "Kim",
    }


@pytest.mark.parametrize("after_profiles", [30])
def test_a_person_erased_while_resolve_runs_is_not_in_the_table_when_it_ends(
    endpoint: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    after_profiles: int,
) -> None:
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "attack3-kill")  # the run's salt (_resolve)
    # GIVEN a file of 100 people with Kim's 8 records spread through it (8: at the email guardrail;
    # past it, test_attack3_erase_past_guardrail erases her split-off customers with her)
    others = [flat for _, flat in population(100, seed=5, malformed_share=0)]
    lines: list[dict[str, Any]] = []
    for n, record in enumerate(others):
        lines.append(record)
        if n % 27 == 0:
            lines.append(_hers(n))
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    table = f"erase-during-{after_profiles}"
    where = ("--endpoint-url", endpoint, "--table", table, "--state-dir", str(tmp_path / "state"))
    # WHEN the run is going and has stored Kim, she is erased
    run = _resolve(endpoint, source, tmp_path / "out.jsonl", table, 3)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and run.poll() is None and _profiles(endpoint, table) < after_profiles:
        time.sleep(0.02)
    assert run.poll() is None, "the run ended before the erasure"
    assert main(["privacy", "erase", "--email", EMAIL, *where]) == 0
    erased = capsys.readouterr().out
    assert '"outcome": "erased"' in erased or '"outcome": "not_found"' in erased
    printed, err = run.communicate(timeout=300)
    assert run.returncode == 0, err.decode()
    # THEN nothing of hers is in the table, and no customer was left half written
    items = scan(endpoint, table)
    text = json.dumps(items).lower()
    assert EMAIL not in text
    assert PHONE not in text
    assert "kim-" not in text
    assert _half_customers(items) == []
    # AND her records that came after the erasure were counted as dropped
    printed = printed.decode() if run.stdout else ""
    assert "erased, dropped" in printed or "erased, dropped" in (tmp_path / "out.jsonl").read_text()
