"""Salesforce's writes: push through sObject Collections, the custom fields it needs, and erase.

Vendor facts and their sources are in ``_declaration``. Everything here goes through the paced,
retrying clients of ``RestContext`` (``push`` and ``erase``; lookups on ``pull``), and so through
the daily allowance.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

from connectors._http import ConnectorRequestError
from connectors.sdk import RestContext
from core.connector import EraseOutcome, Payload, PushOutcome
from core.errors import ConnectorConfigError
from core.schema import Identifier

from ._declaration import DATA, EXTERNAL_ID, PUSH_BATCH, PUSH_FIELDS, PUSH_OBJECTS, QUERY

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Per-record errors a later attempt can get past (a row lock held by another transaction).
RETRYABLE_CODES: Final = frozenset({"UNABLE_TO_LOCK_ROW", "REQUEST_RUNNING_TOO_LONG", "SERVER_UNAVAILABLE"})
#: The most subrequests one (Tooling) composite request may hold.
COMPOSITE_MAX: Final = 25


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _errors(result: Mapping[str, Any]) -> tuple[str, bool]:
    """A failed record's errors as one line, and whether sending it again can succeed."""
    errors = [e for e in result.get("errors") or [] if isinstance(e, Mapping)]
    codes = [str(e.get("statusCode") or e.get("errorCode") or "") for e in errors]
    text = "; ".join(
        f"{code}: {e.get('message', '')}" + (f" ({', '.join(e['fields'])})" if e.get("fields") else "")
        for code, e in zip(codes, errors, strict=True)
    )
    return text or "Salesforce did not say why", bool(codes) and all(c in RETRYABLE_CODES for c in codes)


def _collection(
    context: RestContext, path: str, records: list[tuple[int, dict[str, Any]]]
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Send ``records`` to one sObject Collections resource, 200 a request: (payload index, result)."""
    client = context.client("push")
    for chunk in _chunks(records, PUSH_BATCH):
        body = {"allOrNone": False, "records": [record for _, record in chunk]}
        try:
            # Updating by id and upserting on an external id both leave the same records when repeated.
            _, answer = client.exchange_json("PATCH", path, json=body, idempotent=True)
        except ConnectorRequestError as exc:
            failed = {"success": False, "errors": [{"statusCode": str(exc.status), "message": str(exc)}]}
            yield from ((index, failed) for index, _ in chunk)
            continue
        results = answer if isinstance(answer, list) else []
        if len(results) != len(chunk):
            missing = {"success": False, "errors": [{"statusCode": "NO_RESULT", "message": "no result"}]}
            results = [*results, *[missing] * (len(chunk) - len(results))][: len(chunk)]
        yield from ((index, result) for (index, _), result in zip(chunk, results, strict=True))


def send(context: RestContext, payloads: Sequence[Payload]) -> list[PushOutcome]:
    """Update the people Salesforce holds by record id; create the others as Contacts by external id."""
    updates: list[tuple[int, dict[str, Any]]] = []
    creates: list[tuple[int, dict[str, Any]]] = []
    for index, payload in enumerate(payloads):
        fields = dict(payload.body.get("fields", {}))
        updates.extend(
            (index, {"attributes": {"type": t["type"]}, "Id": t["id"], **fields})
            for t in payload.body.get("update", [])
        )
        if "create" in payload.body:
            person = {k: v for k, v in payload.body["create"].items() if v is not None}
            creates.append((index, {"attributes": {"type": "Contact"}, **person, **fields}))
    results: dict[int, list[Mapping[str, Any]]] = {}
    for index, result in _collection(context, f"{DATA}/composite/sobjects", updates):
        results.setdefault(index, []).append(result)
    for index, result in _collection(context, f"{DATA}/composite/sobjects/Contact/{EXTERNAL_ID}", creates):
        results.setdefault(index, []).append(result)
    out: list[PushOutcome] = []
    for index, payload in enumerate(payloads):
        mine = results.get(index, [])
        failed = [r for r in mine if r.get("success") is not True]
        remote = next((str(r["id"]) for r in mine if r.get("id")), None)
        if not mine:
            out.append(PushOutcome(payload.customer_id, ok=False, error="nothing to update or create"))
        elif failed:
            texts = [_errors(r) for r in failed]
            error = "; ".join(text for text, _ in texts)
            retryable = all(again for _, again in texts)
            out.append(
                PushOutcome(payload.customer_id, ok=False, remote_id=remote, error=error, retryable=retryable)
            )
        else:
            out.append(PushOutcome(payload.customer_id, ok=True, remote_id=remote))
    return out


def missing_fields(context: RestContext) -> list[tuple[str, str, dict[str, Any]]]:
    """(object, field, metadata) of every ProfileSync field the org lacks: both describes in one call."""
    request = {
        "allOrNone": False,
        "compositeRequest": [
            {"method": "GET", "url": f"{DATA}/sobjects/{name}/describe", "referenceId": name}
            for name in PUSH_OBJECTS
        ],
    }
    answer = context.client("push").post_json(f"{DATA}/composite", json=request, idempotent=True)
    have: dict[str, set[str]] = {}
    for part in (answer or {}).get("compositeResponse", []):
        if part.get("httpStatusCode") != 200:
            raise ConnectorConfigError(
                f"salesforce: describing {part.get('referenceId')} failed ({part.get('body')}); give the "
                "integration user read access to Contact and Lead"
            )
        have[str(part["referenceId"])] = {str(f.get("name")) for f in part["body"].get("fields", [])}
    return [
        (name, field, meta)
        for name in PUSH_OBJECTS
        for field, meta in PUSH_FIELDS.values()
        if field not in have.get(name, set())
    ]


def create_fields(context: RestContext, fields: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
    """Create custom fields through Tooling API composite requests (25 subrequests, one API call)."""
    for chunk in _chunks(fields, COMPOSITE_MAX):
        request = {
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{DATA}/tooling/sobjects/CustomField",
                    "referenceId": f"{name}_{field}",
                    "body": {"FullName": f"{name}.{field}", "Metadata": meta},
                }
                for name, field, meta in chunk
            ],
        }
        answer = context.client("push").post_json(f"{DATA}/tooling/composite", json=request, idempotent=True)
        for part in (answer or {}).get("compositeResponse", []):
            status = int(part.get("httpStatusCode") or 0)
            said = part.get("body")
            codes = (
                {str(e.get("errorCode")) for e in said if isinstance(e, Mapping)}
                if isinstance(said, list)
                else set()
            )
            # Another run creating the same field at the same moment is as good as this one doing it.
            if 200 <= status < 300 or "DUPLICATE_DEVELOPER_NAME" in codes:
                continue
            raise ConnectorConfigError(
                f"salesforce: creating the custom field {part.get('referenceId')} failed ({said}); give the "
                "integration user the Customize Application permission, or create the ProfileSync_* "
                "fields by hand (docs/connectors.md, Salesforce)"
            )
        logger.info("salesforce: created %d custom fields", len(chunk))


def soql_text(value: str) -> str:
    """A SOQL string literal: quotes and backslashes escaped as SOQL's reference says."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return f"'{escaped}'"


def _unicode_domain(email: str) -> str:
    local, _, domain = email.rpartition("@")
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}" if local else email
    except UnicodeError:
        return email


