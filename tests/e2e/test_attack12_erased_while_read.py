"""attack12: ``profilesync privacy erase`` on the embedded store while another connection to the same
file is in a read transaction: a ``profilesync profile serve`` answering a request, an export or a
``sync`` reading, in another process, or any SQLite client.

docs/privacy.md: "An erasure leaves no copy in that file: it has SQLite's ``secure_delete`` on ... and
the erase checkpoints and truncates the write-ahead log when it is done". A reader's snapshot keeps
the checkpoint from copying the erasure's zeroed pages into the file and from truncating the log (the
reader must still see the pages as they were). The checkpoint waits for the reader up to the store's
busy timeout (60 s; a read that ends within it is waited for, and nothing of her is left: checked
while writing this test); a read longer than that (a long export, a slow client, a process stopped in
a debugger) makes the checkpoint give up silently, the erasure answers ``erased``, and the file and its
log kept her name and address for as long as the other connection stayed open (red before the fix:
``SQLiteDatabase.scrub`` ignored the checkpoint's answer). Now the erasure says so (``"ok": false``, a
``store_file`` note, exit status 1), and the same request sent again once the read is over clears them.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from core.storage.sqlite_database import SQLiteDatabase
from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import _create, served_hubspot, synced

pytestmark = pytest.mark.slow

HER = "zephyrine.quillfeather@gmail.com"


def holding_her(state: Path) -> dict[str, bool]:
    return {f.name: b"quillfeather" in f.read_bytes().lower() for f in sorted(state.glob("*.sqlite3*"))}


def test_an_erasure_while_another_connection_reads_leaves_no_byte_of_her(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_hubspot(tmp_path, monkeypatch) as (url, sdk):
        _create(sdk, {"email": HER, "firstname": "Zéphyrine", "lastname": "Quillfeather"})
        state = tmp_path / "state"
        synced("hubspot", url, state)
        assert holding_her(state) == {"profilesync-dev-profiles.sqlite3": True}
    # GIVEN another connection to the file, in a read transaction longer than the store's busy timeout
    defaults = SQLiteDatabase.__init__.__kwdefaults__
    other = sqlite3.connect(state / "profilesync-dev-profiles.sqlite3", check_same_thread=False)
    try:
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM items").fetchall()
        # (the store's busy timeout, 60 s, shortened to 1 s so that the read outlasts it)
        monkeypatch.setattr(SQLiteDatabase.__init__, "__kwdefaults__", {**defaults, "busy_timeout": 1.0})
        # WHEN she is erased meanwhile
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = main(
                ["privacy", "erase", "--email", HER, "--requested-by", "dpo", "--state-dir", str(state)]
            )
        printed = out.getvalue()
        answer = json.loads(printed[printed.index("{") :])
        other.commit()  # the read ends once the erasure has answered; the connection stays open
        # THEN the file still holds her (the read kept the checkpoint from finishing), and the answer
        # says so rather than that nothing is left
        assert any(holding_her(state).values())
        assert answer["outcome"] == "erased"
        assert (code, answer["ok"], "store_file" in answer) == (1, False, True), answer
        # AND the same request sent again, the read over (its connection still open), clears them
        with contextlib.redirect_stdout(io.StringIO()) as out:
            again = main(
                ["privacy", "erase", "--email", HER, "--requested-by", "dpo", "--state-dir", str(state)]
            )
        assert again == 0, out.getvalue()
        assert not any(holding_her(state).values()), holding_her(state)
    finally:
        other.close()
