"""The profile API: one person's profile, history and identity graph, as the caller's role may see it.

Behind an API Gateway HTTP API whose routes require IAM (SigV4) authorisation:

    GET /profiles?email=...|phone=...[&region=GB]|source=hubspot:contact:123
    GET /profiles/{customer_id}                 the live customer (a merged id leads to its survivor)
    GET /profiles/{customer_id}/history         merges, splits, reviews, erasures, source arrivals
    GET /profiles/{customer_id}/explain         which identifiers join which records
    GET /profiles/{customer_id}/reads           who read this person (the read audit, 90 days)

``limit`` and ``next`` page the source records and the history. The caller's role comes from the IAM
principal that signed the request (``requestContext.authorizer.iam.userArn``) through the role
policy; a caller in no role gets 403 and reads nothing. Answers have the privacy export's shape
(``customer_id``, ``profile``, ``sources``) with only what the role may read (core.governance.view);
every answer is recorded in the read audit first (core.governance.answer).

``profilesync serve-api`` serves the same routes locally through ``local_handler``, where the role is
given in the ``X-Profilesync-Role`` header; the Lambda ``handler`` refuses that header.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from core.governance.answer import Caller, ReadRequest, answer_read
from core.governance.errors import AccessDeniedError, BadLookupError
from core.governance.policy import Principal
from core.governance.reading import Lookup, ReadRoute, lookup_by_id, lookup_from_query
from functions._governance import governance
from functions._wiring import metrics_namespace, traced

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())
app = APIGatewayHttpResolver()

#: Names the caller's role to ``profilesync serve-api``; refused by the deployed function.
LOCAL_ROLE_HEADER = "x-profilesync-role"


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def _caller() -> Caller:
    g = governance()
    local_role = app.context.get("local_role")
    if local_role is not None:
        grant = g.policy.role(str(local_role))
        if grant is None:
            roles = ", ".join(g.policy.roles) or "none"
            raise AccessDeniedError(f"role {local_role!r} is not in the role policy (roles: {roles})")
        return Caller(f"local:{local_role}", str(local_role), grant)
    arn = app.current_event.request_context.authorizer.iam.user_arn
    if not arn:
        raise AccessDeniedError(
            "the request carries no IAM identity; sign it with SigV4 (the API uses AWS_IAM)"
        )
    match = g.policy.role_for(Principal.from_arn(arn), g.tags_of)
    if match is None:
        raise AccessDeniedError(f"{arn} is in no role of the role policy; add a role that matches it")
    return Caller(arn, match[0], match[1])


def _serve(route: ReadRoute, lookup: Lookup) -> Response[str]:
    params = app.current_event.query_string_parameters or {}
    caller = _caller()
    limit_text = (params.get("limit") or "").strip()
    if limit_text and not limit_text.isdigit():
        raise BadLookupError("limit= must be a whole number")
    request = ReadRequest(route, lookup, int(limit_text) if limit_text else None, params.get("next") or None)
    logger.append_keys(route=route, role=caller.role, lookup=lookup.kind)
    outcome = answer_read(
        request,
        caller,
        governance().sources,
        request_id=app.current_event.request_context.request_id or app.lambda_context.aws_request_id,
        now=datetime.now(UTC),
    )
    metrics.add_dimension(name="route", value=route)
    if outcome.status == 404:
        metrics.add_metric(name="ProfileNotFound", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="ProfileReads", unit=MetricUnit.Count, value=1)
        logger.info("profile read", extra={"customer_id": outcome.customer_id, "fields": len(outcome.fields)})
    return _json(outcome.status, outcome.document)


@app.get("/profiles")
def find_profile() -> Response[str]:
    return _serve("profile", lookup_from_query(app.current_event.query_string_parameters or {}))


@app.get("/profiles/<customer_id>")
def get_profile(customer_id: str) -> Response[str]:
    return _serve("profile", lookup_by_id(customer_id))


@app.get("/profiles/<customer_id>/history")
def get_history(customer_id: str) -> Response[str]:
    return _serve("history", lookup_by_id(customer_id))


@app.get("/profiles/<customer_id>/explain")
def get_explanation(customer_id: str) -> Response[str]:
    return _serve("explain", lookup_by_id(customer_id))


@app.get("/profiles/<customer_id>/reads")
def get_reads(customer_id: str) -> Response[str]:
    return _serve("reads", lookup_by_id(customer_id))


@app.not_found
def no_such_route(_error: Exception) -> Response[str]:
    metrics.add_metric(name="ProfileRouteNotFound", unit=MetricUnit.Count, value=1)
    return _json(404, {"message": "no such route: see GET /profiles?email= and /profiles/{id}"})


@app.exception_handler(BadLookupError)  # type: ignore[untyped-decorator]
def bad_request(error: BadLookupError) -> Response[str]:
    metrics.add_metric(name="ProfileBadRequests", unit=MetricUnit.Count, value=1)
    return _json(400, {"message": str(error)})


@app.exception_handler(AccessDeniedError)  # type: ignore[untyped-decorator]
def forbidden(error: AccessDeniedError) -> Response[str]:
    metrics.add_metric(name="ProfileReadsDenied", unit=MetricUnit.Count, value=1)
    logger.warning("profile read refused", extra={"reason": str(error)})
    return _json(403, {"message": str(error)})


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one API Gateway (HTTP API, payload 2.0) request; see the module docstring."""
    headers = event.get("headers") or {}
    if any(str(name).lower() == LOCAL_ROLE_HEADER for name in headers):
        metrics.add_metric(name="ProfileReadsDenied", unit=MetricUnit.Count, value=1)
        body = {
            "message": f"the {LOCAL_ROLE_HEADER} header is honoured only by `profilesync serve-api`; "
            "in AWS the role comes from the IAM identity that signed the request"
        }
        return {"statusCode": 403, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    _forget_if_erased()
    return app.resolve(event, context)


def _forget_if_erased() -> None:
    """An erasure elsewhere since the last request: no value of hers stays cached (core.erasure_epoch)."""
    from core.erasure_epoch import forget_if_erased

    forget_if_erased(governance().erasures)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True, log_event=False)
def _local(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


def local_handler(event: dict[str, Any], context: LambdaContext, role: str) -> dict[str, Any]:
    """The handler as ``profilesync serve-api`` runs it: the role is given, not read from IAM."""
    _forget_if_erased()
    app.append_context(local_role=role)  # type: ignore[no-untyped-call]
    try:
        answer: dict[str, Any] = _local(event, context)
    finally:
        # The resolver clears its context when it answers; a call that raised (or a resolver that
        # never ran) must not leave the local role to the next request, a Lambda one included.
        app.clear_context()  # type: ignore[no-untyped-call]
    return answer


__all__ = ["LOCAL_ROLE_HEADER", "app", "handler", "local_handler"]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done (functions/__init__.py paused the collector): freeze what they
    # built and collect again (core.runtime). Not when imported elsewhere: that process is not ours.
    from core.runtime import resume_gc

    resume_gc()
