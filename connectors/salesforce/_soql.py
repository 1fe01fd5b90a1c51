"""The part of SOQL the Salesforce sandbox understands, parsed as Salesforce would and refused as it does.

Supported (SOQL and SOSL Reference): ``SELECT field, Parent.field, ... | COUNT() FROM Object``,
``WHERE`` conditions joined by ``AND`` (``=``, ``!=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``IN (...)``,
``NOT IN (...)``) on strings (``'...'`` with backslash escapes; ``=`` ignores case, as Salesforce
compares text), numbers, ``true``/``false``, ``null``, unquoted datetimes (``2026-01-02T03:04:05Z``,
``+01:00``) and dates; ``ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...``; ``LIMIT n``.
Anything else (``OR``, subqueries, functions other than ``COUNT()``, ``GROUP BY``, ``OFFSET``) is a
``SoqlError`` with ``MALFORMED_QUERY``: the sandbox says what it does not support instead of guessing.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>'(?:[^'\\]|\\.)*')
    |(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<num>-?\d+(?:\.\d+)?)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "order",
    "by",
    "limit",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_REFUSED = {
    "or",
    "group",
    "having",
    "offset",
    "typeof",
    "with",
    "for",
    "using",
    "not like",
    "like",
    "includes",
}


class SoqlError(ValueError):
    """A query Salesforce (or this sandbox) refuses: ``code`` is the errorCode of the 400 answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Query:
    sobject: str
    fields: tuple[str, ...]
    count: bool = False
    where: tuple[Condition, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    """(field, descending) pairs."""
    limit: int | None = None
    text: str = field(default="", compare=False)

    def referenced(self) -> set[str]:
        return {*self.fields, *(c.field for c in self.where), *(f for f, _ in self.order)}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position, text = 0, text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[position : position + 20]}'")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return out


def _literal(kind: str, raw: str) -> Any:
    if kind == "str":
        body, out, i = raw[1:-1], [], 0
        while i < len(body):
            if body[i] == "\\":
                if i + 1 >= len(body) or body[i + 1] not in _ESCAPES:
                    raise SoqlError("MALFORMED_QUERY", f"invalid escape sequence in {raw}")
                out.append(_ESCAPES[body[i + 1]])
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)
    if kind == "dt":
        text = raw.replace("Z", "+00:00")
        if re.search(r"[+-]\d{4}$", text):
            text = text[:-2] + ":" + text[-2:]
        return datetime.fromisoformat(text).astimezone(UTC)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "num":
        return float(raw) if "." in raw else int(raw)
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{raw}'")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.items = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.items[self.at] if self.at < len(self.items) else ("end", "")

    def word(self, *expected: str) -> str:
        kind, raw = self.peek()
        if kind != "word" or (expected and raw.lower() not in expected):
            wanted = " or ".join(e.upper() for e in expected) or "a field name"
            raise SoqlError(
                "MALFORMED_QUERY", f"expecting {wanted}, unexpected token: '{raw or 'end of query'}'"
            )
        self.at += 1
        return raw

    def is_word(self, *names: str) -> bool:
        kind, raw = self.peek()
        return kind == "word" and raw.lower() in names

    def punct(self, char: str) -> bool:
        if self.peek() == ("punct", char):
            self.at += 1
            return True
        return False

    def parse(self) -> Query:
        self.word("select")
        fields: list[str] = []
        count = False
        if self.is_word("count") and self.items[self.at + 1 : self.at + 3] == [
            ("punct", "("),
            ("punct", ")"),
        ]:
            self.at += 3
            count = True
        else:
            while True:
                name = self.word()
                if name.lower() in _KEYWORDS:
                    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{name}'")
                if self.peek() == ("punct", "("):
                    raise SoqlError("MALFORMED_QUERY", f"the sandbox does not support the function {name}()")
                fields.append(name)
                if not self.punct(","):
                    break
        self.word("from")
        sobject = self.word()
        where: list[Condition] = []
        if self.is_word("where"):
            self.at += 1
            while True:
                where.append(self.condition())
                if not self.is_word("and"):
                    break
                self.at += 1
        order: list[tuple[str, bool]] = []
        if self.is_word("order"):
            self.at += 1
            self.word("by")
            while True:
                name = self.word()
                descending = False
                if self.is_word("asc", "desc"):
                    descending = self.word().lower() == "desc"
                if self.is_word("nulls"):
                    self.at += 1
                    self.word("first", "last")
                order.append((name, descending))
                if not self.punct(","):
                    break
        limit = None
        if self.is_word("limit"):
            self.at += 1
            kind, raw = self.peek()
            if kind != "num" or not raw.isdigit():
                raise SoqlError("MALFORMED_QUERY", f"LIMIT must be a whole number, not '{raw}'")
            self.at += 1
            limit = int(raw)
        if self.at != len(self.items):
            raw = self.peek()[1]
            why = (
                f"the sandbox does not support {raw.upper()}"
                if raw.lower() in _REFUSED
                else f"unexpected token: '{raw}'"
            )
            raise SoqlError("MALFORMED_QUERY", why)
        return Query(sobject, tuple(fields), count, tuple(where), tuple(order), limit, self.text)

    def condition(self) -> Condition:
        if self.peek() == ("punct", "("):
            raise SoqlError("MALFORMED_QUERY", "the sandbox does not support grouped conditions")
        name = self.word()
        negated = False
        if self.is_word("not"):
            self.at += 1
            negated = True
        if self.is_word("in"):
            self.at += 1
            if not self.punct("("):
                raise SoqlError("MALFORMED_QUERY", "IN needs a parenthesised list of values")
            values = []
            while True:
                kind, raw = self.peek()
                if kind == "word" and raw.lower() == "select":
                    raise SoqlError("MALFORMED_QUERY", "the sandbox does not support semi-join subqueries")
                self.at += 1
                values.append(_literal(kind, raw))
                if self.punct(")"):
                    break
                if not self.punct(","):
                    raise SoqlError("MALFORMED_QUERY", "expecting ',' or ')' in an IN list")
            return Condition(name, "not in" if negated else "in", tuple(values))
        if negated:
            raise SoqlError("MALFORMED_QUERY", "NOT is supported before IN only")
        kind, op = self.peek()
        if kind != "op":
            raise SoqlError(
                "MALFORMED_QUERY", f"expecting an operator after {name}, unexpected token: '{op}'"
            )
        self.at += 1
        kind, raw = self.peek()
        self.at += 1
        return Condition(name, "!=" if op == "<>" else op, _literal(kind, raw))


