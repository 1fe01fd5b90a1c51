"""The review queue of probabilistic identity, invoked directly:

* ``{"action": "list", "limit": 50}`` answers the pending pairs, oldest first: each pair's id, both
  records' source keys, the score with its per-field weights, the matcher's reason, since when;
* ``{"action": "accept" | "reject", "pair": "<pair id>", "requested_by": "arn:...:user/ana",
  "reason": "same person, she moved"}`` stores the decision and re-resolves the customers at once
  (accept joins them, reject splits what only that pair joined); every later merge applies it.

A decision is written to the histories of the customers concerned (``review_accepted`` or
``review_rejected``, who and why) and leaves an ``AUDIT#review`` item (who asked, the invocation's
id, the pair and counts; nothing personal). The answer is ``{"ok": true, ...}`` or ``{"ok": false,
"error": ...}`` for a request that cannot be served (an unknown pair, a reason quoting an email,
exact identity); nothing is changed then. A decision that lost a race with an ingest storing another
version of a record of the pair (other match fields) is not applied either: ``{"ok": false,
"outdated": true, "pending_again": ..., "error": ...}``, ``pending_again`` saying whether the pair
waits for review again, scored on the new versions (metric ``ReviewsOutdated``). The stack's
``IdentityMode`` must be ``probabilistic`` (core.link_review explains the decision; docs/identity.md
the queue).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import ConflictError
from functions._identity import identity_settings
from functions._wiring import Wiring, metrics_namespace, traced, wiring

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())


class ReviewRequest(BaseModel):
    """One request to the review function (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["list", "accept", "reject"]
    limit: int = Field(default=50, ge=1, le=1000)
    pair: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{32}$")
    requested_by: str | None = Field(default=None, min_length=1, max_length=256)
    reason: str = Field(default="", max_length=500)
    request_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")

    @model_validator(mode="after")
    def _decision_names_pair_and_person(self) -> ReviewRequest:
        if self.action == "list":
            if self.pair is not None:
                raise ValueError("list names no pair; accept or reject one by its id")
            return self
        if self.pair is None:
            raise ValueError(f"{self.action} needs pair: the id `list` gives")
        if self.requested_by is None:
            raise ValueError(f"{self.action} needs requested_by: a review decision is audited")
        return self


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)
    )


def serve(request: ReviewRequest, request_id: str, w: Wiring, invocation: str = "") -> dict[str, Any]:
    """Answer one request (the handler's body, callable without a Lambda context)."""
    from core.link_review import ReviewOutdatedError, ReviewRefusedError, decide, pending

    w.forget_if_erased()  # an erasure elsewhere: no value of hers cached (core.erasure_epoch)
    if request.action == "list":
        try:
            listed = pending(w.profiles, request.limit)
        except ReviewRefusedError as error:
            return {"ok": False, "action": "list", "error": str(error)}
        metrics.add_metric(name="ReviewsPending", unit=MetricUnit.Count, value=len(listed))
        return {"ok": True, "action": "list", "pending": listed}
    assert request.pair is not None
    assert request.requested_by is not None
    settings = identity_settings()
    if settings is None:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {
            "ok": False,
            "action": request.action,
            "error": "the stack resolves by exact identifiers (IdentityMode exact): there is no "
            "review queue; deploy with IdentityMode probabilistic",
        }
    verdict: Literal["accepted", "rejected"] = "accepted" if request.action == "accept" else "rejected"
    try:
        outcome = decide(
            w.profiles,
            request.pair,
            verdict,
            by=request.requested_by,
            reason=request.reason,
            settings=settings,
        )
    except ReviewOutdatedError as error:
        # Lost a race with an ingest of a record of the pair: not applied, no audit (nothing decided).
        metrics.add_metric(name="ReviewsOutdated", unit=MetricUnit.Count, value=1)
        return {"ok": False, "action": request.action, "request_id": request_id, **error.as_json()}
    except (ReviewRefusedError, ConflictError) as error:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {"ok": False, "action": request.action, "request_id": request_id, "error": str(error)}
    w.erasure.put_audit(outcome.audit(request_id, request.requested_by, invocation))
    metrics.add_metric(
        name="ReviewsAccepted" if verdict == "accepted" else "ReviewsRejected", unit=MetricUnit.Count, value=1
    )
    logger.info(
        "review decided",
        extra={
            "pair": outcome.pair,
            "status": verdict,
            "merged": len(outcome.merged),
            "split": len(outcome.split_off),
        },
    )
    return {"ok": True, "action": request.action, "request_id": request_id, **outcome.as_json()}


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Serve one review request; see the module docstring for the answer's shape."""
    try:
        request = ReviewRequest.model_validate(event)
    except ValidationError as error:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {"ok": False, "error": _describe(error)}
    invocation = context.aws_request_id
    return serve(request, request.request_id or invocation, wiring(), invocation)


__all__ = ["ReviewRequest", "handler", "identity_settings", "serve"]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done: freeze what they built and collect again (core.runtime).
    from core.runtime import resume_gc

    resume_gc()
