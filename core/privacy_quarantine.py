"""Which record of which tool each of the person's quarantined records is, so that her erasure asks
that tool for it too (core.privacy), as for the records of her customer.

A quarantined item is kept under ``<at>#<record key>`` (the DynamoDB layout), and with the keyed
hashes of the identifiers its raw values normalise to, its record id among them
(``source#stripe:customer:cus_1``: core.quarantine.identifier_keys). Its record key is
``<tool>:<object type>:<id>`` since this version (core.sync.quarantine_entries); an item stored
before holds ``<tool>:<id>``, without the object type. Either way the record id asked is one whose
keyed hash the item holds: a key is never guessed. For an older item each object type its tool
declares (``connector.declaration.streams``) and each type of the person's records there is tried
against that hash. An item that none matches (stored before the hashes were kept, or of a tool whose
object types are not known here) is deleted with the others but its tool is not asked: the receipt
counts it as ``quarantined_not_asked`` (erase it at the tool by hand, ``--source``, or wait for its
30 days). So is an item that also holds a value another customer holds (an email field of two
addresses, hers and her colleague's): the record at the tool is theirs as much as hers, and a tool
is never asked to erase someone else's record (our copy of it is deleted all the same).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from core.ports import ProfileStore
from core.privacy_store import QuarantineItem
from core.schema import Identifier
from core.suppression import keyed_hash


def quarantined_targets(
    items: Sequence[QuarantineItem],
    salt: str,
    tools: Mapping[str, Any],
    sources: Iterable[str] = (),
    shared: Callable[[QuarantineItem], bool] = lambda _: False,
) -> tuple[dict[str, list[Identifier]], int]:
    """Each tool's record ids of ``items`` (by the tool the record key names), and how many items
    named no record id that could be confirmed or are ``shared`` with someone else (see the module
    docstring). ``tools`` maps a tool's name to its connector (None: could not be built);
    ``sources`` are the record keys of the person's customer, whose object types are tried too for
    an older item."""
    known: dict[str, set[str]] = {}
    for key in sources:
        tool, _, rest = key.partition(":")
        known.setdefault(tool, set()).add(rest.partition(":")[0])
    targets: dict[str, dict[str, Identifier]] = {}
    unasked = 0
    for item in items:
        found = _record_id(item, salt, tools, known)
        if found is None or shared(item):
            unasked += 1
            continue
        targets.setdefault(found.value.partition(":")[0], {})[found.key] = found
    return {tool: [ids[k] for k in sorted(ids)] for tool, ids in sorted(targets.items())}, unasked


def _record_id(
    item: QuarantineItem, salt: str, tools: Mapping[str, Any], known: Mapping[str, set[str]]
) -> Identifier | None:
    if not item.subjects:
        return None
    record = item.key.sk.partition("#")[2]
    tool, _, rest = record.partition(":")
    candidates = [record]
    if tool in tools or tool in known:
        types = {*known.get(tool, ()), *_declared_types(tools.get(tool))}
        candidates += [f"{tool}:{object_type}:{rest}" for object_type in sorted(types)]
    for candidate in candidates:
        if candidate.count(":") >= 2 and keyed_hash(salt, f"source#{candidate}") in item.subjects:
            return Identifier(kind="source", value=candidate)
    return None


def held_by_others(profiles: ProfileStore, theirs: set[str], region: str) -> Callable[[QuarantineItem], bool]:
    """Whether a quarantined item holds a value (core.quarantine.legacy_identifier_keys of its raw
    text) that a customer holds while it is not among ``theirs``, the person's own keys."""
    from core.quarantine import legacy_identifier_keys

    def shared(item: QuarantineItem) -> bool:
        others = sorted(legacy_identifier_keys(item.raw, region) - theirs)
        return bool(others) and bool(profiles.get_owners(others))

    return shared


def _declared_types(connector: Any) -> set[str]:
    streams = getattr(getattr(connector, "declaration", None), "streams", ())
    return {s.object_type for s in streams if isinstance(getattr(s, "object_type", None), str)}


__all__ = ["held_by_others", "quarantined_targets"]
