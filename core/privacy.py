"""Erase or export one person, found by an email or a phone: the data-subject requests (GDPR).

    identifier -> owner of its IDENT item -> the live customer (following merges)
      export: the profile and every source snapshot it was built from
      erase:  ask every connected tool to erase the person's identifiers
              -> delete every item of the customer (PROFILE, SOURCE#, PUSHED#), the IDENT items it
                 owns and the tombstones of customers merged into it, in guarded steps
              -> leave an audit record that holds no personal data

The deletes are conditional: the PROFILE item only at the version that was read, an IDENT item only
while this customer still owns it. A merge that changes the customer meanwhile makes a step fail;
the customer is then read again (by its id: its identifiers may already be gone) and the rest is
planned anew, so a concurrent merge is neither corrupted nor leaves data behind. The first step
deletes the PROFILE item and the identifiers, so no new record resolves to the customer after it;
the SOURCE items go last because they are where the identifiers are read from on a retry. Most
customers fit in one step (one transaction); a very large one is erased in idempotent steps, and a
request repeated after a crash finishes the job.

Tools are asked first: if one fails, the request is reported incomplete and can be sent again;
DynamoDB no longer knowing the person does not stop a repeated request from reaching the tools.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from core.connector import Connector
from core.errors import ConflictError
from core.normalise import normalise_email, normalise_phone
from core.pipeline import SPLIT_SERIES_LENGTH, IngestSettings, complete_merge, split_ids
from core.ports import CustomerState, ProfileStore
from core.schema import Identifier, Profile, SourceRecord

# --- what is stored ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemKey:
    """The key of one item of the table."""

    pk: str
    sk: str

    @property
    def kind(self) -> str:
        """What the item is, for counts: profile, source, pushed, ident or other."""
        if self.pk.startswith("IDENT#"):
            return "ident"
        if self.sk == "PROFILE":
            return "profile"
        if self.sk.startswith("SOURCE#"):
            return "source"
        if self.sk.startswith("PUSHED#"):
            return "pushed"
        return "other"


@dataclass(frozen=True, slots=True)
class DeleteItem:
    """Delete one item; ``expected_owner`` guards an IDENT item, ``expected_version`` a PROFILE item."""

    key: ItemKey
    expected_owner: str | None = None
    expected_version: int | None = None


ErasureStep = tuple[DeleteItem, ...]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a privacy request did, without personal data: the identifier only as a keyed hash."""

    action: Literal["erase", "export"]
    request_id: str
    at: datetime
    subject_hash: str
    outcome: str
    counts: Mapping[str, int] = field(default_factory=dict)
    tools: Mapping[str, str] = field(default_factory=dict)
    """Connector name -> erased, not_found, not_supported or failed (ErrorType); never a message."""


class ErasureStore(Protocol):
    """The writes erasure needs beyond ``ProfileStore``; see core.storage.dynamodb_privacy."""

    @property
    def max_items_per_step(self) -> int:
        """How many deletes one atomic step may hold (DynamoDB: 100 per transaction)."""
        ...

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        """The keys of every item stored under the customer (``CUSTOMER#<cid>``), whatever they are."""
        ...

    def apply(self, step: Sequence[DeleteItem]) -> None:
        """Delete the items all together or not at all; ConflictError if a guard failed."""
        ...

    def put_audit(self, record: AuditRecord) -> None:
        """Keep the audit record of one request."""
        ...

    def quarantined_items(self, connector: str) -> list[tuple[ItemKey, str]]:
        """The quarantined records of ``connector``: each key with its text (raw record and reason)."""
        ...


# --- finding the person -------------------------------------------------------------------------------


def identifier_for(*, email: str | None = None, phone: str | None = None, region: str = "US") -> Identifier:
    """The normalised identifier a request names; exactly one of ``email`` and ``phone``.

    Raises ValueError (a NormalisationError for a malformed value) whose message never repeats the
    value, so it can be logged and returned.
    """
    if (email is None) == (phone is None):
        raise ValueError("give exactly one of email or phone")
    if email is not None:
        return Identifier(kind="email", value=normalise_email(email))
    assert phone is not None
    return Identifier(kind="phone", value=normalise_phone(phone, region))


