"""attack19: one byte that is not UTF-8 in one person's name, and every later sync of the tool stops.

A vendor's answer is JSON, which RFC 8259 (8.1) wants in UTF-8; what reaches a client is not always
that. A WordPress shop whose database or a plugin wrote Latin-1 (``José`` as the single byte
``0xE9``), an import that kept a CSV's Windows-1252 bytes, or a proxy that re-encodes answers and
declares it in ``Content-Type: application/json; charset=ISO-8859-1``: one name carries a byte that is
no UTF-8, or the whole answer is in the charset it declares.

``connectors/_http/_client.py:340`` ``_parse`` reads every answer with ``json.loads(response.content)``:
bytes that are not UTF-8 raise ``UnicodeDecodeError``, caught with ``ValueError`` and read as "a
truncated or invalid JSON body", a ``TransientAttemptError``. Each of the ten attempts gets the same
bytes, the pull stops with ``ConnectorUnavailableError`` ("the API is unavailable or throttling; run
the sync again later"), and so does every later run at the same page: that person's record, every
record after her on the page and on later pages, and every change behind them are never pulled, and
the cursor never moves past her. The declared charset is never read.

Shown on every built-in connector's sandbox, the answer rewritten between sandbox and connector
(as attack13 rewrites it) so that the first added person's first name carries ``0xE9``.

Promises (docs/architecture.md "Nothing is lost"): one odd record never kills a run; every cursor
moves. The run goes on; the person is in a profile (her name with U+FFFD, or read in the declared
charset) or quarantined with a reason and counted; every other record of the tool is in a profile.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import PLUGINS, SETTINGS, _held
from tests.integration.test_attack13_hostile_values_on_the_wire import (
    ADDED_NAME,
    _accounted,
    synced_past_it,
    tool,
)


def _rewriting(sandbox: Any, old: bytes, new: bytes, content_type: str | None = None) -> None:
    """Between the sandbox and its clients, the bytes ``old`` in an answer read ``new`` (and its
    ``Content-Type`` reads ``content_type`` when given)."""
    route = sandbox.route

    def rewritten(request: httpx.Request) -> httpx.Response:
        response = route(request)
        body = response.read()
        if old not in body:
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        if content_type is not None:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            headers["Content-Type"] = content_type
        return httpx.Response(response.status_code, content=body.replace(old, new), headers=headers)

    sandbox.route = rewritten


def _synced_with_an_odd_name(name: str, spelled: bytes) -> None:
    """A synced tool, one person added whose first name reaches the connector as ``spelled`` (the
    bytes of the JSON string, quotes included), then two syncs: the first must go on and account for
    every record, the second must write nothing."""
    sandbox, connector = tool(name, people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # GIVEN a synced tool
        _accounted(pull_into_store(connector, store, state, settings=SETTINGS))
        # AND a person added to it whose first name the answers carry as ``spelled``
        added = sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))
        _rewriting(sandbox, json.dumps(ADDED_NAME[name]).encode(), spelled)
        # WHEN it is synced (before: ConnectorUnavailableError after ten attempts, at every run)
        # THEN the run went on, she is in a profile or quarantined and counted, and the cursor moved
        synced_past_it(sandbox, connector, store, state, added)
    finally:
        connector.close()


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_name_with_an_accent_in_utf8_is_synced(name: str) -> None:
    """The guard (green before and after): the same rewrite with ``é`` in UTF-8 is an ordinary name."""
    _synced_with_an_odd_name(name, json.dumps(ADDED_NAME[name] + "é", ensure_ascii=False).encode())


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_one_latin1_byte_in_one_name_never_stops_a_run(name: str) -> None:
    _synced_with_an_odd_name(name, json.dumps(ADDED_NAME[name]).encode()[:-1] + b"\xe9" + b'"')


def test_an_answer_in_the_charset_it_declares_is_read() -> None:
    name = "woocommerce"
    sandbox, connector = tool(name, people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))
        first = ADDED_NAME[name]
        # GIVEN a shop whose answers are Latin-1, as their Content-Type says, one name with ``é``
        _rewriting(
            sandbox,
            json.dumps(first).encode(),
            json.dumps(first + "é", ensure_ascii=False).encode("latin-1"),
            content_type="application/json; charset=ISO-8859-1",
        )
        # WHEN it is synced
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        # THEN every record of the shop is in a profile, hers too, with her name as written
        _accounted(run)
        assert {k.split(":", 1)[1] for k in _held(store)} == sandbox.record_keys()
        names = {t.value for p in store.iter_profiles() for k, t in p.traits.items() if k == "first_name"}
        assert first + "é" in names
    finally:
        connector.close()
