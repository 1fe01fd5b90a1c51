"""Erase or export one person: invoked directly, ``{"action": "erase", "email": "ann@example.com",
"requested_by": "arn:aws:iam::123456789012:user/dpo"}``.

* ``export`` returns everything held about the person: the profile, every source record, the
  identifiers, which tools were sent which payload when, quarantined records, dead letters and the
  suppression state, and the keys of every item an erasure would delete.
* ``erase`` suppresses the person, asks every configured tool to erase their records, removes them
  from the table, the quarantine and the dead-letter queue, and answers with a receipt: what was
  deleted, each tool's outcome (``erased``, ``not_present`` or ``failed (...)``) and what is kept by
  policy, until when (core.privacy explains the order and the guards).
* ``erase-retry`` asks the tools again for what they have not confirmed (the stack runs it on a
  schedule); after ``ERASE_ATTEMPTS_BEFORE_ALARM`` rounds a still-failing erasure raises the
  ``ErasureRetriesExhausted`` metric, which an alarm watches.
* ``unsuppress`` lifts the suppression of a person who signed up again; it needs ``requested_by``.

Every request leaves an audit item under ``AUDIT#<action>`` holding a keyed hash of the identifier
(the salt is the secret ``audit-salt``), who asked, the invocation's id, counts and each tool's
outcome, and nothing personal. Logs carry the hash, never the identifier. The answer is ``{"ok":
true, ...}``, or ``{"ok": false, "error": ...}`` for a request that cannot be served; its error never
repeats the email or phone given.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from core.connector import Connector
from core.errors import ConflictError
from core.schema import Identifier
from functions._wiring import AUDIT_SALT_SECRET, Wiring, metrics_namespace, traced, wiring
from functions.events import PrivacyRequest

if TYPE_CHECKING:
    from core.privacy import ErasureReport, PersonExport
    from core.schema import Identifier

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())

#: Who asked, when the request does not say (Lambda does not tell a function who invoked it).
UNNAMED = "unnamed caller (see CloudTrail for the invocation)"


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


def export_answer(found: PersonExport) -> dict[str, Any]:
    """The JSON answer of an export (the person's own data, so identifiers appear in it), with the
    customer's history and who read their profile in the last 90 days."""
    from core.governance.person_record import person_record_json

    return {
        "customer_id": found.customer_id,
        "profile": found.profile.model_dump(mode="json") if found.profile else None,
        "sources": [s.model_dump(mode="json") for s in found.sources],
        "identifiers": list(found.identifiers),
        "pushed": [
            {
                "destination": p.destination,
                "payload_hash": p.payload_hash,
                "remote_id": p.remote_id,
                "at": p.at.isoformat() if p.at else None,
                "payload": dict(p.payload) if p.payload is not None else None,
            }
            for p in found.pushed
        ],
        "quarantined": [
            {"pk": q.key.pk, "sk": q.key.sk, "reason": q.reason, "raw": q.raw} for q in found.quarantined
        ],
        "dead_letters": [r.model_dump(mode="json") for r in found.dead_letters],
        "suppressed": {
            key: None if entry is None else {"since": entry.at.isoformat(), "erasure": entry.erasure}
            for key, entry in found.suppressed.items()
        },
        "items": [{"pk": k.pk, "sk": k.sk} for k in found.items],
        **person_record_json(found.governance),
        "identity": dict(found.identity) if found.identity is not None else None,
    }


def erase_answer(report: ErasureReport, request_id: str) -> dict[str, Any]:
    """The receipt of an erasure: what was deleted and suppressed, each tool's outcome, what is kept."""
    if report.outcome == "ambiguous":
        return {
            "ok": False,
            "action": "erase",
            "request_id": request_id,
            "found": True,
            "outcome": report.outcome,
            "error": report.refusal,
        }
    return {
        "ok": report.complete,
        "action": "erase",
        "request_id": request_id,
        "found": report.found,
        "outcome": report.outcome,
        "deleted": {k: v for k, v in sorted(report.counts.items()) if k not in _NOT_DELETED},
        "suppressed": report.counts.get("suppressed", 0),
        "tools": report.tools,
        "pending": report.pending,
        "kept": report.kept,
        # records in the ingest dead-letter queue nothing identifying reads in: left, may be hers
        **({"unreadable_dead_letters": n} if (n := report.counts.get("dead_letter_unreadable")) else {}),
        # messages another reader held while the queue was read (hidden, unseen): erase again later
        **({"dead_letters_in_flight": n} if (n := report.counts.get("dead_letter_in_flight")) else {}),
    }


#: Counts of an erasure that are no deleted item.
_NOT_DELETED = frozenset({"suppressed", "dead_letter_unreadable", "dead_letter_in_flight"})


def serve(request: PrivacyRequest, request_id: str, w: Wiring, invocation: str = "") -> dict[str, Any]:
    """Answer one request (the handler's body, callable without a Lambda context)."""
    from connectors.secrets import resolve_secret
    from core.privacy import (
        AuditRecord,
        erase_person,
        export_person,
        lift_suppression,
        retry_erasures,
        stored_spellings,
        subject_hash,
    )

    w.forget_if_erased()  # an erasure elsewhere: no value of hers cached (core.erasure_epoch)
    requested_by = request.requested_by or UNNAMED
    if request.action == "split":
        return split_answer(request, request_id, w, invocation)
    if request.action == "erase-retry":
        tools, unavailable = _tools(w)
        retried = retry_erasures(w.erasure, tools, unavailable=unavailable, invocation=invocation)
        metrics.add_metric(name="ErasuresCompleted", unit=MetricUnit.Count, value=retried.completed)
        metrics.add_metric(name="ErasuresStillFailing", unit=MetricUnit.Count, value=retried.still_failing)
        metrics.add_metric(name="ErasureRetriesExhausted", unit=MetricUnit.Count, value=retried.alarming)
        answer = {
            "ok": retried.still_failing == 0,
            "action": "erase-retry",
            "pending": retried.pending,
            "completed": retried.completed,
            "still_failing": retried.still_failing,
            "alarming": retried.alarming,
            "tools": {name: dict(counts) for name, counts in sorted(retried.tools.items())},
        }
        logger.info("erase-retry served", extra=answer)
        return answer
    try:
        identifier = request.identifier()
    except ValueError as error:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {"ok": False, "action": request.action, "error": _describe(error)}
    spellings: list[Identifier] = []
    if request.action in ("erase", "export"):  # a record stored under its spelling before an upgrade
        identifier, *spellings = stored_spellings(identifier, request.email, w.profiles)
    salt = resolve_secret(AUDIT_SALT_SECRET)
    subject = subject_hash(salt, identifier)
    logger.append_keys(subject=subject[:16], request_id=request_id, action=request.action)
    stores = w.privacy_stores()

    if request.action == "unsuppress":
        if request.requested_by is None:
            metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
            return {
                "ok": False,
                "action": "unsuppress",
                "error": "unsuppress needs requested_by: lifting a suppression is an audited decision",
            }
        assert stores.suppression is not None
        lifted = lift_suppression(
            identifier,
            suppression=stores.suppression,
            erasure=w.erasure,
            salt=salt,
            request_id=request_id,
            requested_by=requested_by,
            invocation=invocation,
            stored_ids=w.stored_ids(identifier),
        )
        logger.info("unsuppress served", extra={"lifted": lifted})
        return {"ok": True, "action": "unsuppress", "request_id": request_id, "lifted": lifted}

    if request.action == "export":

        def payload_of(destination: str, profile: Any) -> Any:
            return w.connector(destination).from_profile(profile)

        found = export_person(
            w.profiles,
            identifier,
            stores=stores,
            salt=salt,
            payload_of=payload_of,
            region=request.region,
            identity=_identity_settings(),
            stored_ids=w.stored_ids(identifier),
            spellings=spellings,
        )
        # dead letters another reader held while the export read the queue: not read, so the
        # answer says how many (ask again), found or not (core.storage.sqs_dead_letters)
        # (and, counted with them as an erasure counts them, those nothing says whose they are)
        in_flight = getattr(stores.dead_letters, "in_flight", 0) if salt else 0
        unjudged = getattr(stores.dead_letters, "unreadable", 0) if salt else 0
        unread = {"dead_letters_in_flight": in_flight} if in_flight else {}
        unread |= {"unreadable_dead_letters": unjudged} if unjudged else {}
        w.erasure.put_audit(
            AuditRecord(
                action="export",
                request_id=request_id,
                at=datetime.now(UTC),
                subject_hash=subject,
                outcome=("ambiguous" if found.ambiguous else "exported") if found else "not_found",
                counts={"sources": len(found.sources) if found else 0, **unread},
                requested_by=requested_by,
                invocation=invocation,
            )
        )
        metrics.add_metric(name="PersonsExported", unit=MetricUnit.Count, value=1 if found else 0)
        logger.info("export served", extra={"found": found is not None})
        # Dead letters another reader held while the queue was read: unseen, so the export may
        # lack hers; the answer says so, not ok, to be asked again (core.storage.sqs_dead_letters).
        unseen = {"ok": False} if in_flight else {}
        if found is None:
            return {
                "ok": True,
                "action": "export",
                "found": False,
                "request_id": request_id,
                **unread,
                **unseen,
            }
        if found.ambiguous:
            return {
                "ok": False,
                "action": "export",
                "found": True,
                "outcome": "ambiguous",
                "request_id": request_id,
                "error": found.refusal,
            }
        return {
            "ok": True,
            "action": "export",
            "found": True,
            "request_id": request_id,
            **export_answer(found),
            **unread,
            **unseen,
        }

    tools, unavailable = _tools(w)
    try:
        report = erase_person(
            identifier,
            spellings=spellings,
            profiles=stores.profiles,
            erasure=stores.erasure,
            sync_state=stores.sync_state,
            suppression=stores.suppression,
            dead_letters=stores.dead_letters,
            quarantine_of=stores.quarantine_of,
            tools=tools,
            salt=salt,
            request_id=request_id,
            unavailable=unavailable,
            requested_by=requested_by,
            invocation=invocation,
            region=request.region,
            identity=_identity_settings(),  # merge's model: the link graph around her is planned again
            stored_ids=w.stored_ids(identifier),
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
    answer = erase_answer(report, request_id)
    logger.info("erasure served", extra={k: v for k, v in answer.items() if k not in ("request_id", "kept")})
    return answer


def _identity_settings() -> Any:
    from functions._identity import identity_settings  # the matcher only in probabilistic mode

    return identity_settings()


def split_answer(request: PrivacyRequest, request_id: str, w: Wiring, invocation: str = "") -> dict[str, Any]:
    """Undo the merge ``request.event_id`` records; audited as ``AUDIT#split`` and in both histories."""
    from core.governance.errors import SplitRefusedError
    from core.governance.unmerge import split_from_event

    assert request.event_id is not None
    assert request.requested_by is not None
    try:
        profiles = w.profiles
        outcome = split_from_event(profiles, profiles.history, request.event_id, actor=request.requested_by)
    except (SplitRefusedError, ConflictError) as error:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {"ok": False, "action": "split", "request_id": request_id, "error": str(error)}
    w.erasure.put_audit(outcome.audit(request_id, request.requested_by, invocation))
    metrics.add_metric(name="MergesUndone", unit=MetricUnit.Count, value=0 if outcome.already_split else 1)
    logger.info("split served", extra={"event_id": request.event_id, "moved": len(outcome.moved)})
    return {"ok": True, "action": "split", "request_id": request_id, **outcome.as_json()}


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Serve one privacy request; see the module docstring for the answer's shape."""
    try:
        request = PrivacyRequest.model_validate(event)
    except ValidationError as error:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {"ok": False, "error": _describe(error)}
    invocation = context.aws_request_id
    return serve(request, request.request_id or invocation, wiring(), invocation)


__all__ = [
    "AUDIT_SALT_SECRET",
    "UNNAMED",
    "erase_answer",
    "export_answer",
    "handler",
    "serve",
    "split_answer",
]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done (functions/__init__.py paused the collector): freeze what they
    # built and collect again (core.runtime). Not when imported elsewhere: that process is not ours.
    from core.runtime import resume_gc

    resume_gc()
