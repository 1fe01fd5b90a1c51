"""``profilesync resolve`` on lines written to a folder: the profiles it writes, for the tests that
resolve the same lines in several orders and batch sizes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from profilesync.cli import main


def resolved(folder: Path, lines: list[dict[str, Any]], batch_size: int) -> list[dict[str, Any]]:
    """The profiles ``resolve`` writes for ``lines`` (a JSON-lines source in ``folder``, made if
    missing) at ``--batch-size batch_size``, in the order written."""
    folder.mkdir(parents=True, exist_ok=True)
    source, out = folder / "in.jsonl", folder / "out.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    argv = ["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", str(batch_size)]
    assert main(argv) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
