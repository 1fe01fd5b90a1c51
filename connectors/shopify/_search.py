"""The sandbox's reading of Shopify's search syntax (https://shopify.dev/docs/api/usage/search-syntax).

Enough for the filters clients use on customers and orders: ``field:value`` terms joined by spaces or
``AND``, the comparators ``:>``, ``:>=``, ``:<``, ``:<=``, quoted values. Time fields follow Shopify's
quirk: a quoted date-time compares to the second, while an unquoted one (or a bare date) compares by
whole day. Terms on fields the sandbox does not know are ignored with a warning, as Shopify does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from core.time_bound import utc_now

_TERM = re.compile(
    r"""\s*(?:(?P<field>[A-Za-z_][A-Za-z0-9_.]*):(?P<op>>=|<=|>|<)?\s*)?"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s]+)"""
)

TIME_FIELDS = frozenset({"updated_at", "created_at", "processed_at"})


@dataclass(frozen=True)
class Term:
    field: str | None
    op: str  # "=", ">", ">=", "<", "<="
    value: str
    quoted: bool


def parse_query(text: str | None) -> list[Term]:
    """The terms of a search query; ``AND`` connectives are dropped (AND is implied)."""
    terms: list[Term] = []
    if not text:
        return terms
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TERM.match(text, position)
        if match is None:  # pragma: no cover - the pattern accepts any non-space run
            break
        position = match.end()
        raw = match.group("value")
        if match.group("field") is None and raw.upper() == "AND":
            continue
        quoted = raw[:1] in "'\"" and raw[-1:] == raw[:1] and len(raw) >= 2
        value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if quoted else raw
        terms.append(Term(match.group("field"), match.group("op") or "=", value, quoted))
    return terms


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    return bool(left == right)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_matches(stored: str | None, term: Term) -> bool:
    """Whether a stored DateTime satisfies a time term (see the module docstring for the day quirk)."""
    return _time_check(term)(stored)


def _time_check(term: Term) -> Callable[[str | None], bool]:
    # Stored DateTimes are all spelt 2026-01-05T10:11:12Z, so they compare as strings: the term's
    # bound is converted once rather than every stored value parsed.
    if term.value.lower() == "now":
        bound = utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")  # our clock: a test moves it on
        return lambda stored: bool(stored) and _compare(stored, term.op, bound)
    if term.quoted and "T" in term.value:
        bound = _moment(term.value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return lambda stored: bool(stored) and _compare(stored, term.op, bound)
    day = date.fromisoformat(term.value[:10]).isoformat()
    return lambda stored: bool(stored) and _compare(str(stored)[:10], term.op, day)


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def text_matches(stored: str | None, term: Term) -> bool:
    """Quoted: the whole value, ignoring case. Unquoted: a token match (substring), ignoring case."""
    if stored is None:
        return False
    if term.value == "*":
        return bool(stored)
    if term.quoted:
        return stored.strip().casefold() == term.value.strip().casefold()
    return term.value.casefold() in stored.casefold()


def build_filter(
    terms: list[Term], fields: dict[str, Callable[[dict[str, Any]], Any]]
) -> tuple[Callable[[dict[str, Any]], bool], list[str]]:
    """A predicate over stored objects for these terms, and the fields it ignored (for warnings).

    ``fields`` maps a search field to the function reading it from an object; ``None`` is the default
    (free text) field.
    """
    checks: list[Callable[[dict[str, Any]], bool]] = []
    ignored: list[str] = []
    for term in terms:
        reader = fields.get(term.field or "")
        if reader is None:
            ignored.append(term.field or term.value)
            continue
        checks.append(_check(term, reader))
    return (lambda obj: all(check(obj) for check in checks)), ignored


def _check(term: Term, read: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], bool]:
    timed = _time_check(term) if term.field in TIME_FIELDS else None

    def check(obj: dict[str, Any]) -> bool:
        value = read(obj)
        if timed is not None:
            return timed(value)
        if term.field == "phone":
            return bool(digits(term.value)) and digits(value) == digits(term.value)
        if term.field == "id":
            return term.value.isdigit() and _compare(int(value), term.op, int(term.value))
        return text_matches(value, term)

    return check


__all__ = ["TIME_FIELDS", "Term", "build_filter", "digits", "parse_query", "text_matches", "time_matches"]
