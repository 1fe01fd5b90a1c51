"""What the tests of erasures made while ``profilesync resolve`` runs share: the other process the
erasures run in, the hook that erases once the run has ingested a batch, and the people of the files.

``erase_after_batches`` wraps ``profilesync.resolve.ingest_isolating`` (the run's per-batch ingest):
after each batch the run has ingested, the next erasure still to make is made (when ``when`` says the
batch is one to erase after) and its answer kept, so an erasure lands between two batches of one run
as a user's second terminal would. Used by tests/e2e/test_attack18_erased_during_resolve.py,
test_fix18a_erased_during_resolve.py, test_attack20_quarantine_rewrite_mode.py,
test_fix20a_erased_by_record_id_during_resolve.py, test_fix20a_fuzzy_erased_during_resolve.py and
test_fix20a_erased_during_resolve_on_a_table.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from profilesync import resolve as resolve_module
from profilesync.cli import main
from tests.cli_process import CliProcess, ended_with_the_module

HER = "philippa.quennell@example.com"
HER_PHONE = "+442079460018"
HIM = "bartholomew.ashgrove@example.com"

#: ``profilesync`` in another process (one per module: tests/cli_process.py), without the audit salt
#: of this one's environment, as a user's second terminal.
ERASER = CliProcess(without=("PROFILESYNC_AUDIT_SALT",))

#: An erasure: ``privacy erase``'s arguments (who, and where) -> its JSON answer.
Erase = Callable[[Sequence[str]], dict[str, Any]]


#: The other process of a module's erasures, ended with the module (import it into the module).
eraser = ended_with_the_module(ERASER, "eraser")


def erase(folder: Path, *who: str) -> dict[str, Any]:
    """``profilesync privacy erase WHO`` in the other process, in ``folder``; its answer."""
    done = ERASER.run(["privacy", "erase", *who, "--requested-by", "dpo"], cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def erase_after_batches(
    monkeypatch: pytest.MonkeyPatch,
    erasing: Erase,
    *erasures: Sequence[str],
    when: Callable[[Sequence[Any]], bool] = lambda batch: True,
) -> list[dict[str, Any]]:
    """Make ``erasures[n]`` with ``erasing`` once the run has ingested the n-th batch ``when`` accepts
    (``when`` is asked only while an erasure is still to make); the answers, in order, as they come."""
    answers: list[dict[str, Any]] = []
    real = resolve_module.ingest_isolating

    def ingest_then_erase(batch: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        done = real(batch, *args, **kwargs)
        if len(answers) < len(erasures) and when(batch):
            answers.append(erasing(erasures[len(answers)]))
        return done

    monkeypatch.setattr(resolve_module, "ingest_isolating", ingest_then_erase)
    return answers


def erasing_in(folder: Path) -> Erase:
    """Erasures in the other process, in ``folder`` (for ``erase_after_batches``)."""
    return lambda who: erase(folder, *who)


def holds(value: str) -> Callable[[Sequence[Any]], bool]:
    """Whether a batch holds a record with the identifier ``value`` (for ``erase_after_batches``)."""
    return lambda batch: any(value in (e.value for e in r.identifiers) for r in batch)


def given_a_state_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``tmp_path`` as the working folder, its embedded store made by someone else's erasure."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    assert main(["privacy", "erase", "--email", "someone.else@example.com", "--requested-by", "dpo"]) == 0
    capsys.readouterr()


def others(n: int = 30) -> list[dict[str, object]]:
    """``n`` people of one CRM record each, none of them erased."""
    return [
        {
            "source": "crm",
            "id": f"p{i}",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": f"person{i}@example.com",
        }
        for i in range(n)
    ]


def hers() -> list[dict[str, object]]:
    """Her two records, by phone (her CRM record with her name, her shop record in national form)."""
    return [
        {
            "source": "crm",
            "id": "phil",
            "updated_at": "2026-01-05T10:00:00Z",
            "phone": "+44 20 7946 0018",
            "first_name": "Philippa",
            "last_name": "Quennell",
        },
        {
            "source": "shop",
            "id": "9",
            "updated_at": "2026-01-06T10:00:00Z",
            "phone": "020 7946 0018",
            "country": "GB",
        },
    ]


def his() -> list[dict[str, object]]:
    """His one CRM record."""
    return [
        {
            "source": "crm",
            "id": "bart",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": HIM,
            "last_name": "Ashgrove",
        }
    ]


def hers_with_malformed_lines() -> list[dict[str, object]]:
    """A file's lines: her two records (her address on the first), a malformed line of hers (a bad
    timestamp beside her address) and one of Quinn's (quinn@example.com), then 20 others."""
    bad_hers = {"source": "crm", "id": "q1", "updated_at": "yesterday", "email": HER, "last_name": "Quennell"}
    bad_other = {"source": "crm", "id": "q2", "updated_at": "yesterday", "email": "quinn@example.com"}
    mine = [{**hers()[0], "email": HER}, hers()[1]]
    return [*mine, bad_hers, bad_other, *others(20)]


def write(path: Path, lines: Sequence[dict[str, object] | str]) -> Path:
    """``lines`` as a JSON Lines file at ``path`` (a string line as it is)."""
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8"
    )
    return path


def summary_erased(printed: str) -> int | None:
    """The run summary's count of records dropped as erased, None where it prints none."""
    for line in printed.splitlines():
        if line.split()[:2] == ["erased,", "dropped"]:
            return int(line.split()[2].replace(",", ""))
    return None
