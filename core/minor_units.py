"""ISO 4217 minor units: the decimal places every amount in a currency is normalised to.

A module of its own, with no imports, so that what only needs the table (the merge function's
add-only mark, core.grow_mark and core.grow_profile) loads no normaliser (phonenumbers, pycountry:
tests/unit/functions/test_cold_start.py). core.normalise re-exports ``minor_units``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MINOR_UNITS", "minor_units"]

#: ISO 4217 minor units where they are not 2.
MINOR_UNITS: Final = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_units(currency: str) -> int:
    """The decimal places every amount in ``currency`` (an ISO 4217 code) is normalised to."""
    return MINOR_UNITS.get(currency, 2)
