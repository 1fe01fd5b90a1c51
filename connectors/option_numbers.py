"""Numeric connector options, read one way by every built-in connector.

An option comes from ``profilesync.yaml`` or the command line as text (``"1000"``), or from a caller
as an int (or a float). Python's ``int()`` and ``float()`` read more than a person means: ``"1_000"``
(a digit separator), ``"١٠٠٠"`` (Arabic-Indic digits) and ``"²"`` (``isdigit`` says yes, ``int``
raises). A value like that is a typo or a paste, so it is refused with an error naming the option and
what it takes, not read as something else. What a working configuration held before and means one
thing is still read: a leading ``+``, a float with no fraction for a whole number (``5.0`` from a
program), exponent notation for a share (``5e-2``). Only ASCII decimal digits are numbers here;
surrounding blanks are ignored; an empty value means the default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from core.errors import ConnectorConfigError

__all__ = ["decimal_share", "whole_number"]

_WHOLE: Final = re.compile(r"[+-]?[0-9]+", re.ASCII)
_SHARE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _range(low: int, high: int | None, lower_reads_as_low: bool) -> str:
    if lower_reads_as_low:
        return f"(any below {low:,} is read as {low:,})"
    return f"from {low:,} to {high:,}" if high is not None else f"of at least {low:,}"


def whole_number(
    options: Mapping[str, Any],
    name: str,
    *,
    connector: str,
    default: int,
    low: int,
    high: int | None = None,
    meaning: str = "",
    lower_reads_as_low: bool = False,
) -> int:
    """Option ``name`` of ``options``: an int (or a float with no fraction), or ASCII decimal digits
    with an optional sign, in ``low``..``high`` (``high`` None: no upper bound); ``default`` when it is
    absent or blank. ``lower_reads_as_low``: a number below ``low`` is read as ``low`` (an option whose
    every negative value meant one thing). Anything else raises ``ConnectorConfigError`` naming the
    connector, the option and the range."""
    raw = options.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and _WHOLE.fullmatch(raw.strip()):
        value = int(raw.strip())
    if value is not None and lower_reads_as_low:
        value = max(value, low)
    if value is None or value < low or (high is not None and value > high):
        what = f" {meaning}" if meaning else ""
        raise ConnectorConfigError(
            f"{connector}: option {name} must be a whole number {_range(low, high, lower_reads_as_low)}"
            f"{what} (plain digits 0-9), got {raw!r}"
        )
    return value


def decimal_share(options: Mapping[str, Any], name: str, *, connector: str, default: float) -> float:
    """Option ``name`` of ``options``: a share in [0, 1) written in ASCII decimals (``0.1``, ``.25``,
    ``+0.1``, ``5e-2``, ``-0``: what ``float`` reads of such text) or given as a number; ``default`` when
    it is absent or blank."""
    raw = options.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str) and _SHARE.fullmatch(raw.strip()):
        value = float(raw.strip()) + 0.0  # "-0" as float() read it: 0 (the sign dropped)
    if value is None or not 0.0 <= value < 1.0:
        raise ConnectorConfigError(
            f"{connector}: option {name} must be a share from 0 up to but not including 1, in plain "
            f"decimals (such as 0.1), got {raw!r}"
        )
    return value
