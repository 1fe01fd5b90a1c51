"""fix20a: a person erased during a probabilistic ``profilesync resolve`` (embedded default), whose
record in the file shares none of her identifiers.

Hana Sato's CRM record is in the folder's embedded store (a ``sync`` put it there); the file holds
her shop account under a private address: her name, birth date and address, no value the erasure
knows. With ``identity: {mode: probabilistic}`` her erasure leaves fingerprints of her CRM record
(core.suppression_fuzzy), and a batch read after it drops her shop record by them. One read before
it is resolved into the run's own store; the search after the run matched exact identifiers and
record ids only, so her shop profile was written to ``--out`` after her erasure answered. Now the run
weighs its customers' records against the fingerprints, with the model, as a batch does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from profilesync import resolve_erasures
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.e2e.erased_during_resolve import (
    erase,
    erase_after_batches,
    eraser,  # noqa: F401 (the other process of the erasures, one for this module too)
    erasing_in,
    others,
    summary_erased,
    write,
)
from tests.integration.identity_attack_records import HANA, flat, resolve_lines

pytestmark = pytest.mark.slow

TABLE = "profilesync-dev-profiles"
HER_CRM = flat("crm", "1", **HANA, email="hana.sato@corp.jp")
#: Her shop account: another address, her name in capitals, her street abbreviated.
HER_SHOP = flat(
    "shop", "2", **{**HANA, "first_name": "HANA", "address": "8 Mill Ln"}, email="hanasato92@icloud.com"
)
#: Her namesake at her address, born two years earlier: never linked to her (a veto).
NAMESAKE = flat("mail", "3", **{**HANA, "date_of_birth": "1990-02-14"}, email="hana.s@example.com")


def _given_a_probabilistic_folder_where_someone_is_erased(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], address: str
) -> None:
    monkeypatch.chdir(folder)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    (folder / "profilesync.yaml").write_text(
        "version: 1\nidentity:\n  mode: probabilistic\n", encoding="utf-8"
    )
    assert main(["privacy", "erase", "--email", address, "--requested-by", "dpo"]) == 0
    capsys.readouterr()


def _given_her_crm_record_in_a_probabilistic_folder(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _given_a_probabilistic_folder_where_someone_is_erased(
        folder, monkeypatch, capsys, "someone.else@example.com"
    )
    with open_stores(
        endpoint_url=None, table=TABLE, path=store_path(folder / ".profilesync", TABLE)
    ) as stores:
        resolve_lines([HER_CRM], stores.profiles)


def _holds_her_shop_record(batch: Sequence[Any]) -> bool:
    return any(r.key == "shop:contact:2" for r in batch)


def _searched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = resolve_erasures.take_out_erased

    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(resolve_erasures, "take_out_erased", counted)
    return calls


def _profiles(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_her_shop_record_resolved_before_her_erasure_is_not_written_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN her CRM record in the folder's store, and a file whose first batch holds her shop record
    # and her namesake's
    _given_her_crm_record_in_a_probabilistic_folder(tmp_path, monkeypatch, capsys)
    source = write(tmp_path / "people.jsonl", [HER_SHOP, NAMESAKE, *others(20)])
    answers = erase_after_batches(
        monkeypatch, erasing_in(tmp_path), ["--email", "hana.sato@corp.jp"], when=_holds_her_shop_record
    )
    # WHEN the file is resolved, ten lines a batch, and she is erased once her shop record's is in
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN her erasure found her and left fingerprints; the output holds her namesake and the 20
    # others, not her shop record, which the summary counts as erased
    assert [(a["ok"], a["outcome"]) for a in answers] == [(True, "erased")], answers
    assert answers[0]["deleted"]["fingerprinted"] > 0, answers
    profiles = _profiles(Path("out.jsonl"))
    assert [s["id"] for p in profiles for s in p["sources"] if s["source"] != "crm"] == ["3"]
    assert len(profiles) == 21
    assert "hanasato92" not in Path("out.jsonl").read_text(encoding="utf-8")
    assert summary_erased(printed) == 1, printed


def test_her_shop_record_read_after_her_erasure_is_dropped_by_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN her CRM record in the folder's store, erased before the run (her fingerprints kept)
    _given_her_crm_record_in_a_probabilistic_folder(tmp_path, monkeypatch, capsys)
    assert erase(tmp_path, "--email", "hana.sato@corp.jp")["ok"] is True
    source = write(tmp_path / "people.jsonl", [*others(12), HER_SHOP, NAMESAKE])
    # WHEN the file is resolved with nobody erased during the run
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN the batch dropped her shop record by her fingerprints, and her namesake is a profile
    assert "hanasato92" not in Path("out.jsonl").read_text(encoding="utf-8")
    assert "hana.s@example.com" in Path("out.jsonl").read_text(encoding="utf-8")
    assert summary_erased(printed) == 1, printed


def test_a_probabilistic_run_that_drops_nobody_searches_nothing_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN her fingerprints in the folder's store (erased before the run), and a file without her
    _given_her_crm_record_in_a_probabilistic_folder(tmp_path, monkeypatch, capsys)
    assert erase(tmp_path, "--email", "hana.sato@corp.jp")["ok"] is True
    source = write(tmp_path / "people.jsonl", [*others(12), NAMESAKE])
    searched = _searched(monkeypatch)
    # WHEN it is resolved with nobody erased during the run
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN the run's store is not searched after it (no erasure moved the epoch, no line was dropped)
    assert searched == []
    assert len(_profiles(Path("out.jsonl"))) == 13
    assert summary_erased(printed) is None, printed


def test_her_shop_record_resolved_a_batch_before_her_dropped_crm_line_is_taken_out_after_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN her erasure in a folder whose store never held her (not_found: her address suppressed,
    # nothing fingerprinted), and a file whose first batch holds her shop record and her namesake's,
    # and whose last line is her CRM record
    _given_a_probabilistic_folder_where_someone_is_erased(tmp_path, monkeypatch, capsys, "hana.sato@corp.jp")
    source = write(tmp_path / "people.jsonl", [HER_SHOP, NAMESAKE, *others(20), HER_CRM])
    # WHEN the file is resolved, ten lines a batch
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN her CRM line was dropped, and her shop record, which the model links to it, is not written
    # either; her namesake and the 20 others are
    written = Path("out.jsonl").read_text(encoding="utf-8")
    assert [t for t in ("hanasato92", "hana.sato@corp.jp") if t in written] == []
    assert "hana.s@example.com" in written
    assert len(_profiles(Path("out.jsonl"))) == 21
    assert summary_erased(printed) == 2, printed