def subject_hash(salt: str, identifier: Identifier) -> str:
    """A keyed hash (HMAC-SHA256) of the identifier: the same person gives the same hash, so a later
    request can be matched to an audit record, but the hash cannot be reversed without the salt."""
    return hmac.new(salt.encode(), identifier.key.encode(), hashlib.sha256).hexdigest()


def locate(profiles: ProfileStore, identifier: Identifier) -> CustomerState | None:
    """The live customer that owns ``identifier`` (following merges), or None."""
    owner = profiles.get_owners([identifier.key]).get(identifier.key)
    return None if owner is None else _live(profiles, owner.customer_id)


def _live(profiles: ProfileStore, customer_id: str) -> CustomerState | None:
    seen: set[str] = set()
    cid = customer_id
    while cid not in seen:
        seen.add(cid)
        state = profiles.get_customers([cid]).get(cid)
        if state is None or not state.merged_into:
            return state
        cid = state.merged_into
    return None  # a cycle of tombstones cannot be written by the pipeline; treat as nobody


# --- export ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonExport:
    """Everything stored about one person: the profile and the source records it came from."""

    customer_id: str
    profile: Profile | None
    sources: tuple[SourceRecord, ...]


def export_person(profiles: ProfileStore, identifier: Identifier) -> PersonExport | None:
    """The person's profile and source snapshots, or None when nobody owns the identifier."""
    state = locate(profiles, identifier)
    if state is None:
        return None
    sources = tuple(sorted(state.snapshots.values(), key=lambda r: r.key))
    return PersonExport(state.customer_id, state.profile, sources)


# --- erasure -----------------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    """What one erase request did. ``counts`` holds deleted items by kind; ``tools`` each tool's answer."""

    found: bool
    outcome: str
    counts: Counter[str] = field(default_factory=Counter)
    tools: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    retries: int = 0

    @property
    def complete(self) -> bool:
        return not any(v.startswith("failed") for v in self.tools.values())


def mentions(text: str, identifier: Identifier) -> bool:
    """Whether raw text (a quarantined record) names the identifier: an email in any letter case, a
    phone by its digits whatever the separators (the E.164 number without its leading 1-3 country
    digits still matches a national form such as ``020 7946 0018``)."""
    if identifier.kind == "email":
        return identifier.value in text.lower()
    if identifier.kind == "phone":
        digits = "".join(c for c in text if c.isdigit())
        national = identifier.value.lstrip("+")[-9:]  # the subscriber number survives any prefix style
        return len(national) >= 7 and national in digits
    return False


def tool_identifiers(tool: str, identifier: Identifier, state: CustomerState | None) -> list[Identifier]:
    """What to ask ``tool`` to erase: the request's identifier, every email and phone the person has,
    and the ids the person has in that tool (``source`` identifiers of its own records)."""
    found: dict[str, Identifier] = {identifier.key: identifier}
    for snapshot in state.snapshots.values() if state is not None else ():
        for ident in snapshot.identifiers:
            if ident.kind != "source" or ident.value.startswith(f"{tool}:"):
                found.setdefault(ident.key, ident)
    return sorted(found.values(), key=lambda i: (i.kind, i.value))


def ask_tools(
    tools: Mapping[str, Connector], identifier: Identifier, state: CustomerState | None
) -> dict[str, str]:
    """Ask every tool that can erase to erase the person; one tool failing does not stop the others.

    A failure is recorded by its error type only: vendor messages may quote the address.
    """
    answers: dict[str, str] = {}
    for name in sorted(tools):
        connector = tools[name]
        if "erase" not in connector.spec.capabilities:
            answers[name] = "not_supported"
            continue
        try:
            outcomes = connector.erase(tool_identifiers(name, identifier, state))
        except Exception as error:  # any failure of one tool is reported, never hidden or fatal
            answers[name] = f"failed ({type(error).__name__})"
            continue
        answers[name] = "erased" if any(o.found for o in outcomes) else "not_found"
    return answers


