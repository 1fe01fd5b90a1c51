"""Between a vendor's sandbox and its clients: the JSON answers that hold the marked person
(test_attack13_hostile_values_on_the_wire ``MARKED``) rewritten in place, as a vendor's odd answer
would read (attack13's junk, rob23's stamps and totals)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.integration.test_attack13_hostile_values_on_the_wire import MARKED


def holds_marked(value: Any) -> bool:
    """Whether a JSON value holds ``MARKED`` as one of its leaves."""
    if isinstance(value, dict):
        return any(holds_marked(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_marked(v) for v in value)
    return value == MARKED


def rewrite_marked_answers(sandbox: Any, edit: Callable[[Any], None]) -> None:
    """``sandbox.route`` wrapped: a JSON answer holding ``MARKED`` is parsed, ``edit`` changes it in
    place, and it is answered re-encoded (its Content-Length dropped); any other answer as it was."""
    route = sandbox.route

    def rewritten(request: httpx.Request) -> httpx.Response:
        response = route(request)
        body = response.read()
        if MARKED.encode() not in body or "json" not in response.headers.get("content-type", ""):
            return response
        data = json.loads(body)
        edit(data)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=json.dumps(data).encode(), headers=headers)

    sandbox.route = rewritten
