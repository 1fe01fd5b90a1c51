"""The local runtime's functions log at the runtime's own ``LogLevel``, whatever ran before them.

Powertools reads ``POWERTOOLS_LOG_LEVEL`` when a handler's module makes its ``Logger``, once per
process; a runtime stands for one deployment (a Lambda function deployed with ``LogLevel=DEBUG``
starts its execution environments at DEBUG), so a runtime at DEBUG after one at INFO in the same
process must log the functions' DEBUG records, and one at INFO after it must not.
"""

from __future__ import annotations

import json
from pathlib import Path

from profilesync.demo import make_sandboxes
from profilesync.local import LocalRuntime


def _levels(log: Path) -> set[str]:
    """The levels of the functions' own (Powertools, JSON) records in a runtime's log."""
    levels = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if "level" in record:
                levels.add(record["level"])
    return levels


def _run(tmp_path: Path, name: str, level: str) -> set[str]:
    log = tmp_path / f"{name}.log"
    with LocalRuntime(make_sandboxes(5, 3), log_path=log, parameters={"LogLevel": level}) as rt:
        rt.pull("hubspot")
        rt.settle()
    return _levels(log)


def test_each_runtime_logs_at_its_own_level_in_one_process(tmp_path: Path) -> None:
    # GIVEN a runtime at INFO that imported the handlers (their Loggers made at INFO)
    assert "DEBUG" not in _run(tmp_path, "first", "INFO")
    # WHEN a runtime at DEBUG runs the same functions in the same process
    # THEN their DEBUG records are in its log (merge logs each merged message at DEBUG)
    assert "DEBUG" in _run(tmp_path, "second", "DEBUG")
    # AND a runtime at INFO after it is at INFO again
    assert "DEBUG" not in _run(tmp_path, "third", "INFO")
