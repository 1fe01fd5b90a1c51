"""Erase or export one person: invoked directly, ``{"action": "erase", "email": "ann@example.com"}``.

``{"action": "export", "phone": "+44 20 7946 0018"}`` returns the profile and every source record it
came from; ``erase`` removes the person from DynamoDB and asks every configured tool to erase them
too (core.privacy explains the order and the guards). Both leave an audit item under ``AUDIT#<action>``
that holds a keyed hash of the identifier (the salt is the secret ``audit-salt``), counts, the tools
asked and the outcome, and nothing personal. Logs carry the hash, never the identifier.

The answer is ``{"ok": true, ...}``, or ``{"ok": false, "error": ...}`` for a request that cannot be
served; its error never repeats the email or phone given.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from core.connector import Connector
from core.errors import ConflictError
from functions._wiring import Wiring, metrics_namespace, traced, wiring
from functions.events import PrivacyRequest

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())

#: The secret (``<PROFILESYNC_SECRETS_PREFIX>audit-salt`` in Secrets Manager) keying the audit hashes.
AUDIT_SALT_SECRET = "audit-salt"


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
    return str(error)


def _tools(w: Wiring) -> tuple[dict[str, Connector], dict[str, str]]:
    """The connectors to ask, and the ones that could not be built (by error type)."""
    tools: dict[str, Connector] = {}
    unavailable: dict[str, str] = {}
    for name in w.erase_targets():
        try:
            tools[name] = w.connector(name)
        except Exception as error:  # a tool that cannot be reached is reported, not fatal
            logger.exception("connector could not be built for erasure", extra={"connector": name})
            unavailable[name] = type(error).__name__
    return tools, unavailable


def serve(request: PrivacyRequest, request_id: str, w: Wiring) -> dict[str, Any]:
    """Answer one request (the handler's body, callable without a Lambda context)."""
    from connectors._http import resolve_secret
    from core.privacy import AuditRecord, erase_person, export_person, subject_hash

    try:
        identifier = request.identifier()
    except ValueError as error:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {"ok": False, "action": request.action, "error": _describe(error)}
    salt = resolve_secret(AUDIT_SALT_SECRET)
    subject = subject_hash(salt, identifier)
    logger.append_keys(subject=subject[:16], request_id=request_id, action=request.action)

    if request.action == "export":
        found = export_person(w.profiles, identifier)
        w.erasure.put_audit(
            AuditRecord(
                action="export",
                request_id=request_id,
                at=datetime.now(UTC),
                subject_hash=subject,
                outcome="exported" if found else "not_found",
                counts={"sources": len(found.sources) if found else 0},
            )
        )
        metrics.add_metric(name="PersonsExported", unit=MetricUnit.Count, value=1 if found else 0)
        logger.info("export served", extra={"found": found is not None})
        if found is None:
            return {"ok": True, "action": "export", "found": False, "request_id": request_id}
        return {
            "ok": True,
            "action": "export",
            "found": True,
            "request_id": request_id,
            "customer_id": found.customer_id,
            "profile": found.profile.model_dump(mode="json") if found.profile else None,
            "sources": [s.model_dump(mode="json") for s in found.sources],
        }

    tools, unavailable = _tools(w)
    try:
        report = erase_person(
            identifier,
            profiles=w.profiles,
            erasure=w.erasure,
            tools=tools,
            salt=salt,
            request_id=request_id,
            unavailable=unavailable,
            quarantine_of=sorted(w.settings.connectors),
        )
    except ConflictError as error:
        logger.warning(
            "erasure did not finish; the request should be sent again", extra={"error": str(error)}
        )
        metrics.add_metric(name="ErasureIncomplete", unit=MetricUnit.Count, value=1)
        return {
            "ok": False,
            "action": "erase",
            "outcome": "retry",
            "request_id": request_id,
            "error": str(error),
        }
    metrics.add_metric(name="PersonsErased", unit=MetricUnit.Count, value=1 if report.found else 0)
    if not report.complete:
        metrics.add_metric(name="ErasureIncomplete", unit=MetricUnit.Count, value=1)
    answer = {
        "ok": report.complete,
        "action": "erase",
        "request_id": request_id,
        "found": report.found,
        "outcome": report.outcome,
        "deleted": dict(sorted(report.counts.items())),
        "tools": report.tools,
    }
    logger.info("erasure served", extra={k: v for k, v in answer.items() if k != "request_id"})
    return answer


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Serve one erase or export request; see the module docstring for the answer's shape."""
    try:
        request = PrivacyRequest.model_validate(event)
    except ValidationError as error:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {"ok": False, "error": _describe(error)}
    return serve(request, request.request_id or context.aws_request_id, wiring())


__all__ = ["AUDIT_SALT_SECRET", "handler", "serve"]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done (functions/__init__.py paused the collector): freeze what they
    # built and collect again (core.runtime). Not when imported elsewhere: that process is not ours.
    from core.runtime import resume_gc

    resume_gc()
