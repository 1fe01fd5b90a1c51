"""The Klaviyo sandbox's jobs: bulk profile import (``POST /api/profile-bulk-import-jobs``, at most
10,000 profiles, upsert on email, invalid ones listed at ``.../import-errors``) and data-privacy
deletion (``POST /api/data-privacy-deletion-jobs``); both finish at once.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import forgotten

from ._sandbox_seed import _stamp

if TYPE_CHECKING:
    from ._sandbox import KlaviyoSandbox

MAX_IMPORT: Final = 10_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def bulk_import(sb: KlaviyoSandbox, request: httpx.Request, base: str) -> httpx.Response:
    body = sb._body(request)
    data = body.get("data") if isinstance(body, dict) else None
    items = (((data or {}).get("attributes") or {}).get("profiles") or {}).get("data")
    if (
        not isinstance(data, dict)
        or data.get("type") != "profile-bulk-import-job"
        or not isinstance(items, list)
    ):
        return sb.error(400, "invalid", "Invalid input.", "The payload provided in the request is invalid.")
    if len(items) > MAX_IMPORT:
        return sb.error(
            400, "invalid", "Invalid input.", f"A bulk import job accepts at most {MAX_IMPORT} profiles."
        )
    job_id = uuid.uuid5(uuid.NAMESPACE_URL, f"job{len(sb.jobs)}").hex
    now = sb.clock.now()
    errors, ids = [], []
    with sb.lock:
        for index, item in enumerate(items):
            attributes = (item or {}).get("attributes") or {}
            email = str(attributes.get("email") or "").strip().lower()
            profile_id = (item or {}).get("id")
            if profile_id:
                # Matched on the id: an import updates that profile, and creates nobody for an id
                # Klaviyo does not have.
                held = sb.profiles.get(str(profile_id))
                if held is None:
                    errors.append(
                        _import_error(index, item, f"A profile with id {profile_id} does not exist.")
                    )
                    continue
                _merge_import(held, attributes, now)
                ids.append(held["id"])
                continue
            if (
                not _EMAIL.match(email)
                and not attributes.get("phone_number")
                and not attributes.get("external_id")
            ):
                errors.append(
                    _import_error(index, item, "A profile needs a valid email, phone_number or external_id.")
                )
                continue
            found = sb._find("email", email) if email else []
            profile = found[0] if found else sb._add({"email": email}, now, consent=None)
            _merge_import(profile, attributes, now)
            ids.append(profile["id"])
        sb.jobs[job_id] = {
            "created_at": _stamp(now),
            "total_count": len(items),
            "completed_count": len(ids),
            "failed_count": len(errors),
            "errors": errors,
            "reads": 0,
        }
    return sb.document(202, _job_document(sb, job_id, base))


def _merge_import(profile: dict[str, Any], attributes: dict[str, Any], now: datetime) -> None:
    profile["properties"] = {**profile["properties"], **(attributes.get("properties") or {})}
    for name in ("email", "first_name", "last_name", "phone_number", "external_id"):
        if attributes.get(name):
            profile[name] = str(attributes[name]).strip().lower() if name == "email" else attributes[name]
    profile["updated"] = _stamp(now)


def _import_error(index: int, item: Any, detail: str) -> dict[str, Any]:
    return {
        "type": "import-error",
        "id": str(uuid.uuid4()),
        "attributes": {
            "code": "invalid",
            "title": "Invalid input.",
            "detail": detail,
            "source": {"pointer": f"/data/attributes/profiles/data/{index}"},
            "original_payload": item,
        },
    }


def _job_document(sb: KlaviyoSandbox, job_id: str, base: str) -> dict[str, Any]:
    job = sb.jobs[job_id]
    done = job["reads"] > 0
    resource = {
        "type": "profile-bulk-import-job",
        "id": job_id,
        "attributes": {
            "status": "complete" if done else "queued",
            "created_at": job["created_at"],
            "total_count": job["total_count"],
            "completed_count": job["completed_count"] if done else 0,
            "failed_count": job["failed_count"] if done else 0,
            "completed_at": job["created_at"] if done else None,
            "expires_at": None,
            "started_at": job["created_at"] if done else None,
        },
        "links": {"self": f"{base}/api/profile-bulk-import-jobs/{job_id}/"},
    }
    return {"data": resource, "links": resource["links"]}


def job(sb: KlaviyoSandbox, job_id: str, base: str, *, errors: bool) -> httpx.Response:
    with sb.lock:
        if job_id not in sb.jobs:
            return sb.error(404, "not_found", "Not found.", f"A job with id {job_id} does not exist.")
        sb.jobs[job_id]["reads"] += 1
        if errors:
            url = f"{base}/api/profile-bulk-import-jobs/{job_id}/import-errors/"
            return sb.document(200, {"data": sb.jobs[job_id]["errors"], "links": {"self": url}})
        return sb.document(200, _job_document(sb, job_id, base))


def delete(sb: KlaviyoSandbox, request: httpx.Request) -> httpx.Response:
    body = sb._body(request)
    data = body.get("data") if isinstance(body, dict) else None
    profile = (((data or {}).get("attributes") or {}).get("profile") or {}).get("data") or {}
    given = {k: v for k, v in (profile.get("attributes") or {}).items() if v}
    if profile.get("id"):
        given["id"] = profile["id"]
    if not isinstance(data, dict) or data.get("type") != "data-privacy-deletion-job" or len(given) != 1:
        return sb.error(
            400,
            "invalid",
            "Invalid input.",
            "Exactly one of email, phone_number or id must identify the profile to delete.",
        )
    [(field, value)] = given.items()
    with sb.lock:
        for found in sb._find(field, str(value)):
            del sb.profiles[found["id"]]
            forget = {str(found.get(k) or "").lower() for k in ("email", "phone_number", "id")} - {""}
            for job in sb.jobs.values():  # an import error quoting the profile goes with it
                job["errors"] = [e for e in job["errors"] if not _quotes(e, forget)]
        # Klaviyo keeps the deleted profile's contact information as its GDPR record; the sandbox
        # keeps a digest of it, so its own data no longer holds the value.
        sb.deletion_requests.append({field: forgotten(str(value))})
    return sb.document(202, None)


def _quotes(error: dict[str, Any], values: set[str]) -> bool:
    """Whether an import error's original payload names one of ``values``."""
    payload = json.dumps(error.get("attributes", {}).get("original_payload"), default=str).lower()
    return any(value in payload for value in values)
