"""WordPress REST errors and query parameters as the sandbox checks them (``rest_validate_request_arg``):
integers with bounds, enums, booleans, ISO 8601 date-times, id lists; every failure collected into one
400 ``rest_invalid_param`` naming each parameter, with ``params`` and ``details`` as WordPress sends."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx

from connectors._sandbox import json_response


def wp_error(
    status: int,
    code: str,
    message: str,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A WordPress REST error: ``{"code", "message", "data": {"status", ...}}``."""
    return json_response(
        status, {"code": code, "message": message, "data": {"status": status, **(data or {})}}, headers
    )


class InvalidParamsError(Exception):
    """``rest_invalid_param``: one or more query parameters failed their schema."""

    def __init__(self, problems: dict[str, tuple[str, str]]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems

    def response(self) -> httpx.Response:
        names = ", ".join(self.problems)
        params = {n: m for n, (_, m) in self.problems.items()}
        details = {n: {"code": c, "message": m, "data": None} for n, (c, m) in self.problems.items()}
        return wp_error(
            400,
            "rest_invalid_param",
            f"Invalid parameter(s): {names}",
            {"params": params, "details": details},
        )


class Params:
    """Query parameters read as WordPress validates them (``rest_validate_request_arg``)."""

    def __init__(self, query: dict[str, str]) -> None:
        self.query = query
        self.problems: dict[str, tuple[str, str]] = {}

    def integer(
        self, name: str, default: int | None, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        text = self.query.get(name)
        if text is None or text == "":
            return default
        if not re.fullmatch(r"-?\d+", text.strip()):
            self.problems[name] = ("rest_invalid_type", f"{name} is not of type integer.")
            return default
        value = int(text)
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            self.problems[name] = (
                "rest_out_of_bounds",
                f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)",
            )
        elif minimum is not None and value < minimum:
            self.problems[name] = ("rest_out_of_bounds", f"{name} must be greater than or equal to {minimum}")
        return value

    def choice(self, name: str, default: str, options: Iterable[str]) -> str:
        value = self.query.get(name, default)
        allowed = list(options)
        if value not in allowed:
            self.problems[name] = ("rest_not_in_enum", f"{name} is not one of {', '.join(allowed)}.")
            return default
        return value

    def boolean(self, name: str) -> bool:
        value = self.query.get(name, "false").lower()
        if value not in ("true", "false", "1", "0"):
            self.problems[name] = ("rest_invalid_type", f"{name} is not of type boolean.")
        return value in ("true", "1")

    def date(self, name: str) -> datetime | None:
        """A date-time bound as WordPress compares it: its wall-clock value, offset dropped."""
        text = self.query.get(name)
        if text is None:
            return None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?", text):
            self.problems[name] = ("rest_invalid_date", "Invalid date.")
            return None
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00").replace(" ", "T"))
        return parsed.replace(tzinfo=None, microsecond=0)

    def ids(self, name: str) -> list[int]:
        text = self.query.get(name, "")
        return [int(p) for p in re.split(r"[\s,]+", text) if p.isdigit()]

    def check(self) -> None:
        if self.problems:
            raise InvalidParamsError(self.problems)


__all__ = ["InvalidParamsError", "Params", "wp_error"]
