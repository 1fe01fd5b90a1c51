"""The HubSpot connector's push: contacts HubSpot holds updated by record id (batch update, which
creates nobody), the others upserted by email, at most 100 a request; the ``profilesync`` property
group and contact properties created first if missing; per-input outcomes from 200 and 207 answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from connectors._http import ConnectorRequestError, secret_env_var, value_at
from core.connector import Payload, PushOutcome
from core.errors import ProfileSyncError
from core.schema import Profile

from ._client import (
    BATCH_SIZE,
    CREDENTIAL,
    GROUPS_PATH,
    PROPERTIES_PATH,
    UPDATE_PATH,
    UPSERT_PATH,
    HubSpotClient,
)
from ._mapping import (
    CUSTOM_PROPERTIES,
    PROPERTY_GROUP,
    PROPERTY_GROUP_LABEL,
    contact_id,
    payload_for,
    upsert_input,
)

#: Per-record error categories (batch ``errors[].category``) that may succeed when sent again.
RETRYABLE_CATEGORIES: Final = frozenset({"RATE_LIMITS", "LOCKED", "TIMEOUT", "INTERNAL_ERROR"})


class HubSpotPush(HubSpotClient):
    """``from_profile``, ``push`` and ``ensure_properties`` of ``HubSpotConnector``."""

    _mode: str
    _properties_lock: threading.Lock
    _properties_ready: bool

    # --- push -------------------------------------------------------------------------------------
    def from_profile(self, profile: Profile) -> Payload | None:
        """The upsert for this profile (matched on email), or None when it has no email."""
        return payload_for(profile)

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """Push ``payloads``, at most 100 a request, creating the ``profilesync_*`` contact properties
        first if the account lacks them. One outcome per payload, in order.

        A payload with a ``remote_id`` (a contact HubSpot holds) is updated by that record id with batch
        update, which never creates anyone; the others are upserted by email. A contact HubSpot no
        longer has is upserted by email in ``upsert`` mode and reported as failed in ``update`` mode.
        """
        if not payloads:
            return []
        self.ensure_properties()
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        by_id = [i for i, p in enumerate(payloads) if p.remote_id]
        gone: list[int] = []
        for batch in _batches([payloads[i] for i in by_id], BATCH_SIZE, key=_remote_key):
            sent = [by_id[i] for i in batch]
            for index, outcome in zip(sent, self._update([payloads[i] for i in sent]), strict=True):
                if outcome is None:
                    gone.append(index)
                else:
                    outcomes[index] = outcome
        if gone and self._mode == "update":
            for index in gone:
                outcomes[index] = _failed(
                    payloads[index],
                    f"HubSpot no longer has contact {payloads[index].remote_id}; in update mode profilesync "
                    "creates nobody (switch the instance to upsert to create it again)",
                    retryable=False,
                )
            gone = []
        by_email = [i for i, p in enumerate(payloads) if not p.remote_id] + gone
        for batch in _batches([payloads[i] for i in by_email], BATCH_SIZE):
            sent = [by_email[i] for i in batch]
            for index, outcome in zip(sent, self._send([payloads[i] for i in sent]), strict=True):
                outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    def _update(self, batch: list[Payload]) -> list[PushOutcome | None]:
        """Batch-update contacts by record id; None for a contact HubSpot does not have (any more)."""
        inputs = [{"id": str(p.remote_id), "properties": upsert_input(p)["properties"]} for p in batch]
        try:
            # Setting the same values twice leaves the contact as set once.
            _, data = self._api.exchange_json("POST", UPDATE_PATH, json={"inputs": inputs}, idempotent=True)
        except ConnectorRequestError as exc:
            message = exc.vendor_message or str(exc)
            return [_failed(p, message, retryable=False) for p in batch]
        return update_outcomes(batch, data)

    def _send(self, batch: list[Payload]) -> list[PushOutcome]:
        """Upsert one batch. When HubSpot rejects the whole batch (400) naming some inputs' emails, those
        inputs fail with its message and the rest are sent again; a rejection naming no input is about
        the request itself, so every input fails with it."""
        outcomes: dict[int, PushOutcome] = {}
        pending = list(range(len(batch)))
        while pending:
            try:
                _, data = self._api.exchange_json(
                    "POST",
                    UPSERT_PATH,
                    json={"inputs": [upsert_input(batch[i]) for i in pending]},
                    idempotent=True,  # an upsert sent twice leaves the contact as sent once
                )
            except ConnectorRequestError as exc:
                message = exc.vendor_message or str(exc)
                named = [i for i in pending if batch[i].match_key.strip().lower() in message.lower()]
                if exc.status not in (400, 422) or not named or len(named) == len(pending):
                    named = pending
                outcomes.update((i, _failed(batch[i], message, retryable=False)) for i in named)
                pending = [i for i in pending if i not in outcomes]
                continue
            sent = [batch[i] for i in pending]
            outcomes.update(zip(pending, batch_outcomes(sent, data), strict=True))
            pending = []
        return [outcomes[i] for i in range(len(batch))]

    def ensure_properties(self) -> None:
        """Create the ``profilesync`` property group and the custom contact properties push writes, if
        missing. Runs once per connector instance: one GET when everything exists already."""
        with self._properties_lock:
            if self._properties_ready:
                return
            listed = value_at(self._api.get_json(PROPERTIES_PATH), "results")
            names = (
                {p.get("name") for p in listed if isinstance(p, dict)} if isinstance(listed, list) else set()
            )
            missing = [p.definition() for p in CUSTOM_PROPERTIES if p.name not in names]
            if missing:
                self._ensure_group()
                _, data = self._api.exchange_json(
                    "POST", f"{PROPERTIES_PATH}/batch/create", json={"inputs": missing}, idempotent=True
                )
                errors = value_at(data, "errors")
                failures = [e for e in (errors if isinstance(errors, list) else []) if not _already_exists(e)]
                if failures:
                    raise ProfileSyncError(
                        "hubspot: could not create the profilesync contact properties: "
                        + "; ".join(str(e.get("message", e)) for e in failures if isinstance(e, dict))
                        + f" (check that {secret_env_var(CREDENTIAL)} may write contact schemas)"
                    )
            self._properties_ready = True

    def _ensure_group(self) -> None:
        try:
            self._api.get_json(f"{GROUPS_PATH}/{PROPERTY_GROUP}")
            return
        except ConnectorRequestError as exc:
            if exc.status != 404:
                raise
        group = {"name": PROPERTY_GROUP, "label": PROPERTY_GROUP_LABEL, "displayOrder": -1}
        try:
            self._api.post_json(GROUPS_PATH, json=group, idempotent=True)
        except ConnectorRequestError as exc:
            if exc.status != 409:  # created meanwhile (another run, or our own retried POST)
                raise


def batch_outcomes(batch: Sequence[Payload], data: Any) -> list[PushOutcome]:
    """One outcome per input of a batch upsert answer (200, or 207 Multi-Status with ``errors``).

    Results are matched to inputs by email; errors by the input ids HubSpot lists in ``context`` (or
    quotes in the message). An input the answer does not mention is reported as a retryable failure.
    """
    results = value_at(data, "results")
    by_email: dict[str, str] = {}
    for result in results if isinstance(results, list) else []:
        properties = result.get("properties") if isinstance(result, dict) else None
        email = properties.get("email") if isinstance(properties, dict) else None
        if isinstance(email, str):
            by_email[email.strip().lower()] = contact_id(result)
    keys = {p.match_key.strip().lower() for p in batch}
    errors: dict[str, dict[str, Any]] = {}
    raw_errors = value_at(data, "errors")
    for error in raw_errors if isinstance(raw_errors, list) else []:
        if not isinstance(error, dict):
            continue
        for key in _error_ids(error) & keys:
            errors.setdefault(key, error)
        message = error.get("message")
        if isinstance(message, str):
            for key in keys:
                if key in message.lower():
                    errors.setdefault(key, error)
    mentioned_nothing = not by_email and not errors
    outcomes: list[PushOutcome] = []
    for payload in batch:
        key = payload.match_key.strip().lower()
        if key in errors:
            error = errors[key]
            outcomes.append(_failed(payload, _error_text(error), retryable=_retryable(error)))
        elif key in by_email:
            outcomes.append(PushOutcome(payload.customer_id, ok=True, remote_id=by_email[key] or None))
        elif mentioned_nothing and isinstance(results, list) and len(results) == len(batch):
            outcomes.append(PushOutcome(payload.customer_id, ok=True))
        else:
            outcomes.append(
                _failed(payload, "HubSpot's batch answer did not mention this contact", retryable=True)
            )
    return outcomes


def _error_ids(error: Mapping[str, Any]) -> set[str]:
    context = error.get("context")
    found: set[str] = set()
    if isinstance(context, dict):
        for values in context.values():
            if isinstance(values, list):
                found.update(v.strip().lower() for v in values if isinstance(v, str))
    return found


def _error_text(error: Mapping[str, Any]) -> str:
    category = error.get("category")
    message = error.get("message")
    text = message if isinstance(message, str) and message else "rejected without a message"
    return f"HubSpot {category}: {text}" if isinstance(category, str) and category else f"HubSpot: {text}"


def _retryable(error: Mapping[str, Any]) -> bool:
    status = str(error.get("status", ""))
    return error.get("category") in RETRYABLE_CATEGORIES or status in {
        "423",
        "429",
        "500",
        "502",
        "503",
        "504",
    }


def _already_exists(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    text = f"{error.get('category', '')} {error.get('message', '')}".lower()
    return "already exists" in text or "already_exists" in text


def _failed(payload: Payload, error: str, *, retryable: bool) -> PushOutcome:
    return PushOutcome(payload.customer_id, ok=False, error=error, retryable=retryable)


def update_outcomes(batch: Sequence[Payload], data: Any) -> list[PushOutcome | None]:
    """One outcome per input of a batch update answer (200, or 207 with ``errors``): ok for each id in
    ``results``, None for an id an ``OBJECT_NOT_FOUND`` error lists, a failure for any other error."""
    results = value_at(data, "results")
    done = {contact_id(r) for r in (results if isinstance(results, list) else [])}
    missing: set[str] = set()
    failed: dict[str, dict[str, Any]] = {}
    raw_errors = value_at(data, "errors")
    for error in raw_errors if isinstance(raw_errors, list) else []:
        if not isinstance(error, dict):
            continue
        for record_id in _error_ids(error):
            if error.get("category") == "OBJECT_NOT_FOUND":
                missing.add(record_id)
            else:
                failed.setdefault(record_id, error)
    outcomes: list[PushOutcome | None] = []
    for payload in batch:
        record_id = str(payload.remote_id).strip().lower()
        if record_id in failed:
            error = failed[record_id]
            outcomes.append(_failed(payload, _error_text(error), retryable=_retryable(error)))
        elif record_id in missing:
            outcomes.append(None)
        elif record_id in done:
            outcomes.append(PushOutcome(payload.customer_id, ok=True, remote_id=str(payload.remote_id)))
        else:
            outcomes.append(
                _failed(payload, "HubSpot's batch answer did not mention this contact", retryable=True)
            )
    return outcomes


def _remote_key(payload: Payload) -> str:
    return str(payload.remote_id)


def _email_key(payload: Payload) -> str:
    return payload.match_key.strip().lower()


def _batches(
    payloads: Sequence[Payload], size: int, key: Callable[[Payload], str] = _email_key
) -> list[list[int]]:
    """Indices of ``payloads`` in batches of at most ``size``, never two inputs with one ``key`` (email,
    or record id) in a batch (HubSpot rejects a batch that names the same id twice)."""
    batches: list[tuple[list[int], set[str]]] = []
    for index, payload in enumerate(payloads):
        key_of = key(payload)
        target = next((b for b in batches if len(b[0]) < size and key_of not in b[1]), None)
        if target is None:
            target = ([], set())
            batches.append(target)
        target[0].append(index)
        target[1].add(key_of)
    return [indices for indices, _ in batches]
