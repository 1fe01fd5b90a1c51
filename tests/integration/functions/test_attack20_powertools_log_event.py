"""attack20: Powertools' own switch for logging each invocation's event, ``POWERTOOLS_LOGGER_LOG_EVENT``.

docs/privacy.md, "Reports and logs": the logs never carry an identifier or a raw rejected value, at
any log level (attack16 read the functions' DEBUG lines). Powertools' ``Logger.inject_lambda_context``
also logs the whole incoming event at INFO when the function's environment sets
``POWERTOOLS_LOGGER_LOG_EVENT=true`` (Powertools' documented debugging switch, one environment
variable in the Lambda console; https://docs.powertools.aws.dev/lambda/python/latest/core/logger/):
every decorator in functions/ left ``log_event`` unset, so the variable decided. The privacy
function's erase request names her address, and the merge function's SQS event holds the pulled
records: both went to CloudWatch for its 30 days. Red on main before 4b09641 (every handler now passes
``log_event=False``; the explicit choice wins over the variable); it guards that fix.

The variable is read when the handler is decorated (the module's import, as in a Lambda cold start):
the modules are imported again with it set, and again without it after the test.
"""

from __future__ import annotations

import importlib
import io
import logging
from collections.abc import Iterator
from types import ModuleType

import pytest

from functions import merge, privacy, pull
from tests.integration.functions.conftest import FakeContext, make_env

HER = "ottilie.brandvold@example.com"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.text.write(f"{record.getMessage()} {record.__dict__!r}\n")


@pytest.fixture
def cold_started_with_log_event(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[ModuleType, ModuleType, _Lines]]:
    """merge and privacy imported as a cold start with ``POWERTOOLS_LOGGER_LOG_EVENT=true``; a handler
    of this test's on their loggers."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    modules = [importlib.reload(merge), importlib.reload(privacy)]
    lines = _Lines()
    loggers = [m.logger._logger for m in modules]
    for lg in loggers:
        lg.addHandler(lines)
    try:
        yield modules[0], modules[1], lines
    finally:
        for lg in loggers:
            lg.removeHandler(lines)
        monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT")
        importlib.reload(merge)
        importlib.reload(privacy)


def test_no_event_is_logged_when_the_environment_asks_powertools_to(
    aws: None,
    monkeypatch: pytest.MonkeyPatch,
    cold_started_with_log_event: tuple[ModuleType, ModuleType, _Lines],
) -> None:
    merge_module, privacy_module, lines = cold_started_with_log_event
    # GIVEN her record pulled into the ingest queue
    env = make_env(monkeypatch, [{"id": 1, "email": HER, "first_name": "Ottilie"}], page_size=1)
    pull.handler({"connector": "fake"}, FakeContext())
    # WHEN merge takes it and she is then erased
    for message in env.receive():
        assert merge_module.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    answer = privacy_module.handler({"action": "erase", "email": HER, "requested_by": "dpo"}, FakeContext())
    assert answer["ok"] is True, answer
    # THEN the functions logged (their summaries), and none of their lines holds her
    text = lines.text.getvalue().lower()
    assert "merge batch finished" in text
    assert [t for t in (HER, "ottilie") if t in text] == []


def test_without_the_variable_the_same_run_logs_nothing_of_hers(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same run with the functions as deployed (no variable) logs its summaries and
    nothing of hers, so the finding above is the event's line alone."""
    monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT", raising=False)
    lines = _Lines()
    loggers = [m.logger._logger for m in (merge, privacy)]
    for lg in loggers:
        lg.addHandler(lines)
    try:
        env = make_env(monkeypatch, [{"id": 1, "email": HER, "first_name": "Ottilie"}], page_size=1)
        pull.handler({"connector": "fake"}, FakeContext())
        for message in env.receive():
            assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
        answer = privacy.handler({"action": "erase", "email": HER, "requested_by": "dpo"}, FakeContext())
        assert answer["ok"] is True, answer
    finally:
        for lg in loggers:
            lg.removeHandler(lines)
    text = lines.text.getvalue().lower()
    assert "merge batch finished" in text
    assert [t for t in (HER, "ottilie") if t in text] == []
