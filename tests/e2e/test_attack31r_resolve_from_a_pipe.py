"""attack31r: ``profilesync resolve /dev/stdin`` (a pipe: ``export | profilesync resolve /dev/stdin``)
loses the first 8 KB of its input, silently, and exits 0 (robustness: nothing lost).

resolve takes a pipe on purpose: profilesync/parallel_normalise.py's ``worker_wanted`` and
connectors/jsonl/batched.py read a pipe in file order in this process, since "a pipe cannot be read
twice". But the path is opened more than once, and each opening of a pipe reads on from where the
last one left it: profilesync/resolve_cli.py (line 62) first calls profilesync/cli_checks.py's
``check_json_lines`` (line 66), which reads up to 20 lines through a buffered reader, and so takes a
whole buffer (8 KB) out of the pipe; then connectors/jsonl/__init__.py's ``read_jsonl`` (line 268)
opens it to read the first 4 bytes (a byte-order mark?), again buffered, and opens it a third time
to read the lines. The lines in what the first two openings read are never read, never quarantined
and never counted: 100 people piped in, 16 profiles out, exit code 0, and a summary that says 16
records were read (with the sniff of cli_checks taken out, 57: ``read_jsonl``'s own loses the rest).
Without ``--quiet`` the progress bar's ``count_lines`` (profilesync/progress.py line 144) reads the
pipe too. Fix idea: open a path that is not a regular file once, and take the sniffed head and the
byte-order mark from that one handle (``peek``, or a stream that gives back what was read); count no
lines of a pipe.

The test pipes the records through ``/dev/fd/N`` of an ``os.pipe()`` in this process, which opens
the same pipe as ``/dev/stdin`` does under a shell's ``|``; the control resolves the same records
from a regular file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from profilesync.cli import main

PEOPLE = 100  # about 8.4 KB of lines: more than one buffer, less than a pipe's 64 KB


def _records() -> bytes:
    lines = [
        json.dumps(
            {
                "source": "crm",
                "id": f"c{i}",
                "updated_at": "2026-01-05T10:00:00Z",
                "email": f"p{i}@example.com",
            }
        )
        for i in range(PEOPLE)
    ]
    data = ("\n".join(lines) + "\n").encode()
    assert 8192 < len(data) < 65536
    return data


def _resolved(source: str, folder: Path) -> set[str]:
    out = folder / "profiles.jsonl"
    code = main(["resolve", source, "--out", str(out), "--state-dir", str(folder / "state"), "--quiet"])
    assert code == 0
    return {
        identifier
        for line in out.read_text(encoding="utf-8").splitlines()
        for identifier in json.loads(line)["identifiers"]["email"]
    }


def test_the_records_of_a_regular_file_are_all_resolved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 100 people in a regular file
    source = tmp_path / "people.jsonl"
    source.write_bytes(_records())
    # WHEN resolved
    # THEN 100 profiles, one per person
    assert _resolved(str(source), tmp_path) == {f"p{i}@example.com" for i in range(PEOPLE)}


def test_the_records_of_a_pipe_are_all_resolved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN 100 people written into a pipe (as `export | profilesync resolve /dev/stdin` gives them)
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, _records())
        os.close(write_end)
        write_end = -1
        # WHEN resolve reads the pipe
        resolved = _resolved(f"/dev/fd/{read_end}", tmp_path)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    # THEN every person is resolved, as from a file
    assert resolved == {f"p{i}@example.com" for i in range(PEOPLE)}
