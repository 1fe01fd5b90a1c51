"""priv24: ``profilesync privacy export|erase --email`` and the privacy function name every spelling
her address may be stored under (core.privacy_request.stored_spellings): her record stored before the
upgrade that folds the address, under the key of then, and her record pulled after it, under the
folded key, are both exported and both erased (tests/integration/test_priv24_old_spellings.py: the
library's cases on every store; the function's in tests/integration/functions/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.normalise import legacy_email_spelling
from core.pipeline import ingest
from core.testing.records import make_record
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.identity_attack_records import ingest_settings

TABLE = "profilesync-dev-profiles"
SELECTOR = "ottoline\ufe0f@example.org"
FOLDED = "ottoline@example.org"
OLD = legacy_email_spelling(SELECTOR) or ""
KEYS = [f"email#{OLD}", f"email#{FOLDED}"]


def _hers() -> list[Any]:
    assert OLD not in ("", FOLDED)
    return [make_record("shop", "1", email=OLD), make_record("crm", "2", email=FOLDED)]


def test_the_cli_exports_and_erases_her_records_under_both_spellings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "priv24-salt")
    path = store_path(tmp_path, TABLE)
    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        ingest(_hers(), opened.profiles, ingest_settings())

    def privacy_cli(*args: str) -> dict[str, Any]:
        assert main(["privacy", *args, "--email", SELECTOR, "--state-dir", str(tmp_path)]) == 0
        answer: dict[str, Any] = json.loads(capsys.readouterr().out)
        return answer

    exported = privacy_cli("export")
    assert sorted(s["source_id"] for s in exported["sources"]) == ["1", "2"]
    assert privacy_cli("erase")["outcome"] == "erased"
    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        assert opened.profiles.get_owners(KEYS) == {}
