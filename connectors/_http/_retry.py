"""When and how long to retry a failed request, on top of tenacity.

Retries throttling (429), gateway and server hiccups (500, 502, 503, 504), timeouts, dropped
connections and truncated JSON bodies; never a 4xx that would fail the same way again. A failure
where the server may already have acted (a read timeout, a 502) is only retried for idempotent
requests: resending a POST that created a contact would create it twice.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

from ._errors import ConnectorUnavailableError

T = TypeVar("T")

logger = logging.getLogger("connectors.http")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Statuses where the server says it did not act on the request, so any method may be resent.
NOT_PROCESSED_STATUSES = frozenset({429, 503})

#: RFC 9110 idempotent methods: sending one twice has the same effect as sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, and how long to wait between them.

    Without a usable ``Retry-After`` (missing, ``0``, in the past) attempt ``n`` waits between
    ``backoff_floor * 2**(n-1)`` and twice that (jitter, so parallel Lambdas do not retry in step),
    capped at ``backoff_cap``. A positive ``Retry-After`` is honoured exactly (but not below the floor);
    one longer than ``retry_after_limit`` ends the retries at once, since waiting less would only earn
    another 429 (HubSpot's daily limit, for instance, resets at midnight). ``sleep``, ``jitter`` (a
    number in [0, 1)) and ``wall_clock`` (for HTTP-date ``Retry-After``) are injectable for tests.
    """

    max_attempts: int = 6
    backoff_floor: float = 0.2
    backoff_cap: float = 30.0
    retry_after_limit: float = 120.0
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    wall_clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if not 0 < self.backoff_floor <= self.backoff_cap:
            raise ValueError("RetryPolicy needs 0 < backoff_floor <= backoff_cap")
        if self.retry_statuses & {400, 401, 403, 404, 409, 422}:
            raise ValueError("RetryPolicy.retry_statuses must not include 400, 401, 403, 404, 409 or 422")

    def backoff(self, attempt: int) -> float:
        """Return the wait after failed attempt number ``attempt`` (1-based) when the server gave no hint."""
        base = min(self.backoff_cap, self.backoff_floor * 2.0 ** min(attempt - 1, 64))
        return min(self.backoff_cap, base * (1.0 + self.jitter()))

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait after failed attempt ``attempt``: the server's ``Retry-After`` when positive."""
        if retry_after is not None and retry_after > 0:
            return max(retry_after, self.backoff_floor)
        return self.backoff(attempt)


class TransientAttemptError(Exception):
    """One attempt failed in a way a later attempt may not (internal to the kit; callers never see it).

    ``processed_maybe`` is True when the server may have acted on the request before failing, which
    makes resending safe only for idempotent requests.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        processed_maybe: bool = True,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.processed_maybe = processed_maybe


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (delta-seconds or HTTP-date), or None.

    ``now`` is the current Unix time, for HTTP-dates. A date in the past gives 0; garbage gives None.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def call_with_retry(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    connector: str,
    method: str,
    path: str,
    idempotent: bool,
) -> T:
    """Run ``attempt`` until it returns, raises something other than TransientAttemptError, or the policy
    gives up; then raise ConnectorUnavailableError naming the connector, the request and the last failure.
    """
    attempts = 0

    def counted() -> T:
        nonlocal attempts
        attempts += 1
        return attempt()

    def may_retry(exc: BaseException) -> bool:
        return isinstance(exc, TransientAttemptError) and (idempotent or not exc.processed_maybe)

    def wait(state: tenacity.RetryCallState) -> float:
        return policy.delay(state.attempt_number, _failure(state).retry_after)

    def asks_too_long(state: tenacity.RetryCallState) -> bool:
        retry_after = _failure(state).retry_after
        return retry_after is not None and retry_after > policy.retry_after_limit

    def log_retry(state: tenacity.RetryCallState) -> None:
        failure = _failure(state)
        logger.warning(
            "%s: %s %s failed (%s); retrying in %.2f s (attempt %d of %d)",
            connector,
            method,
            path,
            failure.reason,
            state.upcoming_sleep,
            state.attempt_number,
            policy.max_attempts,
        )

    retrying = tenacity.Retrying(
        stop=lambda state: state.attempt_number >= policy.max_attempts or asks_too_long(state),
        wait=wait,
        retry=tenacity.retry_if_exception(may_retry),
        sleep=policy.sleep,
        before_sleep=log_retry,
        reraise=True,
    )
    try:
        return retrying(counted)
    except TransientAttemptError as failure:
        raise ConnectorUnavailableError(
            connector,
            method,
            path,
            attempts=attempts,
            reason=failure.reason,
            last_status=failure.status,
            note=_why_stopped(failure, policy, idempotent=idempotent, method=method),
        ) from failure


def _failure(state: tenacity.RetryCallState) -> TransientAttemptError:
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc if isinstance(exc, TransientAttemptError) else TransientAttemptError("unknown")


def _why_stopped(
    failure: TransientAttemptError, policy: RetryPolicy, *, idempotent: bool, method: str
) -> str:
    if failure.retry_after is not None and failure.retry_after > policy.retry_after_limit:
        return (
            f"the API asked to wait {failure.retry_after:.0f} s, longer than the "
            f"{policy.retry_after_limit:.0f} s this run waits"
        )
    if not idempotent and failure.processed_maybe:
        return (
            f"not retried because the API may have acted on the {method} already "
            "(pass idempotent=True for queries and upserts)"
        )
    return ""
