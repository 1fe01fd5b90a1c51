"""Redaction jobs in the Stripe sandbox (https://docs.stripe.com/api/privacy/redaction-job).

``POST /v1/privacy/redaction_jobs`` with ``objects[customers][i]`` / ``objects[charges][i]`` creates a
job (``validating``; an unknown object is a 400 ``resource_missing``); a read finds it validated
(``ready``, or ``failed`` with ``locked_by_other_job`` when another unfinished job names one of its
objects; ``GET .../validation_errors`` lists them); ``POST .../run`` redacts (``redacting``, and
``succeeded`` at the next read). Redaction replaces the personal fields of the customers, the charges
and their events' copies with ``[redacted]`` (Stripe: "Redacting an object also redacts its related
objects such as events"); the objects stay under their ids. A repeated ``Idempotency-Key`` is
answered by the sandbox's general replay, as Stripe does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from ._sandbox_wire import error

if TYPE_CHECKING:
    from ._sandbox import StripeSandbox

#: What Stripe writes in place of a redacted value.
REDACTED: Final = "[redacted]"
_KINDS: Final = ("customers", "charges")


def route(sb: StripeSandbox, method: str, rest: list[str], params: dict[str, str]) -> httpx.Response:
    """Answer a request under ``/v1/privacy/redaction_jobs`` (``rest``: the path after it)."""
    if method == "POST" and not rest:
        return _create(sb, params)
    job = sb.jobs.get(rest[0]) if rest else None
    if job is None:
        return error(404, "invalid_request_error", "No such redaction job", "resource_missing", "job")
    if method == "GET" and len(rest) == 1:
        # Stripe validates, then redacts, asynchronously: each read finds the next step done.
        if job["status"] == "validating":
            locked = [o for o in _objects(job) if _locked_by_other(sb, o, job["id"])]
            job["_errors"] = [{"code": "locked_by_other_job", "erroring_object": {"id": o}} for o in locked]
            job["status"] = "failed" if locked else "ready"
        elif job["status"] == "redacting":
            job["status"] = "succeeded"
        return json_response(200, _view(job))
    if method == "GET" and rest[1:] == ["validation_errors"]:
        data = [
            {"id": f"prjve_{i}", "object": "privacy.redaction_job_validation_error", **e}
            for i, e in enumerate(job["_errors"])
        ]
        return json_response(200, {"object": "list", "data": data, "has_more": False, "url": ""})
    if method == "POST" and rest[1:] == ["run"]:
        if job["status"] != "ready":
            return error(400, "invalid_request_error", f"A job in status {job['status']} cannot run.")
        job["status"] = "redacting"
        ids = set(_objects(job))
        for customer_id in job["objects"]["customers"]:
            redact(sb.customers[customer_id])
        for charge_id in job["objects"]["charges"]:
            redact(sb.charges[charge_id])
        for event in sb.events.values():
            if event["data"]["object"].get("id") in ids:
                redact(event["data"]["object"])
        return json_response(200, _view(job))
    return error(404, "invalid_request_error", f"Unrecognized request URL ({method}).")


def _create(sb: StripeSandbox, params: dict[str, str]) -> httpx.Response:
    objects: dict[str, list[str]] = {kind: [] for kind in _KINDS}
    for key, value in sorted(params.items()):
        for kind in _KINDS:
            if key.startswith(f"objects[{kind}]"):
                if value not in (sb.customers if kind == "customers" else sb.charges):
                    return error(
                        400, "invalid_request_error", f"No such object: '{value}'", "resource_missing", key
                    )
                objects[kind].append(value)
    if not any(objects.values()):
        return error(400, "invalid_request_error", "Missing required param: objects.", "parameter_missing")
    job_id = sb.new_id("prj")
    sb.jobs[job_id] = {
        "id": job_id,
        "object": "privacy.redaction_job",
        "created": int(sb.clock.now().timestamp()),
        "livemode": False,
        "status": "validating",
        "validation_behavior": params.get("validation_behavior", "error"),
        "objects": objects,
        "_errors": [],
    }
    return json_response(200, _view(sb.jobs[job_id]))


def _objects(job: dict[str, Any]) -> list[str]:
    return [*job["objects"]["customers"], *job["objects"]["charges"]]


def _locked_by_other(sb: StripeSandbox, object_id: str, job_id: str) -> bool:
    return any(
        other["id"] != job_id and other["status"] in ("validating", "ready") and object_id in _objects(other)
        for other in sb.jobs.values()
    )


def _view(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def redact(obj: dict[str, Any]) -> None:
    """Replace the personal data of a customer or charge (or of an event's copy of one)."""
    for name in ("email", "name", "phone", "description", "receipt_email"):
        if obj.get(name) is not None:
            obj[name] = REDACTED
    for name in ("address", "shipping"):
        if name in obj:
            obj[name] = None
    details = obj.get("billing_details")
    if isinstance(details, dict):
        obj["billing_details"] = {
            **{k: (REDACTED if details.get(k) is not None else None) for k in ("email", "name", "phone")},
            "address": None,
        }
    obj["metadata"] = {}
    obj["redaction"] = {"status": "redacted"}


__all__ = ["REDACTED", "redact", "route"]
