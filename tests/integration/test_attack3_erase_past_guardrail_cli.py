"""attack3: a person far past her address's guardrail (20 records on one email, 8 allowed; 60 in
``make test-deep``) among 8 other people's 20 records (32 people's 60), resolved by ``profilesync
resolve --endpoint-url`` at batch sizes 1 and 20,000, then erased by ``profilesync privacy erase
--email``: nothing of hers is left in the table (her split-off customers go with her,
core.scope_splinters), every other person's records are still there, and her records resolved again
are all dropped as an erased person's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.testing.population import population
from profilesync.cli import main
from tests.e2e.test_endpoint_url import endpoint  # noqa: F401 (a fixture)
from tests.e2e.test_privacy_cli_attacks import scan
from tests.hypothesis_profiles import examples
from tests.integration.test_attack3_erase_during_resolve import EMAIL, PHONE, _hers
from tests.integration.test_attack3_killed_resolve import _half_customers

pytestmark = pytest.mark.slow

#: Kim's records (test_attack3_erase_during_resolve's: her address in two spellings, her phone on a
#: third of them, her name), far past the email guardrail's 8: 20 (two and a half times it: three
#: customers at least, asserted) in ``make test``, 60 in ``make test-deep``. At 60 the file cost 37 CPU
#: s, at 20 11 s; without core.scope_splinters both sizes fail (her erasure stops as ambiguous).
HERS = examples(ci=20, deep=60)

#: The other people: 8 of them, 20 records (32 and 60 deep), one of hers after each (100 people, 191
#: records, cost the batch-size-1 case twice the requests: four a batch, for nothing a check needs).
OTHERS = examples(ci=8, deep=32)


def _resolve(url: str, source: Path, out: Path, table: str, batch: int) -> None:
    """``profilesync resolve`` on the endpoint, in this process (the CLI's ``main``: a subprocess
    started the interpreter and its imports again for each run; nothing here kills it)."""
    argv = ["resolve", str(source), "--out", str(out), "--endpoint-url", url, "--table", table]
    argv += ["--batch-size", str(batch), "--quiet", "--state-dir", str(out.parent / "state")]
    assert main(argv) == 0


@pytest.mark.parametrize("batch", [1, 20_000])
def test_a_person_past_her_guardrail_is_erased_whole_through_the_cli(
    endpoint: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    batch: int,
) -> None:
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "attack3-kill")  # the run's salt (_resolve)
    # GIVEN 8 people and Kim's 20 records spread through theirs (32 and 60 deep), resolved into a table
    others = [flat for _, flat in population(OTHERS, seed=8, malformed_share=0)]
    assert len(others) == HERS
    mixed = [r for n, flat in enumerate(others) for r in ([flat, _hers(n)] if n < HERS else [flat])]
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in mixed), encoding="utf-8")
    table = f"past-guardrail-{batch}"
    _resolve(endpoint, source, tmp_path / "out.jsonl", table, batch)
    capsys.readouterr()
    before = scan(endpoint, table)
    holding = {i["PK"]["S"] for i in before if i["SK"]["S"] == "PROFILE" and EMAIL in json.dumps(i).lower()}
    assert len(holding) > 2  # the guardrail split her
    # WHEN she is erased by her address
    where = ("--endpoint-url", endpoint, "--table", table, "--state-dir", str(tmp_path / "state"))
    assert main(["privacy", "erase", "--email", EMAIL, *where]) == 0
    assert '"outcome": "erased"' in capsys.readouterr().out
    # THEN nothing of hers is in the table, no customer is left half written, every other record kept
    items = scan(endpoint, table)
    text = json.dumps(items).lower()
    assert EMAIL not in text
    assert "kim-" not in text
    assert PHONE not in text
    assert _half_customers(items) == []
    sources = [i for i in items if i["SK"]["S"].startswith("SOURCE#")]
    assert len(sources) == sum(1 for i in before if i["SK"]["S"].startswith("SOURCE#")) - HERS
    # AND her records resolved again are every one dropped
    _resolve(endpoint, source, tmp_path / "again.jsonl", table, batch)
    printed = capsys.readouterr().out
    assert re.search(rf"erased, dropped\s+{HERS}\b", printed), printed
    assert EMAIL not in json.dumps(scan(endpoint, table)).lower()
