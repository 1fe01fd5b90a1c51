"""Erasing a person from Stripe: their customers and every charge that carries them, redacted.

Deleting a Stripe customer leaves its charges, and a charge keeps the person in its
``billing_details`` (email, name, phone, address) and ``receipt_email``; the charge update API
cannot blank those. Stripe's documented route for data-subject deletion is a **redaction job**
(https://docs.stripe.com/privacy/redaction, https://docs.stripe.com/api/privacy/redaction-job):

    POST /v1/privacy/redaction_jobs   objects[customers][0]=cus_..&objects[charges][0]=ch_..
        -> {"id": "prj_..", "object": "privacy.redaction_job", "status": "validating", ...}
    GET  /v1/privacy/redaction_jobs/{id}          validating -> ready (or failed)
    GET  /v1/privacy/redaction_jobs/{id}/validation_errors   when it failed: {"data": [{"code", ...}]}
    POST /v1/privacy/redaction_jobs/{id}/run      ready -> redacting -> succeeded

Redaction replaces the personal fields of the objects and of their related objects (events,
request logs) with ``[redacted]``; the objects stay, under their ids, and can no longer be used
for anything. It is irreversible and runs asynchronously: once the job runs, the erasure is
accepted. Redaction jobs are a public preview, so their requests name a preview API version
(``Stripe-Version``).

What is redacted: a ``stripe:customer:<id>`` identifier's customer and every charge made for it
(``GET /v1/charges?customer=``, so a charge pulled after the erasure is covered too); a
``stripe:charge:<id>`` identifier's charge; for an email, the customers with that email
(``GET /v1/customers?email=``, exact and case-sensitive: the canonical address and its Unicode
form) and their charges. A customer or charge Stripe does not have (404) is confirmed absent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, Final

from connectors._http import ConnectorRequestError
from connectors.sdk import RestContext
from connectors.stripe._redacted import is_redacted
from core.connector import EraseOutcome
from core.errors import ProfileSyncError
from core.schema import Identifier

CUSTOMERS: Final = "/v1/customers"
CHARGES: Final = "/v1/charges"
REDACTION_JOBS: Final = "/v1/privacy/redaction_jobs"
#: The preview API version redaction jobs are served under (the changelog's 2025-05-28.preview).
REDACTION_API_VERSION: Final = "2025-05-28.preview"
#: A job is polled this many times (waits of 1, 2, 4, ... s, at most 16 s) for each of its phases.
JOB_POLLS: Final = 8
PAGE: Final = 100
_PREVIEW: Final = {"Stripe-Version": REDACTION_API_VERSION}


class RedactionJobError(ProfileSyncError):
    """Stripe refused to redact an object (the job failed validation); the codes say why."""


def _own(identifier: Identifier) -> tuple[str, str]:
    if identifier.kind != "source" or not identifier.value.startswith("stripe:"):
        return "", ""
    _, kind, object_id = identifier.value.split(":", 2)
    return (kind, object_id) if kind in ("customer", "charge") and object_id else ("", "")


def _exists(context: RestContext, path: str, object_id: str) -> bool:
    """Whether Stripe still holds the object with personal data: not deleted, not redacted."""
    try:
        found = context.client("erase").get_json(f"{path}/{object_id}", headers=_PREVIEW)
    except ConnectorRequestError as error:
        if error.status == 404:
            return False
        raise
    found = found or {}
    # The preview API version shows a redacted object's ``redaction`` hash: nothing is left to erase
    # once its redaction has run (``processing``, ``redacted``: connectors/stripe/_redacted.py). A
    # status before the run (``validated``) or one Stripe adds later leaves the data at Stripe while a
    # cancel or a failed validation can still stop that job: the object is redacted by ours.
    return not found.get("deleted") and not is_redacted(found)


def _unicode_domain(email: str) -> str:
    local, _, domain = email.rpartition("@")
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}" if local else email
    except UnicodeError:
        return email


def _listed(context: RestContext, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every object of a Stripe list, page by page (``starting_after`` the last id)."""
    query = {**params, "limit": PAGE}
    while True:
        page = context.client("erase").get_json(path, params=query) or {}
        data = page.get("data") or []
        yield from data
        if not page.get("has_more") or not data:
            return
        query["starting_after"] = data[-1]["id"]


