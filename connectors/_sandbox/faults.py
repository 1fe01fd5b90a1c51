"""A sandbox's injected failures (``Faults``) and what it saw (``SandboxStats``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Faults:
    """Switches for injected failures, each a share of requests in [0, 1].

    ``retry_after`` is the ``Retry-After`` value sent with an injected 429: a number of seconds as a
    string (``"0"`` included), or None to send none at all. Truncated bodies cut a 2xx body in half.
    A timeout raises ``httpx.ReadTimeout`` in-process; over HTTP the connection is dropped unanswered.
    """

    throttle: float = 0.0
    server_error: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.5
    truncate: float = 0.0
    timeout: float = 0.0
    retry_after: str | None = "1"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("throttle", "server_error", "slow", "truncate", "timeout"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"Faults.{name} must be a share between 0 and 1, got {share}")

    @property
    def any(self) -> bool:
        return bool(self.throttle or self.server_error or self.slow or self.truncate or self.timeout)


@dataclass
class SandboxStats:
    """What a sandbox saw: requests by ``METHOD path``, and how many it throttled (limit or fault)."""

    requests: int = 0
    throttled: int = 0
    limit_throttled: int = 0
    by_route: dict[str, int] = field(default_factory=dict)

    def count(self, route: str) -> int:
        return self.by_route.get(route, 0)
