"""The ``fingerprint`` of a ``fuzzy`` suppression entry: whose fingerprints it holds.

Two erased people may share a look-up key (namesakes born the same day: core.suppression_fuzzy), so
one entry holds the fingerprints of every erasure filed under its key, each erasure's own:

* a JSON list of fingerprints: all of them the entry's ``erasure``'s (one erasure; the form every
  entry had before this version, read the same way);
* a JSON object, erasure (request id) to its list of fingerprints (several erasures).

Nothing else is read: an entry in another form (written by a later version, say) or holding a field
this version does not know raises ``UnknownFingerprintsError``, a ``StoreLayoutError``, not a data
error, so ingest stores none of the batch (it is retried, and dead-lettered, as when the store is
unavailable) rather than weigh a record against fingerprints it cannot read and store a record of an
erased person; an erasure or a lift meeting it fails the same way rather than overwrite it.

A later erasure adds its fingerprints to the entry (``merged``); lifting an erasure removes its own
(``without``), and the entry goes with the last of them. The stores apply both as one conditional
update of the entry (core.storage: memory under its lock, SQLite in one write transaction, DynamoDB
conditioned on the entry's ``version``, retried on conflict). The whole entry stays within
``MAX_PRINTS_CHARS`` (DynamoDB's 400 KB item): an erasure adding fingerprints to a full entry keeps
those that fit.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Final

from core.errors import StoreLayoutError
from core.suppression import SuppressionEntry

__all__ = [
    "FIELDS",
    "MAX_PRINTS_CHARS",
    "UnknownFingerprintsError",
    "all_prints",
    "fit",
    "merged",
    "prints_by_erasure",
    "without",
]

#: What one entry's fingerprints may hold, in characters (hex and field names: a byte each). DynamoDB
#: holds an item up to 400 KB, the entry's keys, kind, erasure and time beside; a look-up key holding
#: more (a person with 600 to 900 records or more under one name and birth date) keeps the first that
#: fit, and each of her records is still found by its own house and street key when it has one.
MAX_PRINTS_CHARS: Final = 384 * 1024

Prints = list[dict[str, str]]

#: The fields a fingerprint may hold (core.suppression_fuzzy's compared values and present flags).
FIELDS: Final = frozenset(
    {
        "first_name",
        "last_name",
        "date_of_birth",
        "address",
        "street",
        "birth_year",
        "address_line2",
        "postal_code",
        "city",
        "region",
        "national_id",
        "email",
        "phone",
    }
)


class UnknownFingerprintsError(StoreLayoutError):
    """A ``fuzzy`` entry whose fingerprints are in a form this version does not read."""

    def __init__(self, entry: SuppressionEntry, what: str) -> None:
        super().__init__(
            f"fuzzy suppression entry {entry.hash[:12]}... holds fingerprints this version cannot read "
            f"({what}): it was written by a later version; nothing was stored. Run that version (or a "
            "later one) wherever records are ingested or people erased (docs/privacy.md, upgrade order)"
        )


def _checked(entry: SuppressionEntry, held: Any) -> Prints:
    """``held`` as a list of fingerprints, or ``UnknownFingerprintsError``."""
    if not isinstance(held, list):
        raise UnknownFingerprintsError(entry, f"a {type(held).__name__} where a list was expected")
    for fingerprint in held:
        if not isinstance(fingerprint, dict):
            raise UnknownFingerprintsError(
                entry, f"a {type(fingerprint).__name__} where a fingerprint was expected"
            )
        unknown = sorted(str(k) for k in set(fingerprint) - FIELDS)
        if unknown or not all(isinstance(v, str) for v in fingerprint.values()):
            raise UnknownFingerprintsError(entry, f"fields {unknown or 'with values that are not text'}")
    return held


def fit(prints: Prints, budget: int = MAX_PRINTS_CHARS) -> Prints:
    """The fingerprints, in order, that fit ``budget`` characters as a JSON list."""
    if len(json.dumps(prints, sort_keys=True)) <= budget:
        return prints
    kept: Prints = []
    size = 2
    for fingerprint in prints:
        size += len(json.dumps(fingerprint, sort_keys=True)) + 2
        if size > budget:
            break
        kept.append(fingerprint)
    return kept


def prints_by_erasure(entry: SuppressionEntry) -> dict[str, Prints]:
    """Each erasure's fingerprints in a ``fuzzy`` entry (an untagged list: the entry's erasure's);
    ``UnknownFingerprintsError`` for any other form (the module docstring)."""
    if not entry.fingerprint:
        return {}
    try:
        held: Any = json.loads(entry.fingerprint)
    except ValueError as error:
        raise UnknownFingerprintsError(entry, "not JSON") from error
    if isinstance(held, list):
        return {entry.erasure: _checked(entry, held)} if held else {}
    if not isinstance(held, dict):
        raise UnknownFingerprintsError(entry, f"a {type(held).__name__}")
    checked = {str(erasure): _checked(entry, prints) for erasure, prints in held.items()}
    return {erasure: prints for erasure, prints in checked.items() if prints}


def all_prints(entry: SuppressionEntry) -> Prints:
    """Every fingerprint an entry holds, whoever's."""
    return [p for _, prints in sorted(prints_by_erasure(entry).items()) for p in prints]


def _encoded(owner: str, by: dict[str, Prints]) -> str:
    if set(by) == {owner}:
        return json.dumps(by[owner], sort_keys=True)
    return json.dumps(dict(sorted(by.items())), sort_keys=True)


def merged(stored: SuppressionEntry | None, new: SuppressionEntry) -> SuppressionEntry:
    """The entry ``stored`` with ``new``'s fingerprints added as its erasure's (replacing what that
    erasure held there before: suppressing again is idempotent); ``new`` itself when none is stored.
    The entry keeps its owner (``erasure``) and time; ``new``'s fingerprints are cut to what fits."""
    if stored is None or stored.kind != "fuzzy":
        base: SuppressionEntry = replace(new, fingerprint="[]")
    else:
        base = stored
    by = prints_by_erasure(base)
    by.pop(new.erasure, None)
    owner = base.erasure if base.erasure in by else new.erasure
    # The others as the tagged object they become beside ``new`` (an untagged list is shorter by its
    # erasure's id and the braces), and ``new``'s ``, "<id>": `` on top.
    others = len(json.dumps(dict(sorted(by.items())), sort_keys=True)) if by else 0
    budget = MAX_PRINTS_CHARS - others - len(json.dumps(new.erasure)) - 4
    theirs = fit(prints_by_erasure(new).get(new.erasure, []), budget)
    if theirs:
        by[new.erasure] = theirs
    if not by:
        return replace(new, fingerprint="")
    return replace(base, erasure=owner, fingerprint=_encoded(owner, by))


def without(
    stored: SuppressionEntry, erasure: str
) -> tuple[SuppressionEntry | None, SuppressionEntry | None]:
    """Lifting ``erasure`` from a ``fuzzy`` entry: (the entry left, None when no fingerprint
    remains; what was lifted, None when the entry held none of that erasure's)."""
    by = prints_by_erasure(stored)
    if erasure not in by:
        if stored.erasure == erasure and not by:
            return None, stored  # an entry of this erasure's without fingerprints
        return stored, None
    mine = by.pop(erasure)
    lifted = replace(stored, erasure=erasure, fingerprint=json.dumps(mine, sort_keys=True))
    if not by:
        return None, lifted
    owner = stored.erasure if stored.erasure in by else min(by)
    return replace(stored, erasure=owner, fingerprint=_encoded(owner, by)), lifted