_GONE: Final = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"})


def _erase_ids(context: RestContext, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
    """Delete the Contacts and Leads whose ids we hold (``salesforce:contact:<Id>``); a record
    Salesforce reports deleted or unknown is confirmed absent. An Opportunity is the account's deal:
    it holds no person of its own once its contact goes (its contact role goes with the contact)."""
    out: dict[int, EraseOutcome] = {}
    wanted: dict[str, int] = {}
    for index, identifier in enumerate(identifiers):
        _, kind, record_id = identifier.value.split(":", 2)
        if kind == "opportunity":
            out[index] = EraseOutcome(identifier, False, "an Opportunity goes with its contact", absent=True)
        else:
            wanted[record_id] = index
    for chunk in _chunks(list(wanted), PUSH_BATCH):
        _, answer = context.client("erase").exchange_json(
            "DELETE", f"{DATA}/composite/sobjects", params={"ids": ",".join(chunk), "allOrNone": "false"}
        )
        for result in answer if isinstance(answer, list) else []:
            named = wanted.get(str(result.get("id")))
            if named is None:
                continue
            index = named
            codes = {str(e.get("statusCode")) for e in result.get("errors") or []}
            if result.get("success") is True:
                out[index] = EraseOutcome(identifiers[index], True, "deleted (15 days in the Recycle Bin)")
            elif codes and codes <= _GONE:
                out[index] = EraseOutcome(identifiers[index], False, "already deleted", absent=True)
            else:
                out[index] = EraseOutcome(identifiers[index], False, f"refused: {_errors(result)[0]}")
    return [out.get(i) or EraseOutcome(identifiers[i], False, "no answer") for i in range(len(identifiers))]


def erase(context: RestContext, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
    """Delete the Contacts and Leads of each identifier: the records whose ids we hold, or every
    Contact and Lead with an email (SOQL email comparison ignores case)."""
    own = [i for i in identifiers if i.kind == "source" and i.value.startswith("salesforce:")]
    by_id = iter(_erase_ids(context, own))
    out: list[EraseOutcome] = []
    for identifier in identifiers:
        if identifier.kind == "source" and identifier.value.startswith("salesforce:"):
            out.append(next(by_id))
            continue
        if identifier.kind != "email":
            out.append(EraseOutcome(identifier, False, "Salesforce erases by email or record id"))
            continue
        forms = ", ".join(
            soql_text(v) for v in dict.fromkeys((identifier.value, _unicode_domain(identifier.value)))
        )
        ids: list[str] = []
        for name in ("Contact", "Lead"):
            found = context.client("pull").get_json(
                QUERY, params={"q": f"SELECT Id FROM {name} WHERE Email IN ({forms})"}
            )
            ids.extend(str(r["Id"]) for r in (found or {}).get("records", []))
        failures: list[str] = []
        for chunk in _chunks(ids, PUSH_BATCH):
            _, answer = context.client("erase").exchange_json(
                "DELETE", f"{DATA}/composite/sobjects", params={"ids": ",".join(chunk), "allOrNone": "false"}
            )
            for result in answer if isinstance(answer, list) else []:
                codes = {str(e.get("statusCode")) for e in result.get("errors") or []}
                # Deleted already (by someone else, or an earlier attempt of this erase): as good as done.
                if result.get("success") is not True and not codes <= _GONE:
                    failures.append(f"{result.get('id')}: {_errors(result)[0]}")
        detail = f"deleted {len(ids) - len(failures)} of {len(ids)} Contact/Lead record(s)"
        out.append(
            EraseOutcome(
                identifier,
                found=bool(ids),
                detail=detail + (f"; failed: {'; '.join(failures)}" if failures else ""),
            )
        )
    return out


__all__ = ["create_fields", "erase", "missing_fields", "send", "soql_text"]
