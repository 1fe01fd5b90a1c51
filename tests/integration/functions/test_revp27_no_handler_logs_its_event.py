"""revP27: every deployed handler, not only merge and privacy, ignores ``POWERTOOLS_LOGGER_LOG_EVENT``.

4b09641 made every handler's ``inject_lambda_context`` pass ``log_event=False`` (docs/privacy.md,
"Reports and logs"); attack20's test (test_attack20_powertools_log_event.py) guards merge and
privacy only: dropping ``log_event=False`` from pull, push, dispatch, identity_review or profiles
(whose events carry a profile lookup's address, a push's customer ids, a review's records) made no
test red. Each handler of template.yaml is imported again as a cold start with the variable set and
called with an event holding a marker; whatever the handler answers (the event is no valid one), the
marker is in none of its logger's lines.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import re
from pathlib import Path

import pytest

from tests.integration.functions.conftest import FakeContext

MARKER = "revp27.marker@example.com"
_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def _deployed_handlers() -> list[str]:
    """The modules template.yaml deploys a handler of (``Handler: functions.<module>.handler``)."""
    text = _TEMPLATE.read_text(encoding="utf-8")
    return sorted(set(re.findall(r"Handler:\s*functions\.(\w+)\.handler", text)))


def test_the_template_deploys_the_handlers_this_file_checks() -> None:
    assert {"pull", "push", "dispatch", "identity_review", "profiles", "merge", "privacy"} <= set(
        _deployed_handlers()
    )


@pytest.mark.parametrize("name", _deployed_handlers())
def test_a_cold_start_with_log_event_set_logs_no_event(
    name: str, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = io.StringIO()

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.write(f"{record.getMessage()} {record.__dict__!r}\n")

    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    module = importlib.import_module(f"functions.{name}")
    module = importlib.reload(module)
    handler = _Lines(logging.DEBUG)
    module.logger._logger.addHandler(handler)
    try:
        with contextlib.suppress(Exception):  # the event is no valid one: only the logs matter
            module.handler({"email": MARKER, "detail": {"email": MARKER}}, FakeContext())
    finally:
        module.logger._logger.removeHandler(handler)
        monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT")
        importlib.reload(module)
    assert MARKER not in lines.getvalue()
