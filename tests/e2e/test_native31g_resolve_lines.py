"""``profilesync resolve --out`` writes the same bytes with the extension's lines and without them.

bench.resolve_scaling's generated population (three tools, overlapping people, 2% malformed lines)
is resolved twice in this process with the output written by two processes (the second writer
started for any store here): once with ``profile_lines`` (native/src/out_line.rs) in both, and once
with the Python path in both (``LINES`` None in this process, ``PROFILESYNC_NATIVE=off`` in the
second, which reads its own). The profiles and quarantine files must be the same bytes, and the
compiled pass must have written this process's lines itself (none left to Python), so the
comparison is not of two Python runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import profilesync.resolve_output as output
from bench.resolve_scaling import generate
from profilesync.cli import main

LINES = output.LINES
if LINES is None:
    pytest.skip("no profilesync_native.profile_lines (make native), or it is off", allow_module_level=True)


def _resolve(
    source: Path, folder: Path, compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, bytes]:
    out, quarantine = folder / "profiles.jsonl", folder / "quarantine.jsonl"
    with monkeypatch.context() as patch:
        patch.setattr(output, "PARALLEL_MIN_PROFILES", 1)
        if not compiled:
            patch.setattr(output, "LINES", None)
            patch.setenv("PROFILESYNC_NATIVE", "off")  # the second writer's own choice
        code = main(["resolve", str(source), "--out", str(out), "--quarantine", str(quarantine), "--quiet"])
    assert code == 0
    return out.read_bytes(), quarantine.read_bytes()


def test_resolve_writes_the_same_output_with_the_compiled_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the scaling bench's population, and the compiled pass counting what it wrote here
    source = tmp_path / "input.jsonl"
    generate(source, 3000, seed=5)
    counts = {"lines": 0, "declined": 0}

    def counted(documents: list[Any], *args: Any) -> tuple[str, int]:
        text, declined = LINES(documents, *args)
        counts["lines"] += len(documents)
        counts["declined"] += declined
        return text, declined

    monkeypatch.setattr(output, "LINES", counted)
    # WHEN resolved with the compiled lines in both writers, and with the Python path in both
    compiled = _resolve(source, tmp_path / "compiled", True, monkeypatch)
    python = _resolve(source, tmp_path / "python", False, monkeypatch)
    # THEN the same bytes, the profiles on both sides of the split, this process's written compiled
    assert compiled == python
    lines = python[0].decode().splitlines()
    assert len(lines) > 1000
    assert counts["lines"] > 100
    assert counts["declined"] == 0
    assert counts["lines"] < len(lines)  # the second writer wrote the rest
