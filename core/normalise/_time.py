"""Timestamps: ``normalise_timestamp`` (ISO 8601, RFC 2822, epoch seconds or milliseconds), and
``epoch_moment`` (only the epoch forms, for cursors that read a vendor's ISO stamps)."""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Final

from core.errors import NormalisationError

# (the clock normalisation reads when its options fix none: ours, core.time_bound.utc_now)
from core.time_bound import utc_now as utc_now

from ._limits import _CACHE_SIZE

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Numbers above this are epoch milliseconds (HubSpot), below it seconds: 1e11 seconds is the year
#: 5138, and 1e11 milliseconds is 1973.
_MS_THRESHOLD: Final = 1e11
_MIN_YEAR: Final = 1970
_MAX_YEAR: Final = 2100
# Digit strings long enough to be epoch seconds or ms; shorter ones ("20260105") are ISO dates.
_EPOCH_STRING: Final = re.compile(r"-?\d{9,}(?:\.\d+)?")
#: Whole epoch seconds or milliseconds as text (``epoch_moment``): digits only.
_EPOCH_DIGITS: Final = re.compile(r"\d{9,20}")


def normalise_timestamp(value: str | int | float | Decimal | datetime) -> datetime:
    """Return an aware datetime in UTC.

    Strings are ISO 8601 ("2026-01-05T10:00:00Z", offsets such as "+01:00", a space instead of
    "T"), RFC 2822 ("Mon, 05 Jan 2026 10:00:00 GMT") or digit strings of epoch time. Naive strings
    and datetimes are taken as UTC. Numbers are Unix epoch seconds, or milliseconds when above
    1e11 (HubSpot sends milliseconds). Booleans, NaN and years before 1970 or after 2100 raise
    ``NormalisationError("timestamp", reason)``.
    """
    if type(value) is str and len(value) <= 64:  # nearly every call: the str branch below, first
        return _parse_timestamp(value)
    if isinstance(value, bool):
        raise NormalisationError("timestamp", "a boolean is not a timestamp")
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, date):
        return _check_year(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, int | float | Decimal):
        return _from_epoch(value)
    if isinstance(value, str):
        if len(value) > 64:
            raise NormalisationError("timestamp", "too long to be a timestamp")
        return _parse_timestamp(value)
    if value is None:
        raise NormalisationError("timestamp", "missing")
    raise NormalisationError("timestamp", f"not a timestamp ({type(value).__name__})")


def epoch_moment(value: object) -> datetime | None:
    """The moment a stamp written as epoch time names, read as ``normalise_timestamp`` reads it, or
    None when ``value`` is not epoch time (or is out of its years).

    Epoch time is a JSON integer, or a string of nine or more digits (``"1796472005"`` seconds,
    ``"1796472005000"`` milliseconds; the threshold between them is 1e11, as for numbers). Shorter
    digit strings are refused: ``"20260105"`` is an ISO date, not 1970. Floats are refused too (a
    cursor keeps whole seconds). A pull's cursor reads a vendor's ISO stamp itself and asks this only
    when that fails, so that a record its normalisation dates by such a stamp moves the cursor too
    (a record the cursor could not date was pulled again on every run).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number: int | Decimal = value
    elif isinstance(value, str) and len(value) <= 64 and _EPOCH_DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    try:
        return _from_epoch(number)
    except NormalisationError:
        return None


def datable(moment: datetime) -> datetime | None:
    """``moment`` when normalisation dates a record by it (its UTC year in 1970..2100), else None.

    A cursor asks this of the time it read from a record: one normalisation refuses (a
    ``0001-01-01T00:00:00Z`` null-date sentinel, 1969, 2200) is no time to the cursor either, so the
    record is undated there, delivered (and quarantined) once in each version. Read as a time, one
    before the watermark was dropped unseen on every incremental run, never quarantined or counted,
    and one past 2100 came back and was quarantined again on every run."""
    return moment if _MIN_YEAR <= moment.astimezone(UTC).year <= _MAX_YEAR else None


def _from_epoch(value: int | float | Decimal) -> datetime:
    if (isinstance(value, float) and not math.isfinite(value)) or (
        isinstance(value, Decimal) and not value.is_finite()  # math.isfinite refuses sNaN
    ):
        raise NormalisationError("timestamp", "not a finite number")
    # Integers stay integers (timedelta keeps whole milliseconds exact, where value / 1000 would
    # round); a fraction goes through float, which is exact enough for microseconds.
    number: int | float = value if isinstance(value, int) else float(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
    try:
        if abs(number) > _MS_THRESHOLD:
            moment = _EPOCH + timedelta(milliseconds=number)
        else:
            moment = _EPOCH + timedelta(seconds=number)
    except (OverflowError, ValueError):
        raise NormalisationError("timestamp", f"year out of range {_MIN_YEAR}..{_MAX_YEAR}") from None
    return _check_year(moment)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_timestamp(value: str) -> datetime:
    text = value.strip()
    if not text:
        raise NormalisationError("timestamp", "empty")
    # An ISO date has "-" for its fifth character, where an epoch number has a digit: most times
    # in a file are ISO, and the pattern cost a third of their parse.
    if text[4:5] != "-" and _EPOCH_STRING.fullmatch(text):
        return _from_epoch(Decimal(text))
    try:
        # fromisoformat wants an upper-case "T" and "Z"; upper-casing changes nothing else in ISO.
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        moment = _parse_rfc2822(text)
    if moment.tzinfo is UTC and _MIN_YEAR <= moment.year <= _MAX_YEAR:
        return moment  # what _to_utc returns for it ("Z", "+00:00"), without its calls
    return _to_utc(moment)


def _parse_rfc2822(text: str) -> datetime:
    """Parse an RFC 2822 date ("Mon, 05 Jan 2026 10:00:00 GMT"), as some APIs and CSVs send."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise NormalisationError("timestamp", f"not an ISO 8601 timestamp: {text[:40]!r}") from None
    # email.utils reads any year below 100 as a two-digit year, so "0001" would become 2001; a
    # "0001-01-01" placeholder must be refused, not moved to a plausible date.
    long_numbers = [token for token in text.replace(",", " ").split() if token.isdigit() and len(token) > 2]
    if long_numbers and str(moment.year) not in long_numbers:
        raise NormalisationError("timestamp", f"year out of range {_MIN_YEAR}..{_MAX_YEAR}")
    return moment


def _to_utc(moment: datetime) -> datetime:
    """Naive means UTC; aware is converted. Then the year must be in range."""
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset took year 1 or 9999 out of datetime's range
        raise NormalisationError("timestamp", f"year out of range {_MIN_YEAR}..{_MAX_YEAR}") from None
    return _check_year(moment)


def _check_year(moment: datetime) -> datetime:
    if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
        raise NormalisationError("timestamp", f"year {moment.year} out of range {_MIN_YEAR}..{_MAX_YEAR}")
    return moment
