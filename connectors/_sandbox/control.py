"""What the shared contract tests drive besides requests: ``SandboxControl``, ``DeletesRecords`` and
``PurgesRecords``, and the text of what a sandbox holds (``holdings_text``, ``forgotten``)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from connectors._sandbox.faults import Faults, SandboxStats
from connectors._sandbox.pacing import SandboxClock
from core.connector import ConnectorSettings


def holdings_text(*parts: Any) -> str:
    """What a sandbox holds, as one JSON text to search (``SandboxControl.holdings``)."""
    return json.dumps(_plain(parts), ensure_ascii=False, default=str, sort_keys=True)


def _plain(value: Any) -> Any:
    """``value`` with every mapping's keys as text (a sandbox may key by tuples or numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def forgotten(value: str) -> str:
    """How a sandbox remembers what a vendor keeps after deleting a person (a suppression list): a
    digest, so the sandbox no longer holds the value itself, and a later request can still match it."""
    return hashlib.sha256(value.encode()).hexdigest()


@runtime_checkable
class SandboxControl(Protocol):
    """What the shared contract tests need from a sandbox, besides answering requests.

    Record keys are ``"<object_type>:<source_id>"``, the same ``object_type`` and ``source_id`` the
    connector's ``to_records`` gives the drafts it makes from that object.
    """

    name: str
    token: str
    faults: Faults
    stats: SandboxStats
    clock: SandboxClock

    def handle(self, request: httpx.Request) -> httpx.Response: ...

    def transport(self) -> httpx.MockTransport: ...

    def settings(self, transport: bool = True) -> ConnectorSettings:
        """Settings that reach this sandbox: its credentials and options, and (if ``transport``) its
        MockTransport; the base URL is the vendor's default unless the sandbox needs its own."""
        ...

    def record_keys(self) -> set[str]:
        """Every object a full pull must return."""
        ...

    def touch(self, keys: set[str], at: datetime | None = None) -> None:
        """Change a visible field of these objects, stamping them modified at ``at`` (default now)."""
        ...

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        """Create ``count`` new people's objects, all modified at ``at``; return their keys."""
        ...

    def holds(self, email: str) -> bool:
        """Whether the tool still has a person with this email (after erase it must not)."""
        ...

    def pushed_traits(self, email: str) -> dict[str, Any]:
        """What profilesync last pushed for this email (custom properties / merge fields / metafields)."""
        ...

    def holdings(self) -> str:
        """Everything the tool holds about people, as text (JSON): every record, and every copy of one
        (events, jobs, orders). An erasure test searches it for the erased person's email, phone,
        name and ids. A vendor's own suppression list is kept as the vendor keeps it (a hash), so
        that it holds no address either."""
        ...


@runtime_checkable
class DeletesRecords(Protocol):
    """A sandbox whose vendor reports deletions (``ConnectorSpec`` capability ``deletions``): it
    deletes objects as the vendor does, so that the vendor's API reports them the way it does
    (Salesforce's Recycle Bin, Stripe's ``customer.deleted`` event, HubSpot's archived contacts)."""

    def delete_records(self, keys: set[str], at: datetime | None = None) -> None:
        """Delete these objects (keys as ``SandboxControl.record_keys``) at ``at`` (default now)."""
        ...


@runtime_checkable
class PurgesRecords(Protocol):
    """A sandbox whose connector declares ``ConnectorSpec.refresh_lists``: it deletes objects the way
    the vendor does when it leaves no trace a pull can read (HubSpot's GDPR delete, Mailchimp's
    delete-permanent, Shopify's customer data erasure, Klaviyo's data privacy deletion job,
    WooCommerce's ``DELETE`` with ``force=true``): no deletion event, no tombstone, no archived
    listing; the object is simply no longer listed, and only a full refresh can tell
    (core.refresh_sweep). A test-only control, like ``touch``: it goes through the same code as the
    vendor's request, with no credential, limit or injected fault."""

    def purge_records(self, keys: set[str]) -> None:
        """Purge these objects (keys as ``SandboxControl.record_keys``); a key naming no object, or
        an object the vendor cannot purge that way, is a ``KeyError`` or ``ValueError``."""
        ...
