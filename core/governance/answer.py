"""One read of one person, for one caller, from lookup to audited answer. Pure; readable top to bottom.

    the route the caller's role may use? (history, explain and reads need their own grant)
    -> find the live customer (core.governance.reading; following merges)
    -> read what the route shows: profile and sources / a history page / all sources to explain /
       the read audit
    -> render it through the role's grant (core.governance.view.render: the one filter)
    -> record the read (who, which customer, which fields), then answer

The read is recorded before the answer is returned: if the audit cannot be written, the caller gets
an error and no data (``ReadAudit.record_read`` raises). The profile API (functions/profiles.py),
``profilesync serve-api`` and ``profilesync profile show`` all answer through ``answer_read``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.governance.errors import AccessDeniedError, BadLookupError
from core.governance.explain import LinkSource, explain
from core.governance.history import HistoryStore, check_page_size
from core.governance.policy import RoleGrant
from core.governance.reading import (
    MAX_SOURCES_PAGE,
    Lookup,
    PersonPage,
    ProfileReader,
    ReadAudit,
    ReadRecord,
    ReadRoute,
    find_person,
    page_size,
)
from core.governance.view import Answer, Document, render
from core.identity import IdentityPolicy

#: How far back ``GET /profiles/{id}/reads`` looks (the read audit's retention).
READS_WINDOW = timedelta(days=90)
#: Source records an explanation reads at most (pages of MAX_SOURCES_PAGE).
MAX_EXPLAINED_SOURCES = 20 * MAX_SOURCES_PAGE


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the signing principal (an IAM ARN, or ``local:``/``cli:`` locally) and its role."""

    principal: str
    role: str
    grant: RoleGrant


@dataclass(frozen=True, slots=True)
class ReadRequest:
    route: ReadRoute
    lookup: Lookup
    limit: int | None = None
    page: str | None = None
    """The ``next`` token of the previous page, as given to the caller."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer: 200 with the document, or 404 (nobody) with a message."""

    status: int
    document: Document
    customer_id: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sources:
    """Where the answer's parts are read from."""

    reader: ProfileReader
    history: HistoryStore
    audit: ReadAudit
    links: LinkSource | None = None
    identity: IdentityPolicy | None = None


def answer_read(
    request: ReadRequest, caller: Caller, sources: Sources, *, request_id: str, now: datetime
) -> Outcome:
    """Answer ``request`` for ``caller``; see the module docstring. Raises AccessDeniedError when the
    role may not use the route, BadLookupError for a page token this API did not give."""
    grant = caller.grant
    _check_route(request.route, caller)
    limit = page_size(request.limit)
    if request.route == "profile":
        offset = _decode(request.page, "sources") if request.page else 0
        person = find_person(
            sources.reader, request.lookup, sources=grant.needs_sources, limit=limit, offset=int(offset)
        )
    else:
        person = find_person(sources.reader, request.lookup, sources=False)
    if person is None:
        return Outcome(404, {"message": "no customer has this identifier or id"})
    cid = person.customer_id
    answer = Answer(cid, person=person)
    if request.route == "history":
        after = str(_decode(request.page, "history")) if request.page else None
        page = sources.history.list_history(cid, limit=check_page_size(limit), after=after)
        answer = Answer(cid, history=page)
    elif request.route == "explain":
        records = _all_sources(sources.reader, cid)
        answer = Answer(
            cid,
            explanation=explain(cid, records, policy=sources.identity, links=_links(sources, cid, records)),
        )
    elif request.route == "reads":
        answer = Answer(cid, reads=sources.audit.reads_of(cid, since=now - READS_WINDOW))
    view = render(answer, grant)
    document = dict(view.document)
    if request.route == "profile" and "next" in document:
        document["next"] = _encode("sources", document["next"])
    history = document.get("history")
    if isinstance(history, dict) and history.get("next") is not None:
        document["history"] = {**history, "next": _encode("history", history["next"])}
    sources.audit.record_read(
        ReadRecord(
            customer_id=cid,
            at=now,
            request_id=request_id,
            principal=caller.principal,
            role=caller.role,
            route=request.route,
            lookup=request.lookup.kind,
            fields=view.fields,
        )
    )
    return Outcome(200, document, cid, view.fields)


def _check_route(route: ReadRoute, caller: Caller) -> None:
    allowed = {
        "profile": True,
        "history": caller.grant.history,
        "explain": caller.grant.explain,
        "reads": caller.grant.reads,
    }[route]
    if not allowed:
        raise AccessDeniedError(
            f"role {caller.role!r} may not read {route}; ask for a role that grants it in the role policy"
        )


def _all_sources(reader: ProfileReader, customer_id: str) -> list[Any]:
    records: list[Any] = []
    offset = 0
    while offset < MAX_EXPLAINED_SOURCES:
        page = reader.read_person(customer_id, sources=True, limit=MAX_SOURCES_PAGE, offset=offset)
        if page is None:
            break
        records.extend(page.sources)
        if page.next is None:
            break
        offset = page.next
    return records


def _links(sources: Sources, customer_id: str, records: list[Any]) -> list[Any]:
    return list(sources.links.links_of(customer_id, records)) if sources.links is not None else []


# Page tokens are opaque to the caller and hold no personal data: an offset into the sources, or the
# sort key of a history event (a time and an event id).


def _encode(kind: str, value: Any) -> str:
    raw = json.dumps({"k": kind, "v": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str | None, kind: str) -> Any:
    problem = BadLookupError("next= is not a page token this API gave for this list; start again without it")
    if not token:
        raise problem
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise problem from None
    if not isinstance(data, dict) or data.get("k") != kind:
        raise problem
    value = data.get("v")
    if kind == "sources" and not (isinstance(value, int) and 0 <= value <= MAX_EXPLAINED_SOURCES):
        raise problem
    if kind == "history" and not (isinstance(value, str) and 0 < len(value) <= 200 and "#" in value):
        raise problem
    return value


def page_person(person: PersonPage) -> str | None:
    """The ``next`` token of a page of sources (for callers that page themselves)."""
    return None if person.next is None else _encode("sources", person.next)


__all__ = ["READS_WINDOW", "Caller", "Outcome", "ReadRequest", "Sources", "answer_read", "page_person"]
