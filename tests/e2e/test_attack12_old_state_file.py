"""attack12: ``profilesync privacy erase`` in a state folder that still holds an older profilesync's
embedded state (``<table>.jsonl``, moto's table as JSON lines: every person the old version synced).

``sync`` does not read that file and starts afresh beside it, saying so once (on the run that makes
the new store: profilesync/sync_cli.py), "delete the old file when done". An erasure afterwards took
her from the new store and answered ``"ok": true``, while the old file beside it still held her
address and name, and nothing said so (red before: privacy_cli never looked at it). Now the erasure
answers ``"ok": false`` with an ``old_state`` note naming the file to delete; it neither reads nor
changes the file (an older version's, which the user was told to delete).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import HER, NAME, _create, served_hubspot, synced

pytestmark = pytest.mark.slow


def test_an_erasure_beside_an_older_versions_state_file_says_the_file_may_hold_her(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_hubspot(tmp_path, monkeypatch) as (url, sdk):
        # GIVEN an older version's state file holding her, and the new store synced beside it
        state = tmp_path / "state"
        state.mkdir()
        old = state / "profilesync-dev-profiles.jsonl"
        item = {"PK": {"S": "CUSTOMER#cus_old"}, "SK": {"S": "PROFILE"}, "email": {"S": HER}}
        old.write_text(json.dumps(item) + "\n", encoding="utf-8")
        _create(sdk, {"email": HER, "firstname": NAME[0], "lastname": NAME[1]})
        synced("hubspot", url, state)
        # WHEN she is erased from the local store
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = main(
                ["privacy", "erase", "--email", HER, "--requested-by", "dpo", "--state-dir", str(state)]
            )
        printed = out.getvalue()
        answer = json.loads(printed[printed.index("{") :])
    # THEN the new store is erased, and the answer says the old file may still hold her, naming it
    assert answer["outcome"] == "erased"
    assert HER.encode() not in (state / "profilesync-dev-profiles.sqlite3").read_bytes()
    assert (code, answer["ok"]) == (1, False), answer
    assert str(old) in answer["old_state"]
    # AND the old file is left as it was (the user deletes it)
    assert HER in old.read_text(encoding="utf-8")
