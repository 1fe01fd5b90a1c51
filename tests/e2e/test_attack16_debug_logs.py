"""attack16: what ``profilesync --debug`` writes while it syncs a person, exports her and erases her.

docs/privacy.md, "Reports and logs": "never carry an identifier or a raw rejected value ... That
holds for the libraries' lines too, at any log level (Lambda's application log level, or
``profilesync --debug``)". Earlier rounds searched the store file, the quarantine and the files a
later ``resolve`` writes (attack12), never the log. Here every line the CLI's logging writes at
DEBUG (the root logger's handlers: the terminal's stderr) and every record any logger emits
(pytest's ``caplog`` at DEBUG on the root, so a library's records are seen whatever the CLI's
handlers keep) is searched for her address, her name and her phone, as written and as JSON escapes
them, through a HubSpot sync (HubSpot's sandbox, her contact made through HubSpot's official SDK), her
export's log lines (its answer on stdout is hers to read and is not searched) and her erasure asking
HubSpot.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import pytest
from hubspot.crm.contacts import SimplePublicObjectInputForCreate

from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import HER, NAME, PHONE, served_hubspot, traces_in

pytestmark = pytest.mark.slow


def _run(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return main(argv)


def test_debug_logs_of_her_sync_export_and_erasure_hold_nothing_of_hers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with served_hubspot(tmp_path, monkeypatch) as (url, sdk):
        # GIVEN her HubSpot contact (address, name, phone)
        properties = {"email": HER, "firstname": NAME[0], "lastname": NAME[1], "phone": PHONE}
        sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))
        state = tmp_path / "state"
        capsys.readouterr()
        caplog.clear()
        # WHEN it is synced, her data exported and she is erased, every command at --debug
        sync = ["sync", "--debug", "--connector", "hubspot", "--base-url", url]
        assert _run([*sync, "--state-dir", str(state)]) == 0
        _run(["privacy", "export", "--debug", "--email", HER, "--state-dir", str(state)])
        erase = ["privacy", "erase", "--debug", "--email", HER, "--requested-by", "dpo"]
        assert _run([*erase, "--state-dir", str(state), "--connector", f"hubspot={url}"]) == 0
    # THEN no line logged names her, in any spelling
    written = capsys.readouterr()
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    lines = f"{written.err}\n{logged}".encode()
    found = traces_in(lines) + ([HER.encode()] if HER.encode() in lines else [])
    context = [line for line in lines.splitlines() if traces_in(line) or HER.encode() in line][:5]
    assert found == [], context
    assert len(caplog.records) > 20  # the run did log at DEBUG
