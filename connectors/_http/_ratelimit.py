"""Client-side pacing so a healthy sync never sees a 429: token bucket, sliding window, concurrency, cost.

Every limiter is thread-safe, sleeps outside its lock, and takes ``clock`` (monotonic seconds) and
``sleep`` so tests can run a fake clock. ``observe`` reads the vendor's rate-limit headers after each
response: the server's count is authoritative, because other processes (parallel Lambdas, other apps
on the same account) spend the same quota.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import httpx

from ._body import json_body

Clock = Callable[[], float]
Sleep = Callable[[float], None]

#: When a server says "0 remaining" without saying when the window resets, wait this long.
_EXHAUSTED_PAUSE_SECONDS = 1.0

#: A reset header above this is a Unix time (GitHub style), below it a number of seconds (IETF draft,
#: Klaviyo). 10**9 seconds is September 2001, far longer than any window.
_EPOCH_THRESHOLD = 1_000_000_000

#: Guards against a zero or negative computed wait spinning the loop on float rounding.
_MIN_WAIT_SECONDS = 0.001


class RateLimiter(Protocol):
    """Paces requests: ``acquire`` before each send, ``observe`` each response the vendor returns."""

    def acquire(self, cost: float = 1.0) -> None: ...

    def observe(self, response: httpx.Response) -> None: ...


@dataclass(frozen=True)
class RateLimitHeaders:
    """What a response's rate-limit headers say; ``None`` where the vendor sent nothing usable."""

    remaining: float | None = None
    limit: float | None = None
    window_seconds: float | None = None
    reset_after_seconds: float | None = None


