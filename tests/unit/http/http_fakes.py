"""Fakes for the HTTP kit tests: a clock that only moves when slept, scripted vendor APIs.

A module of its own (not conftest) so test modules can import it by a name no other test directory uses.
"""

from __future__ import annotations

import httpx

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


class FakeClock:
    """Monotonic time that advances only when ``sleep`` is called, recording every sleep."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedApi:
    """A MockTransport handler answering with the given steps in order (the last one repeats).

    A step is an httpx.Response (copied, so it can be served again) or an exception to raise.
    """

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step.status_code, headers=step.headers, content=step.content)
