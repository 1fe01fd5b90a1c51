"""A local runtime's functions log to that runtime's log, at its own ``LogLevel``, whatever ran before.

Powertools takes a ``Logger``'s service name, level and stream when the handler's module makes it, once
per process: a module imported by an earlier runtime at INFO, or by a test under another service name
while pytest held stdout, keeps what it had then. A runtime stands for one deployment (a function
deployed with ``LogLevel=DEBUG`` starts its execution environments at DEBUG, and Lambda sends all it
writes to CloudWatch), so while a runtime invokes a function, the function's Powertools records go to
that runtime's log at that runtime's level, and afterwards the loggers are as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from profilesync.demo import make_sandboxes
from profilesync.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]


def _levels(log: Path) -> set[str]:
    """The levels of the functions' own records (Powertools' JSON lines) in a runtime's log."""
    levels = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if "level" in record:
                levels.add(record["level"])
    return levels


def _run(tmp_path: Path, name: str, level: str) -> set[str]:
    log = tmp_path / f"{name}.log"
    sandboxes = make_sandboxes(5, 3, tools=("hubspot",))
    with LocalRuntime(sandboxes, log_path=log, parameters={"LogLevel": level}) as rt:
        rt.pull("hubspot")
        rt.settle()
    return _levels(log)


def _loggers() -> list[tuple[str, int, list[Any]]]:
    """Each handler module's Powertools logger: its name, level and its handlers' streams."""
    import functions.merge
    import functions.pull
    import functions.push

    return [
        (m.logger.name, m.logger.log_level, [getattr(h, "stream", None) for h in m.logger.handlers])
        for m in (functions.pull, functions.merge, functions.push)
    ]


def test_each_runtime_logs_at_its_own_level_in_one_process(tmp_path: Path) -> None:
    # GIVEN a runtime at INFO: the functions' INFO records are in its log, no DEBUG one
    first = _run(tmp_path, "first", "INFO")
    assert first & {"INFO", "DEBUG"} == {"INFO"}
    # WHEN a runtime at DEBUG runs the same functions in the same process
    # THEN their DEBUG records are in its log (merge logs each merged message at DEBUG)
    assert {"INFO", "DEBUG"} <= _run(tmp_path, "second", "DEBUG")
    # AND a runtime at INFO after it is at INFO again
    third = _run(tmp_path, "third", "INFO")
    assert third & {"INFO", "DEBUG"} == {"INFO"}


def test_the_handlers_loggers_are_put_back_after_each_invocation(tmp_path: Path) -> None:
    _run(tmp_path, "before", "INFO")  # the handler modules imported (by this runtime or earlier)
    before = _loggers()
    assert {"DEBUG"} <= _run(tmp_path, "debug", "DEBUG")
    # THEN the loggers have the level and the streams they had (nothing still writes to a closed
    # runtime's buffer)
    assert _loggers() == before


# Run in a process of its own: the handler modules first imported under another service name, at
# WARNING, while stdout was another stream (as a test that imports them under pytest's capture).
_ELSEWHERE = """
import io, json, os, sys
from pathlib import Path
os.environ.update(POWERTOOLS_SERVICE_NAME="elsewhere", POWERTOOLS_LOG_LEVEL="WARNING")
class Stream(io.TextIOWrapper):  # as pytest's CaptureIO
    written = []
    def __init__(self):
        super().__init__(io.BytesIO(), encoding="UTF-8", newline="", write_through=True)
    def write(self, text):
        Stream.written.append(text)
        return super().write(text)
other = Stream()
real, sys.stdout = sys.stdout, other
import functions.merge, functions.pull, functions.push
sys.stdout = real
other.close()  # as pytest closes a test's captured stdout at its end
del os.environ["POWERTOOLS_SERVICE_NAME"], os.environ["POWERTOOLS_LOG_LEVEL"]
from tests.e2e.test_local_log_level import _levels, _loggers, _run
before = _loggers()
tmp = Path(sys.argv[1])
seen = {level: sorted(_run(tmp, level, level)) for level in ("DEBUG", "INFO")}
print(json.dumps({
    "seen": seen, "other": "".join(Stream.written), "names": [n for n, _, _ in before],
    "put_back": _loggers() == before,
}))
"""


def test_a_runtime_after_the_handlers_were_imported_under_another_service_and_stream(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    done = subprocess.run(
        [sys.executable, "-c", _ELSEWHERE, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    # GIVEN the handlers' loggers made under the service "elsewhere", at WARNING, on another stream
    assert result["names"] == ["elsewhere"] * 3
    # THEN each runtime's log has the functions' records at its own level
    assert {"DEBUG", "INFO"} <= set(result["seen"]["DEBUG"])
    assert set(result["seen"]["INFO"]) & {"INFO", "DEBUG"} == {"INFO"}
    # AND none went to the stream they were made with; afterwards the loggers are as they were
    assert result["other"] == ""
    assert "Logging error" not in done.stderr
    assert result["put_back"]