def plan_erasure(
    customer: str,
    state: CustomerState | None,
    items: Sequence[ItemKey],
    owned_idents: Sequence[str],
    absorbed: Mapping[str, tuple[int, Sequence[ItemKey]]],
    limit: int,
) -> list[ErasureStep]:
    """The deletes that remove ``customer`` and everything that points to it, in steps of ``limit``.

    Order: its PROFILE item (guarded by the version read) and the IDENT items it owns (guarded by
    the owner) first, then the items of customers merged into it (their tombstones guarded by their
    version), then PUSHED# and any other item, and the SOURCE# items last.
    """
    deletes: list[DeleteItem] = []
    profile = ItemKey(f"CUSTOMER#{customer}", "PROFILE")
    if profile in items:
        deletes.append(DeleteItem(profile, expected_version=state.version if state is not None else 0))
    deletes.extend(DeleteItem(ItemKey(f"IDENT#{k}", "IDENT"), expected_owner=customer) for k in owned_idents)
    for absorbed_id in sorted(absorbed):
        version, keys = absorbed[absorbed_id]
        deletes.extend(
            DeleteItem(key, expected_version=version if key.sk == "PROFILE" else None)
            for key in sorted(keys, key=lambda k: (k.sk != "PROFILE", k.sk))
        )
    rest = sorted((k for k in items if k != profile), key=lambda k: (k.kind == "source", k.sk))
    deletes.extend(DeleteItem(k) for k in rest)
    size = max(1, limit)
    return [tuple(deletes[i : i + size]) for i in range(0, len(deletes), size)]


def erase_person(
    identifier: Identifier,
    *,
    profiles: ProfileStore,
    erasure: ErasureStore,
    tools: Mapping[str, Connector],
    salt: str,
    request_id: str,
    unavailable: Mapping[str, str] | None = None,
    quarantine_of: Sequence[str] = (),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_attempts: int = 8,
    sleep: Callable[[float], None] = time.sleep,
) -> ErasureReport:
    """Erase the person everywhere and write the audit record; see the module docstring for the order.

    ``unavailable`` names the tools that should have been asked but could not be built (missing
    credentials, say) with the error type; they count as failed. The quarantines of the connectors
    in ``quarantine_of`` are searched too: a record quarantined for another reason (a bad date, say)
    still holds the person's email or phone in its raw form. Raises ConflictError if the customer
    kept changing for ``max_attempts`` rounds (the audit record then says ``retry``, and sending the
    request again finishes the job).
    """
    state = locate(profiles, identifier)
    report = ErasureReport(found=state is not None, outcome="")
    report.tools = ask_tools(tools, identifier, state)
    report.tools.update({name: f"failed ({reason})" for name, reason in (unavailable or {}).items()})
    error: ConflictError | None = None
    if state is not None:
        try:
            _erase_customer(state.customer_id, profiles, erasure, report, max_attempts, sleep)
        except ConflictError as exc:
            error = exc
    people = [i for i in tool_identifiers("", identifier, state) if i.kind in ("email", "phone")]
    for connector in quarantine_of:
        found = [
            key
            for key, text in erasure.quarantined_items(connector)
            if any(mentions(text, i) for i in people)
        ]
        for start in range(0, len(found), erasure.max_items_per_step):
            erasure.apply(tuple(DeleteItem(k) for k in found[start : start + erasure.max_items_per_step]))
        report.counts["quarantined"] += len(found)
    if error is not None:
        report.outcome = "retry"
    elif not report.complete:
        report.outcome = "incomplete"
    else:
        report.outcome = "erased" if report.found else "not_found"
    erasure.put_audit(
        AuditRecord(
            action="erase",
            request_id=request_id,
            at=now(),
            subject_hash=subject_hash(salt, identifier),
            outcome=report.outcome,
            counts=dict(report.counts),
            tools=dict(report.tools),
        )
    )
    if error is not None:
        raise error
    return report


