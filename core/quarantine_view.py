"""A quarantined record as the person's export shows it: only what is hers.

An item is found by the keys its raw values normalise to, and a refused value can name two people
(``anne.other@example.com, zq@example.com``: core.quarantine keys it by both). Such an item is the
other person's record as much as hers: her export must not hand her their address and name. When
every value of the item that names her also names someone else (an address or number that is not
one of hers), the export shows the item's key, reason and the identifiers of hers it names, and
withholds its raw text (the other addresses and every other personal value in it). An item with a
value that names her alone, or found by her record id only, is hers and is shown whole.
"""

from __future__ import annotations

import json
from dataclasses import replace

from core.privacy_store import QuarantineItem
from core.quarantine import raw_values, value_keys

WITHHELD = (
    "withheld: this quarantined record names other people in the same value as you; "
    "only your identifiers in it are shown"
)


def as_hers(item: QuarantineItem, theirs: set[str], region: str = "US") -> QuarantineItem:
    """``item`` as her export shows it (see the module docstring); ``theirs``: her identifier keys."""
    naming = [keys for keys in (value_keys(text, region) for text in raw_values(item.raw)) if keys & theirs]
    if not naming or any(keys <= theirs for keys in naming):
        return item
    yours = sorted({key for keys in naming for key in keys & theirs})
    shown = {"withheld": WITHHELD, "yours": [key.partition("#")[2] for key in yours]}
    return replace(item, raw=json.dumps(shown, ensure_ascii=False, sort_keys=True))


__all__ = ["WITHHELD", "as_hers"]
