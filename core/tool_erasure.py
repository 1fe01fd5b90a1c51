"""Asking the connected tools to erase a person, and what their answers mean.

A tool is asked to erase exactly the records that belong to the erased customer: the ids of the
source records we hold from it (``hubspot:contact:123``) and of the records our pushes created
there, and the address a push matched on, when the person held it alone (a push can create a
record the tool identifies by no id we keep: Klaviyo's bulk import answers with a job id). Never
everyone sharing a value with the person: a household phone or a company email held by another
customer is not sent. Only for a request that matched no customer is the tool asked by the
identifier the request named (the person's own, and nobody else's that we know of).

Each tool's answer is one of:

* ``erased``: every record was erased, or the tool confirmed it no longer has it (a 404 for the
  exact id: ``EraseOutcome.absent``);
* ``not_present``: we hold no record of the person there (nothing to ask), or, for a request that
  matched no customer, the tool found nobody with that identifier;
* ``failed (<why>)``: the tool could not be reached or refused (``<why>`` is the error's type, never
  the vendor's message, which may quote the address), or it did not find a record we hold of the
  person without confirming it is gone (``not_found``), or it cannot erase at all
  (``not_supported``). What failed is kept (core.privacy_store.PendingErasure) and asked again by
  ``{"action": "erase-retry"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from core.connector import Connector
from core.schema import Identifier

ToolStatus = Literal["erased", "not_present", "failed"]


@runtime_checkable
class ErasesPushedRecords(Protocol):
    """Optional connector capability: the identifier of the record a push created or updated, from
    the ``remote_id`` its ``PushOutcome`` gave (``hubspot:contact:<id>``), so that a record our push
    created, and no pull has brought back yet, is erased too. None when the remote id names no
    record (a job id)."""

    def pushed_identifier(self, remote_id: str) -> Identifier | None: ...


@dataclass(frozen=True, slots=True)
class ToolResult:
    """One tool's answer to an erasure."""

    tool: str
    status: ToolStatus
    reason: str = ""
    """Why it failed: not_found, not_supported or the error's type."""
    erased: int = 0
    remaining: tuple[str, ...] = ()
    """The identifier keys still to erase there (asked again by erase-retry)."""

    @property
    def label(self) -> str:
        return f"failed ({self.reason})" if self.status == "failed" else self.status

    @property
    def done(self) -> bool:
        return self.status != "failed"


def erase_in_tool(
    tool: str,
    connector: Connector | None,
    targets: Sequence[Identifier],
    *,
    held: bool,
    extras: Sequence[Identifier] = (),
) -> ToolResult:
    """Ask one tool to erase ``targets``. ``held``: they are records we hold of the person, so a tool
    that neither finds nor confirms the absence of one has failed. ``extras`` are asked too, without
    that duty (the address a push matched on: a record the push created there, if any). ``connector``
    None means the tool could not be built (its credentials are missing, say): a failure if there
    is anything to ask."""
    if not targets and not extras:
        return ToolResult(tool, "not_present")
    keys = tuple(i.key for i in targets)
    if connector is None:
        return ToolResult(tool, "failed" if targets else "not_present", "unavailable", remaining=keys)
    if "erase" not in connector.spec.capabilities:
        failed = held and bool(targets)
        return ToolResult(tool, "failed" if failed else "not_present", "not_supported", remaining=keys)
    asked = [*targets, *(e for e in extras if e.key not in set(keys))]
    try:
        outcomes = connector.erase(asked)
    except Exception as error:  # any failure of one tool is reported, never hidden or fatal
        return ToolResult(tool, "failed", type(error).__name__, remaining=keys)
    if len(outcomes) != len(asked):
        return ToolResult(tool, "failed", "answered_wrongly", remaining=keys)
    erased = sum(1 for o in outcomes if o.found)
    if not held:
        return ToolResult(tool, "erased" if erased else "not_present", erased=erased)
    mine = outcomes[: len(targets)]
    missing = tuple(t.key for t, o in zip(targets, mine, strict=True) if not (o.found or o.absent))
    if missing:
        return ToolResult(tool, "failed", "not_found", erased=erased, remaining=missing)
    return ToolResult(tool, "erased" if erased or targets else "not_present", erased=erased)


__all__ = ["ErasesPushedRecords", "ToolResult", "ToolStatus", "erase_in_tool"]