def _erase_customer(
    customer: str,
    profiles: ProfileStore,
    erasure: ErasureStore,
    report: ErasureReport,
    max_attempts: int,
    sleep: Callable[[float], None],
) -> None:
    settings = IngestSettings(sleep=sleep)
    for attempt in range(max_attempts):
        try:
            state = profiles.get_customers([customer]).get(customer)
            if state is not None and state.merged_into:
                customer = state.merged_into  # merged away meanwhile: the survivor is the person now
                continue
            if state is not None and (state.merging_into or state.absorbing):
                # A large merge is in flight: finish it (idempotent) and erase what it leaves.
                if state.merging_into:
                    complete_merge(profiles, customer, state.merging_into, settings)
                for absorbed in sorted(state.absorbing):
                    complete_merge(profiles, absorbed, customer, settings)
                continue
            items = erasure.customer_items(customer)
            if not items:
                return
            plan = plan_erasure(
                customer,
                state,
                items,
                _owned_idents(profiles, customer, state),
                _absorbed(profiles, erasure, customer, state),
                erasure.max_items_per_step,
            )
            for step in plan:
                erasure.apply(step)
                report.steps += 1
                for delete in step:
                    report.counts[delete.key.kind] += 1
            # Loop once more: an item written while the steps ran is found and deleted too.
        except ConflictError:
            report.retries += 1
            sleep(random.uniform(0, 0.02 * 2**attempt))
    raise ConflictError(
        f"customer {customer} kept changing while it was erased; send the request again to finish"
    )


def _owned_idents(profiles: ProfileStore, customer: str, state: CustomerState | None) -> list[str]:
    if state is None:
        return []
    candidates = set(state.owned)
    for snapshot in state.snapshots.values():
        candidates.update(i.key for i in snapshot.identifiers)
    owners = profiles.get_owners(sorted(candidates))
    return sorted(k for k, o in owners.items() if o.customer_id == customer)


def _absorbed(
    profiles: ProfileStore, erasure: ErasureStore, customer: str, state: CustomerState | None
) -> dict[str, tuple[int, list[ItemKey]]]:
    """Customers merged into this one, directly or through others, found through the ids their
    records gave them (deterministic: the founding id, then the series a split gives out in order,
    ``core.pipeline.split_ids``), with their tombstone's version and their items."""
    if state is None:
        return {}
    series = {key: split_ids(key) for key in state.snapshots}
    seen: dict[str, CustomerState] = {}
    todo = sorted(series)
    for n in range(SPLIT_SERIES_LENGTH + 1):
        if not todo:
            break
        ids = {series[key][n]: key for key in todo}
        seen.update(profiles.get_customers(sorted(set(ids) - {customer})))
        # A series is given out in order: look further only past an id that was used.
        todo = sorted(key for cid, key in ids.items() if cid in seen or cid == customer)
    # Merged into this customer, or into one merged into it (A into B, then B into this one).
    into = {customer}
    merged: list[str] = []
    grew = True
    while grew:
        grew = False
        for cid, other in seen.items():
            if cid not in into and other.merged_into in into:
                into.add(cid)
                merged.append(cid)
                grew = True
    return {cid: (seen[cid].version, erasure.customer_items(cid)) for cid in sorted(merged)}


__all__ = [
    "AuditRecord",
    "DeleteItem",
    "ErasureReport",
    "ErasureStep",
    "ErasureStore",
    "ItemKey",
    "PersonExport",
    "ask_tools",
    "erase_person",
    "export_person",
    "identifier_for",
    "locate",
    "plan_erasure",
    "subject_hash",
    "tool_identifiers",
]
