"""privacy18: an erasure that finds her only through an orphan (a customer frozen into one an older
erasure deleted, left with no record: core.privacy_orphans) asks each tool to erase the records of
hers the orphan named, as for a live customer, on the in-memory, SQLite and DynamoDB (moto) stores.

Red before privacy18: the orphan's record ids were suppressed but never sent to the tools (each was
asked only by the email the request named, which finds nothing once the tool's record holds another
address): the CRM kept her. The tools here are recording fakes of the ``Connector.erase`` contract
(the records of the orphan scenario are from the ``crm`` fixture source, which no sandbox serves).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.connector import ConnectorSpec, EraseOutcome
from core.schema import Identifier
from tests.integration.store_port.test_frozen_merge_repair import SALT, _erase_her
from tests.integration.test_attack10_frozen_orphan import _orphaned
from tests.integration.test_frozen_merge_repair_interleavings import _kit


class _Tool:
    """A tool that records what it is asked to erase; ``absent``: the keys it says it holds no more
    (a 404 for the exact id), ``unknown``: those it neither finds nor confirms gone."""

    def __init__(self, name: str, unknown: frozenset[str] = frozenset()) -> None:
        self.spec = ConnectorSpec(
            name=name, kind="crm", description="a recording tool", default_base_url="https://t"
        )
        self.asked: list[str] = []
        self.unknown = unknown

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        self.asked += [i.key for i in identifiers]
        return [EraseOutcome(i, i.key not in self.unknown) for i in identifiers]


def _erase(kit: Any, settings: Any, email: str, tools: dict[str, Any]) -> Any:
    return _erase_her(kit, settings, email, SALT, "req-orphan-tools", tools)


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_her_orphans_record_ids_are_sent_to_their_tool(name: str) -> None:
    """GIVEN her customer frozen into one an older erasure deleted, left with no record but naming
    her CRM records WHEN she is erased by her email THEN the CRM is asked to erase each of those
    records by id (and her email), the mail tool by her email only, and the erasure is complete."""
    with _kit(name) as kit:
        settings, email, _, records = _orphaned(kit, "dropped")
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
    with _kit(name) as kit:
        settings, email, _, records = _orphaned(kit, "dropped")
        lost = f"source#crm:contact:{sorted(records)[0].removeprefix('crm:')}"
        tools = {"crm": _Tool("crm", frozenset({lost})), "mail": _Tool("mail")}
        report = _erase(kit, settings, email, tools)
        assert report.tools["crm"] == "failed (not_found)"
        assert report.outcome == "incomplete"
        assert report.pending
