"""privacy18: an erasure that finds her only through an orphan (a customer frozen into one an older erasure
deleted, left with no record: core.privacy_orphans) asks each tool to erase the records of hers the
orphan named, as for a live customer, on the in-memory, SQLite and DynamoDB (moto) stores.

Red before privacy18: the orphan's record ids were suppressed but never sent to the tools (each was
asked only by the email the request named, which finds nothing once the tool's record holds another
address): the CRM kept her. Red before pfix18 (the review of privacy18): at a tool the orphan named no
record in, her email was only an extra, never kept: that tool down ended the erasure without anything to
ask it again, and one that could not be built was ``not_present`` (never asked). The tools here are
recording fakes of the ``Connector.erase`` contract (the records of the orphan scenario are from the
``crm`` fixture source, which no sandbox serves).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.connector import ConnectorSpec, EraseOutcome
from core.privacy import retry_erasures
from core.schema import Identifier
from core.storage.memory_privacy import InMemoryErasureStore
from tests.integration.store_port.test_frozen_merge_repair import SALT, _erase_her
from tests.integration.test_attack10_frozen_orphan import _made


class _Tool:
    """A tool that records what it is asked to erase; ``absent``: the keys it says it holds no more
    (a 404 for the exact id), ``unknown``: those it neither finds nor confirms gone; ``down``: it
    cannot be reached."""

    def __init__(self, name: str, unknown: frozenset[str] = frozenset(), down: bool = False) -> None:
        self.spec = ConnectorSpec(
            name=name, kind="crm", description="a recording tool", default_base_url="https://t"
        )
        self.asked: list[str] = []
        self.unknown = unknown
        self.down = down

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        self.asked += [i.key for i in identifiers]
        if self.down:
            raise ConnectionError("the tool is down")
        return [EraseOutcome(i, i.key not in self.unknown) for i in identifiers]


def _erase(kit: Any, settings: Any, email: str, tools: dict[str, Any], **more: Any) -> Any:
    return _erase_her(kit, settings, email, SALT, "req-orphan-tools", tools, **more)


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_her_orphans_record_ids_are_sent_to_their_tool(name: str) -> None:
    """GIVEN her customer frozen into one an older erasure deleted, left with no record but naming
    her CRM records WHEN she is erased by her email THEN the CRM is asked to erase each of those
    records by id (and her email), the mail tool by her email only, and the erasure is complete."""
    with _made(name, "dropped") as (kit, settings, (email, _, records)):
        tools = {"crm": _Tool("crm"), "mail": _Tool("mail")}
        report = _erase(kit, settings, email, tools)
        ids = {f"source#crm:contact:{r.removeprefix('crm:')}" for r in records}
        assert ids <= set(tools["crm"].asked)
        assert f"email#{email}" in tools["crm"].asked
        assert tools["mail"].asked == [f"email#{email}"]
        assert report.outcome == "erased"
        assert report.tools == {"crm": "erased", "mail": "erased"}


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_an_orphans_record_the_tool_does_not_find_is_kept_to_ask_again(name: str) -> None:
    """GIVEN the same orphan WHEN the CRM neither finds nor confirms gone one of her records THEN
    the CRM failed (not_found), that record id is kept to be asked again (erase-retry), as for a
    live customer's record, and the erasure is incomplete."""
    with _made(name, "dropped") as (kit, settings, (email, _, records)):
        lost = f"source#crm:contact:{sorted(records)[0].removeprefix('crm:')}"
        tools = {"crm": _Tool("crm", frozenset({lost})), "mail": _Tool("mail")}
        report = _erase(kit, settings, email, tools)
        assert report.tools["crm"] == "failed (not_found)"
        assert report.outcome == "incomplete"
        assert report.pending


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_a_tool_the_orphan_named_nothing_in_that_is_down_keeps_her_email_to_ask_again(name: str) -> None:
    """GIVEN the same orphan, naming no record of hers in the mail tool WHEN she is erased while the
    mail tool is down THEN it failed and her email is kept for it (erase-retry), as for any request
    that matched no customer; WHEN it is asked again, up, and finds nobody by her email THEN the
    erasure is done: that email is no record we hold, so not finding it is no failure."""
    with _made(name, "dropped") as (kit, settings, (email, _, _)):
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        tools = {"crm": _Tool("crm"), "mail": _Tool("mail", frozenset({f"email#{email}"}), down=True)}
        report = _erase(kit, settings, email, tools, erasure=erasure)
        assert report.tools == {"crm": "erased", "mail": "failed (ConnectionError)"}
        assert (report.outcome, report.pending) == ("incomplete", True)
        [pending] = erasure.pending_erasures()
        assert dict(pending.tools) == {"mail": (f"email#{email}",)}
        tools["mail"].down = False
        retried = retry_erasures(erasure, tools)
        assert (retried.completed, retried.still_failing) == (1, 0)
        assert tools["mail"].asked[-1] == f"email#{email}"
        assert erasure.pending_erasures() == []


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_a_tool_that_cannot_be_built_is_a_failure_kept_to_ask_again(name: str) -> None:
    """GIVEN the same orphan WHEN she is erased while the mail tool cannot be built (its token is
    not set) THEN the mail tool failed with that reason, her email is kept for it, and the erasure
    is incomplete, never ``erased`` without the tool being asked."""
    with _made(name, "dropped") as (kit, settings, (email, _, _)):
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        unavailable = {"mail": "PROFILESYNC_MAIL_TOKEN not set"}
        report = _erase(kit, settings, email, {"crm": _Tool("crm")}, erasure=erasure, unavailable=unavailable)
        assert report.tools == {"crm": "erased", "mail": "failed (PROFILESYNC_MAIL_TOKEN not set)"}
        assert (report.outcome, report.pending) == ("incomplete", True)
        assert [dict(p.tools) for p in erasure.pending_erasures()] == [{"mail": (f"email#{email}",)}]


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_what_is_kept_is_held_at_the_orphans_tool_and_not_at_the_others(name: str) -> None:
    """GIVEN the same orphan WHEN the CRM neither finds nor confirms gone one of her records and the
    mail tool is down THEN both are kept; WHEN both are asked again, the mail tool up but finding
    nobody by her email, the CRM still not finding that record THEN the mail tool is done and the
    CRM still failing (its record is one we held); WHEN the CRM confirms it gone THEN all is done."""
    with _made(name, "dropped") as (kit, settings, (email, _, records)):
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        lost = f"source#crm:contact:{sorted(records)[0].removeprefix('crm:')}"
        tools = {
            "crm": _Tool("crm", frozenset({lost})),
            "mail": _Tool("mail", frozenset({f"email#{email}"}), down=True),
        }
        _erase(kit, settings, email, tools, erasure=erasure)
        [pending] = erasure.pending_erasures()
        assert dict(pending.tools) == {"crm": (lost,), "mail": (f"email#{email}",)}
        tools["mail"].down = False
        retried = retry_erasures(erasure, tools)
        assert (retried.completed, retried.still_failing) == (0, 1)
        assert [dict(p.tools) for p in erasure.pending_erasures()] == [{"crm": (lost,)}]
        tools["crm"].unknown = frozenset()
        assert retry_erasures(erasure, tools).completed == 1
        assert erasure.pending_erasures() == []