def parse(text: str) -> Query:
    """The query, or ``SoqlError`` (``MALFORMED_QUERY``) naming what is wrong or not supported."""
    if not text.strip():
        raise SoqlError("MALFORMED_QUERY", "the query is empty")
    return _Parser(text).parse()


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def matches(condition: Condition, value: Any) -> bool:
    """Whether a record's value satisfies one condition (text compared without case, as SOQL does)."""
    op, wanted = condition.op, condition.value
    if op in ("in", "not in"):
        found = _comparable(value) in {_comparable(w) for w in wanted}
        return found if op == "in" else not found
    if wanted is None or value is None:
        equal = wanted is None and value is None
        return equal if op == "=" else (not equal if op == "!=" else False)
    if isinstance(value, datetime) and isinstance(wanted, date) and not isinstance(wanted, datetime):
        value = value.date()
    left, right = _comparable(value), _comparable(wanted)
    try:
        return bool(_OPERATORS[op](left, right))
    except TypeError:
        raise SoqlError(
            "INVALID_QUERY_FILTER_OPERATOR", f"{condition.field} cannot be compared with {wanted!r}"
        ) from None


def run(query: Query, rows: Sequence[Any], value: Callable[[Any, str], Any]) -> list[Any]:
    """The rows that pass every condition, in the query's order, up to its limit."""
    chosen = [r for r in rows if all(matches(c, value(r, c.field)) for c in query.where)]
    for name, descending in reversed(query.order):
        present = [r for r in chosen if value(r, name) is not None]
        absent = [r for r in chosen if value(r, name) is None]
        present.sort(key=lambda r: _comparable(value(r, name)), reverse=descending)
        chosen = absent + present if not descending else present + absent  # nulls first ascending
    return chosen[: query.limit] if query.limit is not None else chosen


__all__ = ["Condition", "Query", "SoqlError", "matches", "parse", "run"]
