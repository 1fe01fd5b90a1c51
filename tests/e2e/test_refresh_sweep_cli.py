"""``profilesync sync --full`` on the local store retires the HubSpot contacts deleted there for good
(GDPR delete: neither listed nor archived), within the guard that ``--allow-mass-retirement`` lifts.

A HubSpot sandbox is served on a local port, as in test_privacy_cli.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from connectors.hubspot import HubSpotSandbox
from tests.e2e.test_privacy_cli import run, served  # noqa: F401  (the fixture)


def _gdpr_delete(url: str, record_ids: list[str]) -> None:
    headers = {"Authorization": "Bearer pat-cli"}
    for record_id in record_ids:
        answer = httpx.post(
            f"{url}/crm/v3/objects/contacts/gdpr-delete", json={"objectId": record_id}, headers=headers
        )
        assert answer.status_code == 204, answer.text


def _sweep(out: str) -> tuple[int, int, str]:
    found = re.search(r"full refresh listed [\d,]+; (\d+) of (\d+) stored records not listed(.*)", out)
    assert found is not None, out
    return int(found.group(1)), int(found.group(2)), found.group(3)


def test_a_full_sync_retires_contacts_deleted_for_good_within_the_guard(
    served: tuple[HubSpotSandbox, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, url = served
    sync = ("sync", "--connector", "hubspot", "--base-url", url, "--state-dir", str(tmp_path / "state"))
    # GIVEN HubSpot synced into the local store
    assert run(capsys, *sync, "--no-push")[0] == 0
    keys = sorted(k.split(":", 1)[1] for k in sandbox.record_keys())
    assert len(keys) >= 20
    # AND a third of its contacts deleted there for good (a privacy request handled in HubSpot)
    gone = keys[: len(keys) // 3]
    _gdpr_delete(url, gone)
    # WHEN a full sync runs
    code, out = run(capsys, *sync, "--no-push", "--full")
    # THEN the guard refuses to retire a third of the store, and says how to proceed
    assert code == 0
    unlisted, stored, rest = _sweep(out)
    # (the sandbox seeds a malformed contact or two: quarantined, never stored)
    assert stored <= len(keys)
    assert len(gone) - (len(keys) - stored) <= unlisted <= len(gone)
    assert unlisted > stored // 10
    assert "none retired" in rest
    assert "--allow-mass-retirement" in rest
    # AND with the flag they are retired, and a full sync after that finds nothing unlisted
    code, out = run(capsys, *sync, "--no-push", "--full", "--allow-mass-retirement")
    assert _sweep(out)[:2] == (unlisted, stored)
    assert f"{unlisted} sent to be retired" in out
    assert f"{unlisted} deleted in hubspot: {unlisted} retired" in out
    code, out = run(capsys, *sync, "--no-push", "--full")
    assert _sweep(out)[:2] == (0, stored - unlisted)
