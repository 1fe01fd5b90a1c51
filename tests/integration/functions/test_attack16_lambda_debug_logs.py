"""attack16: the deployed functions' own log lines at Lambda's DEBUG application log level, and every
attribute of every item of the table, after a person is pulled, merged, exported and erased.

docs/privacy.md, "Reports and logs": logs "never carry an identifier or a raw rejected value", at any
log level (Lambda's application log level). attack13 checked the functions lose nothing on hostile
values and attack3 the items' keys after an erasure; nobody read the functions' DEBUG lines. Here
each function module's Powertools ``Logger`` is set to DEBUG (what ``POWERTOOLS_LOG_LEVEL=DEBUG`` or
Lambda's advanced logging controls give) and a handler of this test's added to it and to the root
logger (the libraries' records), each record written with every attribute it carries (Powertools'
``extra`` keys too). The run: pull and merge of her two records (one with an address the normaliser
refuses, quarantined) beside Bob's, her export, her erasure through the privacy handler, and the
first ingest message delivered again (SQS delivers at least once).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from functions import merge, privacy, pull
from tests.integration.functions.conftest import Env, FakeContext, make_env

HER = "ottilie.brandvold@example.com"
TRACES = ("ottilie", "brandvold", "7946 0577", "79460577", "+442079460577")


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        fields = {k: v for k, v in record.__dict__.items() if k not in ("exc_info", "stack_info")}
        self.text.write(f"{record.name} {record.getMessage()} {fields!r}\n")


@pytest.fixture
def logged() -> Iterator[_Everything]:
    handler = _Everything()
    loggers = [m.logger._logger for m in (merge, privacy, pull)] + [logging.getLogger()]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def test_debug_lines_and_every_item_attribute_hold_nothing_of_hers_after_her_erasure(
    aws: None, monkeypatch: pytest.MonkeyPatch, logged: _Everything
) -> None:
    # GIVEN her two records (one whose address is refused: quarantined) and Bob's, pulled and merged
    env: Env = make_env(
        monkeypatch,
        [
            {
                "id": 1,
                "email": HER,
                "phone": "+44 20 7946 0577",
                "first_name": "Ottilie",
                "last_name": "Brandvold",
            },
            {"id": 2, "email": f"Ottilie Brandvold <{HER}>", "phone": "+44 20 7946 0577"},
            {"id": 3, "email": "bob@example.com", "first_name": "Bob"},
        ],
    )
    pull.handler({"connector": "fake"}, FakeContext())
    first = env.receive()
    assert merge.handler(env.sqs_event(first), FakeContext()) == {"batchItemFailures": []}
    # WHEN she is exported and erased through the privacy handler, and a message delivered again
    exported = privacy.handler({"action": "export", "email": HER}, FakeContext())
    assert HER in json.dumps(exported)  # her export is hers to read: never searched below
    answer = privacy.handler({"action": "erase", "email": HER}, FakeContext())
    assert (answer["ok"], answer["outcome"]) == (True, "erased"), answer
    assert merge.handler(env.sqs_event(first), FakeContext()) == {"batchItemFailures": []}
    # THEN no log line, and no attribute of any item, names her in any spelling; Bob is stored
    lines = logged.text.getvalue().lower()
    assert len(lines.splitlines()) > 10  # the functions did log at DEBUG
    in_logs = [t for t in (HER, *TRACES) if t in lines]
    assert in_logs == [], [line for line in lines.splitlines() if any(t in line for t in in_logs)][:3]
    items = json.dumps(env.items()).lower()
    assert [t for t in (HER, *TRACES, "fake:contact:1", "fake:contact:2") if t in items] == []
    assert "bob@example.com" in items
