"""What privacy requests read and write beyond ``ProfileStore``: the ports and the records they keep.

``ErasureStore`` is implemented by core.storage.dynamodb_privacy (the one table) and
core.storage.memory_privacy (tests); ``DeadLetterQueue`` by core.storage.sqs_dead_letters. The
parametrised tests in ``tests/integration/test_privacy_stores.py`` hold every implementation to the
same behaviour; a new store adds itself there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from core.schema import SourceRecord

# --- items -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemKey:
    """The key of one item of the table."""

    pk: str
    sk: str

    @property
    def kind(self) -> str:
        """What the item is, for counts: profile, source, pushed, history, read, ident, holder,
        quarantined or other."""
        if self.pk.startswith("IDENT#"):
            return "holder" if self.sk.startswith("HOLDER#") else "ident"
        if self.pk.startswith("QUARANTINE#"):
            return "quarantined"
        if self.pk.startswith("READ#"):
            return "read"
        if self.sk.startswith("HISTORY#"):
            return "history"
        if self.sk == "PROFILE":
            return "profile"
        if self.sk.startswith("SOURCE#"):
            return "source"
        if self.sk.startswith("PUSHED#"):
            return "pushed"
        return "other"


@dataclass(frozen=True, slots=True)
class DeleteItem:
    """Delete one item; ``expected_owner`` guards an IDENT item, ``expected_version`` a PROFILE item.
    ``expected_at`` (with ``expected_owner``): the ``updated_at`` a ``source#`` IDENT item held when
    it was read, which it must hold still (a retirement's read: a touch committed since is kept)."""

    key: ItemKey
    expected_owner: str | None = None
    expected_version: int | None = None
    expected_at: datetime | None = None


ErasureStep = tuple[DeleteItem, ...]

AuditAction = Literal["erase", "export", "erase-retry", "unsuppress", "split", "review"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a privacy request did, without personal data: the identifier only as a keyed hash.

    ``requested_by`` is who asked (the IAM principal the caller named, or a ``requested_by`` field);
    ``invocation`` the id of the invocation that served it (CloudTrail's data events name the IAM
    principal of each invocation by this id). Audit items are written once and never overwritten.
    """

    action: AuditAction
    request_id: str
    at: datetime
    subject_hash: str
    outcome: str
    counts: Mapping[str, int] = field(default_factory=dict)
    tools: Mapping[str, str] = field(default_factory=dict)
    """Connector name -> erased, not_present or failed (<why>); never a vendor message."""
    requested_by: str = ""
    invocation: str = ""


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """A quarantined record as erasure and export see it: its key, the keyed hashes of the
    identifiers it normalises to (None for an item stored before they were kept), and its raw text."""

    key: ItemKey
    subjects: frozenset[str] | None
    raw: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PendingErasure:
    """An erasure some tool has not confirmed yet: what is left to ask each tool, by identifier key.

    Kept until every tool has answered (``{"action": "erase-retry"}`` asks again); it holds the ids
    of the person's records in those tools, and, for a person no customer matched, the identifier
    the request named: the least that finishing the job needs."""

    request_id: str
    subject_hash: str
    created_at: datetime
    tools: Mapping[str, tuple[str, ...]]
    held: bool
    """True when the keys are records we held (a tool not finding one is then a failure)."""
    attempts: int = 1
    requested_by: str = ""
    unheld: tuple[str, ...] = ()
    """The tools whose keys are asked without that duty whatever ``held`` says: for a request that
    found the person only through an orphan (``held``), the tools it named no record of hers in,
    asked by the identifier the request named. Empty in an item stored before it was kept."""

    def held_at(self, tool: str) -> bool:
        """Whether the keys kept for ``tool`` are records we held."""
        return self.held and tool not in self.unheld


# --- ports -------------------------------------------------------------------------------------------


class ErasureStore(Protocol):
    """The reads and writes privacy requests need beyond ``ProfileStore``."""

    @property
    def max_items_per_step(self) -> int:
        """How many deletes one atomic step may hold (DynamoDB: 100 per transaction)."""
        ...

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        """The keys of every item stored under the customer (``CUSTOMER#<cid>``: profile, records,
        pushes, history), whatever they are, and of the read audit of it (``READ#<cid>``)."""
        ...

    def apply(self, step: Sequence[DeleteItem]) -> None:
        """Delete the items all together or not at all; ConflictError if a guard failed."""
        ...

    def put_audit(self, record: AuditRecord) -> None:
        """Keep the audit record of one request; never overwrites one (ConflictError if it exists)."""
        ...

    def quarantined_items(self, connector: str) -> list[QuarantineItem]:
        """The quarantined records of ``connector``."""
        ...

    def holders(self, keys: Sequence[str]) -> dict[str, set[str]]:
        """The customers marked as holding each key another customer owns (``PutHolder``)."""
        ...

    def held_markers(self, customer_ids: Sequence[str]) -> dict[str, set[str]]:
        """The keys of the holder markers naming each of ``customer_ids``, under whatever value: held
        now or not (a record that dropped the value keeps its marker; markers written ahead of a
        changeset that never committed name a customer that never held it). An erasure deletes them
        all (core.person_scope)."""
        ...

    def put_pending(self, pending: PendingErasure) -> None:
        """Keep (or replace) the pending erasure of one request."""
        ...

    def pending_erasures(self) -> list[PendingErasure]:
        """Every erasure some tool has not confirmed yet, oldest first."""
        ...

    def delete_pending(self, request_id: str) -> None:
        """Forget a pending erasure (every tool confirmed it)."""
        ...


class DeadLetterQueue(Protocol):
    """The ingest dead-letter queue, as privacy requests see it: the records its messages hold."""

    def records(self) -> list[SourceRecord]:
        """Every record of every message in the queue (the messages stay where they are); one the
        current schema does not read, as what its raw values give (as ``remove`` judges it)."""
        ...

    def remove(self, matches: Callable[[SourceRecord], bool]) -> int:
        """Take the matching records out: each message holding one is replaced by a message with the
        others (or dropped when none is left). Returns how many records were removed."""
        ...


def apply_in_steps(erasure: ErasureStore, deletes: Sequence[DeleteItem]) -> None:
    """Delete ``deletes`` in order, as many a step as the store takes (``max_items_per_step``): each
    step all together or not at all, the steps one after the other (not atomic as a whole)."""
    size = max(1, erasure.max_items_per_step)
    for start in range(0, len(deletes), size):
        erasure.apply(tuple(deletes[start : start + size]))


__all__ = [
    "AuditAction",
    "AuditRecord",
    "DeadLetterQueue",
    "DeleteItem",
    "ErasureStep",
    "ErasureStore",
    "ItemKey",
    "PendingErasure",
    "QuarantineItem",
    "apply_in_steps",
]


@runtime_checkable
class ForgetsUnkeyed(Protocol):
    """A store whose identifier items may still lie under their value (DynamoDB's previous layout,
    core.storage.ident_keys) after the table was marked keyed."""

    def forget_unkeyed(self, keys: Sequence[str], owner: str) -> int:
        """Delete the identifier items of ``keys`` still under their value and owned by ``owner``
        (another's are left); how many went."""
        ...
