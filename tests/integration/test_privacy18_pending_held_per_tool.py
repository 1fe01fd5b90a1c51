"""pfix18: a pending erasure says, per tool, whether the keys it keeps are records we held
(``PendingErasure.unheld``), on the in-memory, SQLite and DynamoDB (moto) stores; an item stored before
that was kept (no ``unheld``) loads and is asked again as before: by its ``held`` at every tool.

Red before pfix18: ``PendingErasure`` had no ``unheld`` (the first test raised TypeError), and
erase-retry asked every tool of an erasure with the one ``held`` of the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from core.connector import ConnectorSpec, EraseOutcome
from core.privacy import retry_erasures
from core.privacy_store import PendingErasure
from core.schema import Identifier
from tests.integration.test_privacy_stores import STORES, PrivacyStoreSet

T = datetime(2026, 3, 1, tzinfo=UTC)
RECORD, EMAIL = "source#crm:contact:1", "email#hana@corp.jp"


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[PrivacyStoreSet]:
    with STORES[request.param]() as made:
        yield made


class _FindsNothing:
    """A tool that neither finds nor confirms gone anything it is asked to erase."""

    def __init__(self, name: str) -> None:
        self.spec = ConnectorSpec(
            name=name, kind="crm", description="finds nothing", default_base_url="https://t"
        )
        self.asked: list[str] = []

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        self.asked += [i.key for i in identifiers]
        return [EraseOutcome(i, False) for i in identifiers]


def _put_as_before(stores: PrivacyStoreSet, request_id: str, tools: dict[str, list[str]], held: bool) -> None:
    """A pending erasure written as the stores wrote one before ``unheld`` was kept."""
    erasure: object = stores.erasure
    if hasattr(erasure, "database"):
        attrs = {"subject_hash": "h1", "tools": tools, "held": held, "attempts": 2}
        with erasure.database.writing() as conn:
            conn.execute(
                "INSERT INTO items (pk, sk, updated_at, attrs) VALUES (?, ?, ?, ?)",
                ("ERASURE#pending", request_id, T.isoformat(), json.dumps(attrs)),
            )
    elif hasattr(erasure, "table_name"):
        item = {
            "PK": {"S": "ERASURE#pending"},
            "SK": {"S": request_id},
            "subject_hash": {"S": "h1"},
            "created_at": {"S": T.isoformat()},
            "tools": {"M": {t: {"L": [{"S": k} for k in keys]} for t, keys in tools.items()}},
            "held": {"BOOL": held},
            "attempts": {"N": "2"},
        }
        erasure._client.put_item(TableName=erasure.table_name, Item=item)  # type: ignore[attr-defined]
    else:
        as_tuples = {t: tuple(keys) for t, keys in tools.items()}
        stores.erasure.put_pending(PendingErasure(request_id, "h1", T, as_tuples, held, 2))


def _mixed() -> PendingErasure:
    """An orphan-found erasure's: a record of hers kept for the CRM, the request's email for mail."""
    return PendingErasure("req-1", "h1", T, {"crm": (RECORD,), "mail": (EMAIL,)}, True, 1, "dpo", ("mail",))


def test_the_tools_asked_without_the_duty_are_kept_and_read_back(stores: PrivacyStoreSet) -> None:
    """GIVEN a pending erasure whose mail tool keeps the email the request named, not a record we
    held WHEN it is stored and read back THEN it says so for the mail tool only."""
    stores.erasure.put_pending(pending := _mixed())
    [read] = stores.erasure.pending_erasures()
    assert read == pending
    assert (read.held_at("crm"), read.held_at("mail")) == (True, False)


def test_erase_retry_holds_only_the_tools_whose_keys_we_held(stores: PrivacyStoreSet) -> None:
    """GIVEN that pending erasure WHEN both tools are asked again and find nothing THEN the mail tool
    is done (nobody by that email) and the CRM still failing (a record of hers), kept alone."""
    stores.erasure.put_pending(_mixed())
    tools = {"crm": _FindsNothing("crm"), "mail": _FindsNothing("mail")}
    report = retry_erasures(stores.erasure, tools)
    assert (report.completed, report.still_failing) == (0, 1)
    assert (tools["crm"].asked, tools["mail"].asked) == ([RECORD], [EMAIL])
    [left] = stores.erasure.pending_erasures()
    assert (dict(left.tools), left.held, left.unheld, left.attempts) == ({"crm": (RECORD,)}, True, (), 2)


@pytest.mark.parametrize("held", [True, False])
def test_a_pending_erasure_stored_before_loads_and_is_asked_again_as_before(
    stores: PrivacyStoreSet, held: bool
) -> None:
    """GIVEN a pending erasure stored before ``unheld`` was kept (``held`` for the whole request)
    WHEN it is read THEN it holds every tool as ``held`` says; WHEN erase-retry asks tools that find
    nothing THEN with ``held`` both still fail, kept as they were, and without it the erasure is done."""
    _put_as_before(stores, "req-old", {"crm": [RECORD], "shop": [EMAIL]}, held)
    [read] = stores.erasure.pending_erasures()
    assert (read.request_id, read.held, read.unheld, read.attempts) == ("req-old", held, (), 2)
    assert (read.held_at("crm"), read.held_at("shop")) == (held, held)
    report = retry_erasures(stores.erasure, {"crm": _FindsNothing("crm"), "shop": _FindsNothing("shop")})
    assert (report.completed, report.still_failing) == ((0, 1) if held else (1, 0))
    left = [(dict(p.tools), p.held, p.attempts) for p in stores.erasure.pending_erasures()]
    assert left == ([({"crm": (RECORD,), "shop": (EMAIL,)}, True, 3)] if held else [])
