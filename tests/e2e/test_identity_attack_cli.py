"""Attack: the command line with ``identity: {mode: probabilistic}`` in the configuration document.

``profilesync sync`` must ingest the way the document says (the merge function does, with
``IdentityMode=probabilistic``); ``profile show --explain`` must account for every join of a
customer the link graph made, not only those of shared identifiers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.identity_attack_records import HANA, flat, resolve_lines

TABLE = "profilesync-dev-profiles"


def _probabilistic_document(folder: Path) -> None:
    (folder / "profilesync.yaml").write_text(
        "version: 1\nidentity:\n  mode: probabilistic\n", encoding="utf-8"
    )


def test_sync_ingests_with_the_identity_mode_of_the_configuration_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a document saying ``identity: {mode: probabilistic}`` and a HubSpot sandbox WHEN synced
    into the embedded store THEN the identity index was written (BLOCK# items); without the document
    (exact identifiers, as before) it is not."""
    from connectors.hubspot._sandbox import HubSpotSandbox

    monkeypatch.chdir(tmp_path)
    _probabilistic_document(tmp_path)
    settings = HubSpotSandbox(people=20).settings()
    monkeypatch.setattr("profilesync.syncrun.settings_from_environment", lambda plugin, **_: settings)
    assert main(["sync", "--connector", "hubspot", "--state-dir", str(tmp_path), "--no-push", "-q"]) == 0
    capsys.readouterr()
    with (
        open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores,
        stores.database.reading() as conn,
    ):
        blocks = conn.execute("SELECT count(*) FROM items WHERE sk = 'BLOCK'").fetchone()[0]
    assert blocks > 0

    (tmp_path / "profilesync.yaml").unlink()
    exact = tmp_path / "exact"
    exact.mkdir()
    assert main(["sync", "--connector", "hubspot", "--state-dir", str(exact), "--no-push", "-q"]) == 0
    with (
        open_stores(endpoint_url=None, table=TABLE, path=store_path(exact, TABLE)) as stores,
        stores.database.reading() as conn,
    ):
        assert conn.execute("SELECT count(*) FROM items WHERE sk = 'BLOCK'").fetchone()[0] == 0


def test_profile_show_explain_accounts_for_a_fuzzy_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN Hana's CRM and shop records (two emails) joined by name, birth date and address in the
    embedded store, and the document saying probabilistic WHEN ``profile show --explain --json`` THEN
    the explanation is connected and holds a fuzzy link between the two records."""
    monkeypatch.chdir(tmp_path)
    _probabilistic_document(tmp_path)
    lines = [
        flat("crm", "1", **HANA, email="hana.sato@corp.jp"),
        flat("shop", "2", **HANA, email="hs92@icloud.com"),
    ]
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        resolve_lines(lines, stores.profiles)
        assert len(list(stores.profiles.iter_profiles())) == 1
    code = main(
        [
            "profile",
            "show",
            "--email",
            "hana.sato@corp.jp",
            "--explain",
            "--json",
            "--state-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    explained = json.loads(capsys.readouterr().out)["explain"]
    assert explained["connected"] is True
    assert [link["kind"] for link in explained["links"]] == ["fuzzy"]