def erase(context: RestContext, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
    """Redact the customers and charges of each identifier in one redaction job (see the module)."""
    outcomes: list[EraseOutcome | None] = [None] * len(identifiers)
    customers: dict[str, list[int]] = {}
    charges: dict[str, list[int]] = {}
    for index, identifier in enumerate(identifiers):
        kind, object_id = _own(identifier)
        if kind:
            path = CUSTOMERS if kind == "customer" else CHARGES
            if not _exists(context, path, object_id):
                outcomes[index] = EraseOutcome(identifier, False, f"no {kind} to redact", absent=True)
                continue
            (customers if kind == "customer" else charges).setdefault(object_id, []).append(index)
        elif identifier.kind == "email":
            for email in dict.fromkeys((identifier.value, _unicode_domain(identifier.value))):
                for customer in _listed(context, CUSTOMERS, {"email": email}):
                    customers.setdefault(str(customer["id"]), []).append(index)
        else:
            outcomes[index] = EraseOutcome(identifier, False, "Stripe is asked by id or email")
    for customer_id, named in list(customers.items()):
        for charge in _listed(context, CHARGES, {"customer": customer_id}):
            charges.setdefault(str(charge["id"]), []).extend(named)
    if customers or charges:
        job = _redact(context, sorted(customers), sorted(charges))
        for index in sorted({i for named in (*customers.values(), *charges.values()) for i in named}):
            outcomes[index] = EraseOutcome(identifiers[index], True, f"redaction job {job} accepted")
    return [
        o if o is not None else EraseOutcome(identifiers[i], False, "no Stripe customer has this email")
        for i, o in enumerate(outcomes)
    ]


def _redact(context: RestContext, customers: list[str], charges: list[str]) -> str:
    """Create, validate and run one redaction job; return its id once it runs."""
    client = context.client("erase")
    form = {f"objects[customers][{i}]": c for i, c in enumerate(customers)}
    form |= {f"objects[charges][{i}]": c for i, c in enumerate(charges)}
    form["validation_behavior"] = "error"
    # A create resent after a timeout must not queue a second job for the same objects (it would
    # fail validation, locked_by_other_job): Stripe answers a repeated Idempotency-Key with the first.
    key = hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()
    job = client.post_json(
        REDACTION_JOBS,
        form=form,
        headers={**_PREVIEW, "Idempotency-Key": f"profilesync-{key}"},
        idempotent=True,
    )
    job_id = str(job["id"])
    job = _wait(context, job)
    if job["status"] == "failed":
        errors = client.get_json(f"{REDACTION_JOBS}/{job_id}/validation_errors", headers=_PREVIEW) or {}
        codes = sorted({str(e.get("code")) for e in errors.get("data", [])}) or ["unknown"]
        raise RedactionJobError(
            f"stripe: redaction job {job_id} failed validation ({', '.join(codes)}); resolve it in the "
            "Stripe dashboard, then send the erasure again"
        )
    if job["status"] == "ready":
        # Once a job runs it cannot be cancelled or undone, and Stripe finishes it (up to days):
        # the erasure is accepted then, as Klaviyo's deletion job and Shopify's request are.
        job = client.post_json(f"{REDACTION_JOBS}/{job_id}/run", headers=_PREVIEW, idempotent=True)
    if job["status"] not in ("redacting", "succeeded"):
        raise RedactionJobError(
            f"stripe: redaction job {job_id} ended {job['status']}; send the erasure again"
        )
    return job_id


def _wait(context: RestContext, job: dict[str, Any]) -> dict[str, Any]:
    """Poll a job while Stripe validates it, boundedly (a job still validating is an error the
    next erase-retry resolves: creating it again returns the same job)."""
    for poll in range(JOB_POLLS):
        if job["status"] not in ("created", "validating"):
            return job
        context.retry.sleep(min(2.0**poll, 16.0))
        job = context.client("erase").get_json(f"{REDACTION_JOBS}/{job['id']}", headers=_PREVIEW)
    return job


__all__ = ["REDACTION_API_VERSION", "REDACTION_JOBS", "RedactionJobError", "erase"]
