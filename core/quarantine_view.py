"""A quarantined record as the person's export shows it: only what is hers.

An item is found by the keys its raw values normalise to, and a refused value can name two people
(``anne.other@example.com, zq@example.com``: core.quarantine keys it by both). Such an item is the
other person's record as much as hers: her export must not hand her their address and name. When
every value of the item that names her also names someone else (an address or number that is not
one of hers), the export shows the item's key, its reason up to the first value it quotes, and the
identifiers of hers it names, and withholds its raw text (the other addresses and every other
personal value in it). An item with a
value that names her alone, or found by her record id only, is hers and is shown whole.

Her erasure deletes her quarantined records, but such an item is the other person's record: it is
written again without her addresses and her keyed hashes (``without_her``), the rest kept, its
reason cut as her export shows it (it quotes the value that names her).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.ports import QuarantineEntry
from core.privacy_store import QuarantineItem
from core.quarantine import ADDRESS, raw_values, refused_emails, value_keys

WITHHELD = (
    "withheld: this quarantined record names other people in the same value as you; "
    "only your identifiers in it are shown"
)


def names_others(item: QuarantineItem, theirs: set[str], region: str = "US") -> list[set[str]]:
    """The keys of each value of ``item`` that names her (``theirs``: her identifier keys) when every
    one of them also names someone else; empty when the item is hers (or names her nowhere)."""
    naming = [keys for keys in (value_keys(text, region) for text in raw_values(item.raw)) if keys & theirs]
    return [] if any(keys <= theirs for keys in naming) else naming


def as_hers(item: QuarantineItem, theirs: set[str], region: str = "US") -> QuarantineItem:
    """``item`` as her export shows it (see the module docstring); ``theirs``: her identifier keys."""
    naming = names_others(item, theirs, region)
    if not naming:
        return item
    yours = sorted({key for keys in naming for key in keys & theirs})
    shown = {"withheld": WITHHELD, "yours": [key.partition("#")[2] for key in yours]}
    return replace(
        item, raw=json.dumps(shown, ensure_ascii=False, sort_keys=True), reason=withheld_reason(item.reason)
    )


def withheld_reason(reason: str) -> str:
    """``reason`` cut before the first value it quotes: it quotes the values normalisation refused
    ("dropped: email 'anne.other@..., ...'"), which name her beside someone else."""
    return reason.split("'", 1)[0].rstrip(" :") + (" (values withheld)" if "'" in reason else "")


def without_her(item: QuarantineItem, theirs: set[str], hashes: set[str]) -> QuarantineEntry:
    """``item`` (one that ``names_others``) as her erasure leaves it: the addresses of hers taken out
    of its values, her keyed ``hashes`` out of its subjects, the rest (the other person's record) kept
    under the same key and time; its reason cut before the first value it quotes (``withheld_reason``:
    it quotes the refused value that names her, attack31p)."""
    at, _, key = item.key.sk.partition("#")
    subjects = tuple(sorted(item.subjects - hashes)) if item.subjects else ()
    raw: Any = item.raw
    try:
        raw = json.dumps(_scrub(json.loads(raw), theirs), sort_keys=True)
    except ValueError:
        raw = _scrub(raw, theirs)
    connector = item.key.pk.partition("#")[2]
    return QuarantineEntry(
        connector, key, withheld_reason(item.reason), raw, datetime.fromisoformat(at), subjects
    )


def _scrub(value: Any, theirs: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, theirs) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, theirs) for v in value]
    if not isinstance(value, str) or "@" not in value:
        return value

    def hers(match: re.Match[str]) -> str:
        named = {f"email#{e}" for e in refused_emails(match.group().rstrip(".").strip("'{}"))}
        return "" if named & theirs else match.group()

    return ADDRESS.sub(hers, value)


__all__ = ["WITHHELD", "as_hers", "names_others", "withheld_reason", "without_her"]
