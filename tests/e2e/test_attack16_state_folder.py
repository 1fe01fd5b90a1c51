"""attack16: every file ``profilesync`` leaves in its state folder and working folder after it synced a
person, answered her export, served a report and erased her.

attack12 searched the embedded store's files (``*.sqlite3*``) for her; the state folder holds more
(the sync lease, the salt, run reports and whatever a command writes beside them), and the working
folder is where a newcomer runs every command. Here every file under both, whatever its name, is
searched for her address, name and phone (as written and as JSON escapes them) once she is erased:
a HubSpot sync (HubSpot's sandbox, her contact made through HubSpot's official SDK), a second sync
after a change to her contact (so the store holds an older version too), ``privacy export``,
``status``, then ``privacy erase`` asking HubSpot.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate

from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import HER, NAME, PHONE, served_hubspot, synced, traces_in

pytestmark = pytest.mark.slow


def _files_holding_her(folder: Path) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits = traces_in(data) + ([HER.encode()] if HER.encode() in data.lower() else [])
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def test_no_file_in_the_state_or_working_folder_holds_her_after_her_erasure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_hubspot(tmp_path, monkeypatch) as (url, sdk):
        # GIVEN her HubSpot contact synced twice (a change between), exported, the status shown
        properties = {"email": HER, "firstname": NAME[0], "lastname": NAME[1], "phone": PHONE}
        contact = sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))
        state = tmp_path / ".profilesync"
        synced("hubspot", url, state)
        sdk.crm.contacts.basic_api.update(contact.id, SimplePublicObjectInput(properties={"city": "Riga"}))
        synced("hubspot", url, state)
        with contextlib.redirect_stdout(io.StringIO()):
            main(["privacy", "export", "--email", HER, "--state-dir", str(state)])
            main(["status", "--state-dir", str(state)])
        assert _files_holding_her(tmp_path), "the sync stored her"
        # WHEN she is erased, asking HubSpot
        erase = ["privacy", "erase", "--email", HER, "--requested-by", "dpo", "--state-dir", str(state)]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main([*erase, "--connector", f"hubspot={url}"]) == 0
    # THEN no file under the working folder (the state folder in it) holds anything of hers
    assert _files_holding_her(tmp_path) == {}
