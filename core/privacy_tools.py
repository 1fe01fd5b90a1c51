"""Asking every connected tool to erase what it holds of the person (core.privacy, step 2:
``ask_tools``), and the ``ErasureReport`` of an erase request that holds their answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.connector import Connector
from core.person_scope import PersonScope
from core.privacy_orphans import orphan_targets
from core.privacy_request import AMBIGUOUS
from core.schema import Identifier
from core.tool_erasure import ToolResult, erase_in_tool


@dataclass
class ErasureReport:
    """What one erase request did. ``counts`` holds deleted items by kind (and ``suppressed``);
    ``tools`` each tool's answer; ``kept`` what remains by policy, and until when."""

    found: bool
    outcome: str
    counts: Counter[str] = field(default_factory=Counter)
    tools: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    retries: int = 0
    kept: list[dict[str, str]] = field(default_factory=list)
    pending: bool = False
    refusal: str = ""
    """When ``ambiguous``: why nobody was erased, and how to name the person instead."""

    @property
    def complete(self) -> bool:
        """Whether the erasure is done everywhere: not ambiguous, no tool failed, and no record in
        the ingest dead-letter queue left unjudged (``dead_letter_unreadable``: nothing identifying
        reads in it, so it may be hers; ``dead_letter_in_flight``: a message another reader held
        while the queue was read, unseen)."""
        return (
            self.outcome != AMBIGUOUS
            and not any(v.startswith("failed") for v in self.tools.values())
            and not self.counts.get("dead_letter_unreadable")
            and not self.counts.get("dead_letter_in_flight")
        )


def ask_tools(
    scope: PersonScope,
    tools: Mapping[str, Connector],
    unavailable: Mapping[str, str] | None = None,
    quarantined: Mapping[str, Sequence[Identifier]] | None = None,
) -> dict[str, ToolResult]:
    """Ask every tool to erase what it holds of the person; one tool failing does not stop the others.
    A request that found her only through an orphan (core.privacy_orphans: ``scope.sources`` holds
    the record ids it named) asks a tool the orphan named records in for those records as for a live
    customer's (``held``: one the tool neither finds nor confirms gone is a failure, kept to be asked
    again), and for the identifier the request named too, without that duty; any other tool by that
    identifier, as for a request that matched no customer (kept to be asked again if the tool fails,
    never a failure for not finding it: ``held_at``). ``quarantined``: each tool's ids of her
    records we quarantined (core.privacy_quarantine), asked as records we hold."""
    results: dict[str, ToolResult] = {}
    for name in sorted({*tools, *(unavailable or {})}):
        connector = tools.get(name)
        targets = scope.tool_targets(name, connector)
        extras = scope.pushed_addresses(name, connector)
        held = held_at(scope, name)
        if held and not scope.found:
            extras, targets = [*targets, *extras], orphan_targets(scope, name)
        if kept := (quarantined or {}).get(name, ()):
            targets, held = [*targets, *(i for i in kept if i not in targets)], True
        result = erase_in_tool(name, connector, targets, held=held, extras=extras)
        if connector is None and result.status == "failed":
            result = ToolResult(
                name, "failed", (unavailable or {}).get(name, "unavailable"), 0, result.remaining
            )
        results[name] = result
    return results


def held_at(scope: PersonScope, tool: str) -> bool:
    """Whether ``tool`` is asked for records we hold of the person: those of her customer, or those
    at ``tool`` of the orphans she was found through."""
    return scope.found or bool(orphan_targets(scope, tool))


__all__ = ["ErasureReport", "ask_tools", "held_at"]