def read_rate_limit_headers(response: httpx.Response, *, wall_clock: Clock = time.time) -> RateLimitHeaders:
    """Read HubSpot ``X-HubSpot-RateLimit-*``, Shopify REST ``X-Shopify-Shop-Api-Call-Limit`` or generic
    ``X-RateLimit-*`` / ``RateLimit-*`` headers from a response; vendor-specific headers win.
    """
    headers = response.headers
    # HubSpot: Remaining and Max apply to a window of Interval-Milliseconds (10 000 for private apps).
    # The search endpoints send none of these headers (they have their own 5 requests/s limit).
    hubspot_remaining = _number(headers.get("X-HubSpot-RateLimit-Remaining"))
    if hubspot_remaining is not None:
        interval_ms = _number(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        return RateLimitHeaders(
            remaining=hubspot_remaining,
            limit=_number(headers.get("X-HubSpot-RateLimit-Max")),
            window_seconds=interval_ms / 1000 if interval_ms else None,
        )
    # Shopify REST: "32/40" means 32 of the 40-request leaky bucket are used.
    used_text, _, size_text = headers.get("X-Shopify-Shop-Api-Call-Limit", "").partition("/")
    used, size = _number(used_text), _number(size_text)
    if used is not None and size is not None:
        return RateLimitHeaders(remaining=max(0.0, size - used), limit=size)
    remaining = _number(headers.get("X-RateLimit-Remaining") or headers.get("RateLimit-Remaining"))
    reset = _number(headers.get("X-RateLimit-Reset") or headers.get("RateLimit-Reset"))
    if reset is not None and reset > _EPOCH_THRESHOLD:
        reset = reset - wall_clock()
    return RateLimitHeaders(
        remaining=remaining,
        limit=_number(headers.get("X-RateLimit-Limit") or headers.get("RateLimit-Limit")),
        reset_after_seconds=max(0.0, reset) if reset is not None else None,
    )


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class _ServerPause:
    """Holds every request back until a server-announced reset, once the server says 'none left'."""

    def __init__(self, clock: Clock, sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until = -math.inf

    def apply(self, headers: RateLimitHeaders) -> None:
        if headers.remaining is None or headers.remaining > 0:
            return
        pause = headers.reset_after_seconds or headers.window_seconds or _EXHAUSTED_PAUSE_SECONDS
        with self._lock:
            self._until = max(self._until, self._clock() + pause)

    def wait(self) -> None:
        while True:
            with self._lock:
                delay = self._until - self._clock()
            if delay <= 0:
                return
            self._sleep(max(delay, _MIN_WAIT_SECONDS))


class TokenBucket:
    """Allows ``burst`` requests at once, then ``rate_per_second`` on average (Shopify REST: 2/s, 40).

    ``acquire`` reserves its tokens immediately (the balance may go negative) and then sleeps off its
    own debt, so concurrent callers queue fairly without holding the lock while they sleep.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate_per_second <= 0 or burst <= 0:
            raise ValueError("TokenBucket needs rate_per_second > 0 and burst > 0")
        self._rate = float(rate_per_second)
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self._burst
        self._updated = clock()
        self._pause = _ServerPause(clock, sleep)

    @property
    def burst(self) -> float:
        return self._burst

    def acquire(self, cost: float = 1.0) -> None:
        """Take ``cost`` tokens, sleeping just long enough for the bucket to refill them."""
        self._pause.wait()
        with self._lock:
            self._refill()
            self._tokens -= cost
            delay = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if delay > 0:
            self._sleep(delay)

    def observe(self, response: httpx.Response) -> None:
        """Lower the balance to what the server says remains, and pause when it says none is left."""
        headers = read_rate_limit_headers(response)
        if headers.remaining is not None:
            with self._lock:
                self._refill()
                self._tokens = min(self._tokens, headers.remaining)
        self._pause.apply(headers)

    def reset(
        self, *, tokens: float, rate_per_second: float | None = None, burst: float | None = None
    ) -> None:
        """Replace the balance (and optionally the rate and size) with figures the server reported."""
        with self._lock:
            self._refill()
            if rate_per_second is not None and rate_per_second > 0:
                self._rate = float(rate_per_second)
            if burst is not None and burst > 0:
                self._burst = float(burst)
            self._tokens = min(float(tokens), self._burst)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now


class SlidingWindowLimiter:
    """At most ``max_requests`` in any ``window_seconds`` (HubSpot private apps: 190 per 10 s on
    Professional and Enterprise, 100 on Free and Starter; the limit is per app, shared by all its runs).
    """

    def __init__(
        self,
        max_requests: int,
        window_seconds: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if max_requests <= 0 or window_seconds <= 0:
            raise ValueError("SlidingWindowLimiter needs max_requests > 0 and window_seconds > 0")
        self._max = max_requests
        self._window = float(window_seconds)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._pause = _ServerPause(clock, sleep)

    def acquire(self, cost: float = 1.0) -> None:
        """Record ``ceil(cost)`` requests, first sleeping until the window has room for them."""
        slots = max(1, math.ceil(cost))
        if slots > self._max:
            raise ValueError(f"cost {cost} is more than the window allows ({self._max})")
        self._pause.wait()
        while True:
            with self._lock:
                now = self._clock()
                self._expire(now)
                if len(self._sent) + slots <= self._max:
                    self._sent.extend([now] * slots)
                    return
                # The oldest entries must leave the window before this request fits.
                must_expire = len(self._sent) + slots - self._max
                delay = self._sent[must_expire - 1] + self._window - now
            self._sleep(max(delay, _MIN_WAIT_SECONDS))

    def observe(self, response: httpx.Response) -> None:
        """Count requests the server saw from elsewhere (its Remaining is below ours) against the window."""
        headers = read_rate_limit_headers(response)
        others = 0
        if headers.remaining is not None:
            with self._lock:
                now = self._clock()
                self._expire(now)
                ours = self._max - len(self._sent)
                others = min(int(ours - headers.remaining), ours)
                if others > 0:
                    self._sent.extend([now] * others)
        # A client alone at exactly the limit sees "0 remaining" on its last request of the window; its
        # own window already waits for that, and pausing a whole extra window would halve throughput.
        # Pause on the server's word only when someone else shares the budget, or on a 429.
        if headers.remaining is None or others > 0 or response.status_code == 429:
            self._pause.apply(headers)

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0] + self._window <= now:
            self._sent.popleft()


class ConcurrencyLimiter:
    """At most ``max_concurrent`` requests in flight; use as ``with limiter: send()``.

    Mailchimp allows 10 simultaneous connections per API key and answers the 11th with a 429. This
    counts only this process's connections: give parallel Lambdas a share of the 10 each.
    """

    def __init__(self, max_concurrent: int) -> None:
        if max_concurrent <= 0:
            raise ValueError("ConcurrencyLimiter needs max_concurrent > 0")
        self.max_concurrent = max_concurrent
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def __enter__(self) -> ConcurrencyLimiter:
        self._slots.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._slots.release()


class CostBucketLimiter:
    """Shopify GraphQL Admin API: a bucket of query-cost points refilled at ``restoreRate`` per second.

    Shopify reserves a query's *requested* cost before running it and refunds the difference to the
    actual cost afterwards, so ``acquire`` waits until the bucket holds the larger of the cost passed
    and the last query's ``requestedQueryCost`` (paginated queries repeat the same query). ``observe``
    replaces the local estimate with ``extensions.cost.throttleStatus`` from each response, which is
    the shop's real balance. The defaults are the smallest published bucket (1000 points, 50/s); the
    first response corrects them to the shop's plan. Runs of one client are sequential in practice;
    with concurrent queries, the server balance does not yet include the others' reservations.
    """

    def __init__(
        self,
        *,
        maximum_available: float = 1000.0,
        restore_rate: float = 50.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._bucket = TokenBucket(restore_rate, maximum_available, clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        self.last_requested_cost: float | None = None
        self.last_actual_cost: float | None = None

    def acquire(self, cost: float = 1.0) -> None:
        """Wait until the bucket can pay the expected cost of the next query, then reserve it."""
        with self._lock:
            expected = max(cost, self.last_requested_cost or 0.0)
        # A query costing more than the whole bucket is refused by Shopify (MAX_COST_EXCEEDED); waiting
        # longer than a full refill would not change that, so never wait for more than the bucket holds.
        self._bucket.acquire(min(expected, self._bucket.burst))

    def observe(self, response: httpx.Response) -> None:
        """Adopt the shop's balance, bucket size and restore rate from ``extensions.cost``."""
        # Parses the body a second time (the client parses it for the caller): the cost block sits at
        # the end of the body and GraphQL pages are small, so simplicity wins over saving a parse.
        try:
            cost = json_body(response).get("extensions", {}).get("cost", {})
        except (ValueError, UnicodeDecodeError, AttributeError):
            return  # truncated or non-JSON body: the client retries it; nothing to learn here
        if not isinstance(cost, dict):
            return
        status: Any = cost.get("throttleStatus")
        with self._lock:
            self.last_requested_cost = _float_or(cost.get("requestedQueryCost"), self.last_requested_cost)
            self.last_actual_cost = _float_or(cost.get("actualQueryCost"), None)
        if isinstance(status, dict) and _float_or(status.get("currentlyAvailable"), None) is not None:
            self._bucket.reset(
                tokens=float(status["currentlyAvailable"]),
                rate_per_second=_float_or(status.get("restoreRate"), None),
                burst=_float_or(status.get("maximumAvailable"), None),
            )


def _float_or(value: Any, default: float | None) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def shopify_graphql_throttled(body: Any) -> bool:
    """True when a Shopify GraphQL body is a throttling answer (``errors[].extensions.code == THROTTLED``).

    Shopify usually answers a throttled GraphQL query with HTTP 200 and this error body instead of a
    429, so the client must look inside the body to know it should wait and retry.
    """
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return False
    return any(
        isinstance(error, dict)
        and isinstance(error.get("extensions"), dict)
        and error["extensions"].get("code") == "THROTTLED"
        for error in body["errors"]
    )
