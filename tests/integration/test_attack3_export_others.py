"""attack3: a privacy export names nobody but the person.

Hana's CRM record and a shop record with her name and birth date at another address wait in review
(probabilistic identity). Until someone decides, the shop record is another customer, perhaps
another person: Hana's export (``profilesync privacy export``, the configuration document asking
for probabilistic identity) may say that a record of hers waits in review with a score, but not
which record, nor which of its values equal hers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.export_identity import OTHER_RECORD, for_the_subject
from core.link_scope import LinkageSettings
from core.pipeline import IngestSettings, ingest
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.e2e.test_review_cli import CRM, TABLE
from tests.integration.test_attack3_review_after_erasure import SHOP


def test_an_export_does_not_name_the_other_record_of_a_pair_in_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "attack3-export")
    (tmp_path / "profilesync.yaml").write_text("identity:\n  mode: probabilistic\n", encoding="utf-8")
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        ingest([CRM, SHOP], stores.profiles, IngestSettings(sleep=lambda _: None, linkage=LinkageSettings()))
    # WHEN Hana asks for her data by her CRM address
    assert main(["privacy", "export", "--email", "hana.sato@corp.jp", "--state-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    export = json.loads(printed[printed.index("{") :])
    # THEN the pair in review is there, with its score, naming her record and "another customer's"
    (review,) = export["identity"]["reviews"]
    assert review["records"] == [CRM.key, OTHER_RECORD]
    assert review["score"]["probability"] > 0.5
    # AND nothing names the shop record, nor compares its values with hers
    assert SHOP.key not in printed
    assert "2002" not in printed
    assert "fields" not in review["score"]


def test_the_subjects_own_links_are_kept_whole() -> None:
    # GIVEN an explanation of a customer of two records linked by a score, with a refused pair
    explanation = {
        "records": ["crm:contact:1", "shop:contact:2"],
        "groups": [["crm:contact:1", "shop:contact:2"]],
        "edges": [{"records": ["crm:contact:1", "shop:contact:2"], "score": {"fields": [{"field": "x"}]}}],
        "refused": [{"records": ["crm:contact:1", "mail:contact:9"], "score": {"fields": [{"field": "y"}]}}],
        "scores": [0.9],
    }
    # WHEN it is made for the subject
    mine = for_the_subject(explanation, {"crm:contact:1", "shop:contact:2"})
    # THEN her own edge keeps its records and field weights; the refused pair loses the other's
    assert mine["edges"] == explanation["edges"]
    assert mine["groups"] == explanation["groups"]
    assert mine["refused"] == [{"records": ["crm:contact:1", OTHER_RECORD], "score": {}}]
    assert mine["scores"] == [0.9]
