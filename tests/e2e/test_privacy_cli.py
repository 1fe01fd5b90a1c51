"""``profilesync privacy`` against the local store that ``profilesync sync`` keeps, end to end.

A HubSpot sandbox is served on a local port; ``sync`` pulls it into the embedded store in a state
directory; ``privacy export`` and ``privacy erase`` (asking HubSpot too) work on that store; the
next ``sync`` does not bring the person back, even when someone re-adds them to HubSpot.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors._sandbox import SandboxServer
from connectors.hubspot import HubSpotSandbox
from core.normalise import normalise_email
from core.testing.population import people
from profilesync.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[HubSpotSandbox, str]]:
    sandbox = HubSpotSandbox(people=30, seed=5, token="pat-cli")
    server = SandboxServer(sandbox, "127.0.0.1", 0)
    server.start()
    empty = tmp_path / "secrets.json"
    empty.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("PROFILESYNC_SECRETS_FILE", str(empty))
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", "pat-cli")
    try:
        yield sandbox, server.url
    finally:
        server.stop()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def answer(out: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_export_erase_and_sync_again_on_the_local_store(
    served: tuple[HubSpotSandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, url = served
    state = tmp_path / "state"
    sync = ("sync", "--connector", "hubspot", "--base-url", url, "--state-dir", str(state))
    # GIVEN HubSpot synced into the local store
    code, _ = run(capsys, *sync)
    assert code == 0
    # THEN the store and its salt are readable by their owner only
    for name in ("profilesync-dev-profiles.sqlite3", "audit-salt"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    email = next(p.email for p in people(30, 5) if sandbox.holds(p.email))
    # WHEN the person is exported
    code, out = run(capsys, "privacy", "export", "--email", email, "--state-dir", str(state))
    export = answer(out)
    assert (code, export["found"]) == (0, True)
    assert export["sources"][0]["source"] == "hubspot"
    assert {p["destination"] for p in export["pushed"]} == {"hubspot"}
    # AND erased, asking HubSpot too
    erase = ("privacy", "erase", "--email", email, "--connector", f"hubspot={url}", "--requested-by", "dpo")
    code, out = run(capsys, *erase, "--state-dir", str(state))
    erased = answer(out)
    assert (code, erased["outcome"], erased["tools"]) == (0, "erased", {"hubspot": "erased"})
    assert not sandbox.holds(email)
    # AND no byte of the store's file (nor of its write-ahead log) holds the address any more: the
    # deleted rows were zeroed (secure_delete), not left in free pages
    for file in state.glob("profilesync-dev-profiles.sqlite3*"):
        assert normalise_email(email).encode() not in file.read_bytes(), file.name
    # WHEN someone re-adds them to HubSpot and the next sync runs
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer pat-cli"}) as client:
        response = client.post(
            "/crm/v3/objects/contacts/batch/upsert",
            json={"inputs": [{"idProperty": "email", "id": email, "properties": {"firstname": "Again"}}]},
        )
        assert response.status_code == 200
    code, out = run(capsys, *sync)
    # THEN the sync drops and counts them, and pushes nothing to them
    assert code == 0
    assert "1 of erased people dropped" in out
    assert not any(k.startswith("profilesync_") for k in sandbox.contact(email) or {})
    code, out = run(capsys, "privacy", "export", "--email", email, "--state-dir", str(state))
    after = answer(out)
    assert (after["found"], after["profile"], after["items"]) == (True, None, [])
    assert after["suppressed"][f"email#{normalise_email(email)}"] is not None
    # AND lifting the suppression (they signed up again) lets the next sync bring them in
    code, out = run(
        capsys, "privacy", "unsuppress", "--email", email, "--requested-by", "dpo", "--state-dir", str(state)
    )
    assert answer(out)["lifted"] >= 1
    code, out = run(capsys, *sync, "--full")
    code, out = run(capsys, "privacy", "export", "--email", email, "--state-dir", str(state))
    assert answer(out)["profile"] is not None


def test_a_malformed_identifier_is_refused_without_repeating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "a-test-salt")
    with pytest.raises(SystemExit) as exit_info:
        main(["privacy", "erase", "--email", "not-an-address", "--state-dir", str(tmp_path)])
    assert "email" in str(exit_info.value)
    assert "not-an-address" not in str(exit_info.value)
