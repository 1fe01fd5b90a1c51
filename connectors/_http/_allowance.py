"""A vendor's allowance of requests over a long window (a day), read from its usage header.

Some vendors limit an account by requests per rolling day rather than per second: Salesforce gives
an org an allocation per 24 hours that every integration spends from, and reports the count on every
REST answer (``Sforce-Limit-Info: api-usage=18/5000``). Spending it to the last request would leave
the org's other integrations (and its users' own tools) locked out until the window rolls, so
``DailyAllowance`` stops a run while a ``reserve`` share is still left: ``acquire`` raises
``AllowanceExhaustedError`` (retryable: the next scheduled run resumes from the saved cursor).

The server's count is authoritative: ``observe`` adopts the used and total figures of every answer
(other processes spend the same allowance), and between answers each request adds its cost locally.
``observe`` also turns the vendor's own answers about the limit into the right failure: an answer
that says the allowance is spent (``exhausted``) stops the run; one that says "busy, try again"
(``busy``, Salesforce's concurrent long-running request limit) is retried like a 429.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from core.errors import RetryableError

from ._retry import TransientAttemptError, parse_retry_after

UsageReader = Callable[[httpx.Response], "tuple[int, int] | None"]


class AllowanceExhaustedError(RetryableError):
    """The vendor account's long-window allowance is (nearly) spent; the run stops to leave the rest."""

    def __init__(
        self, connector: str, used: int, limit: int, reserve: float, *, refused: bool = False
    ) -> None:
        if refused:
            what = f"the API refused the request: the account's allowance is spent ({used} of {limit} used)"
        else:
            what = (
                f"{used} of the account's {limit} API requests are used; this run stops with "
                f"{reserve:.0%} left for the account's other integrations"
            )
        super().__init__(
            f"{connector}: {what}. The next scheduled run resumes from the saved cursor once the window "
            "rolls on; raise the account's allowance or the reserve option to run more now"
        )
        self.connector = connector
        self.used = used
        self.limit = limit


class DailyAllowance:
    """Stops before the last ``reserve`` share of an allowance that ``read_usage`` reports."""

    def __init__(
        self,
        connector: str,
        read_usage: UsageReader,
        *,
        reserve: float = 0.1,
        exhausted: Callable[[httpx.Response], bool] | None = None,
        busy: Callable[[httpx.Response], bool] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0.0 <= reserve < 1.0:
            raise ValueError(f"the reserve is a share in [0, 1), got {reserve}")
        self.connector = connector
        self.reserve = reserve
        self._read = read_usage
        self._exhausted = exhausted
        self._busy = busy
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self.used: float | None = None
        self.limit: int | None = None

    def acquire(self, cost: float = 1.0) -> None:
        """Count ``cost`` requests, or raise ``AllowanceExhaustedError`` if they would eat the reserve."""
        with self._lock:
            if self.used is None or self.limit is None:
                return  # nothing known before the first answer: that answer will tell
            if self.used + cost > self.limit * (1.0 - self.reserve):
                raise AllowanceExhaustedError(self.connector, int(self.used), self.limit, self.reserve)
            self.used += cost

    def observe(self, response: httpx.Response) -> None:
        """Adopt the server's figures; map its answers about the limit to a stop or a retry."""
        usage = self._read(response)
        if usage is not None:
            with self._lock:
                self.used, self.limit = float(usage[0]), usage[1]
        if self._exhausted is not None and self._exhausted(response):
            with self._lock:
                used, limit = int(self.used or 0), self.limit or 0
            raise AllowanceExhaustedError(self.connector, used, limit, self.reserve, refused=True)
        if self._busy is not None and self._busy(response):
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._wall_clock())
            raise TransientAttemptError(
                f"HTTP {response.status_code}: the account's concurrent request limit is reached",
                status=response.status_code,
                retry_after=retry_after,
                processed_maybe=False,
            )


__all__ = ["AllowanceExhaustedError", "DailyAllowance", "UsageReader"]
