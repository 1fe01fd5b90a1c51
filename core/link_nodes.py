"""A record as the link graph (core.linkage.graph) sees it: its graph node, built from a stored or
incoming record or from the match fields a candidate is read through, the index keys it is filed
under (blocking keys, identifier values), and its removal from the index on erasure."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final

from core.identity import IdentityPolicy
from core.link_filed import FILED_PREFIX, drop_as_read, filed_key, listed_keys
from core.link_index import BlockChange, BlockState, LinkIndex, changes_for, fields_from_match, match_document
from core.link_review_index import drop_review_pairs, partners_key, review_pairs
from core.linkage import (
    GraphNode,
    LinkageModel,
    LinkageRecord,
    blocking_keys,
    default_model,
    email_match_key,
    linkage_record,
)
from core.linkage.blocking import filing_orders, retired_keys
from core.linkage.graph import make_node
from core.schema import Identifier, SourceRecord

__all__ = ["forget_records", "graph_node", "index_keys"]


def _values(
    record: LinkageRecord, identifiers: Iterable[Identifier], policy: IdentityPolicy
) -> tuple[str, ...]:
    values: list[str] = []
    for ident in identifiers:
        if ident.kind == "source" or policy.is_blocked(ident):
            continue
        values.append(f"email#{email_match_key(ident.value)}" if ident.kind == "email" else ident.key)
    if record.national_id:
        values.append(f"national_id#{record.national_id}")
    return tuple(dict.fromkeys(values))


def graph_node(record: SourceRecord, policy: IdentityPolicy) -> GraphNode:
    """The graph node of a stored or incoming record. Blocklisted emails and phones are left out of
    its fields too: a ``noreply@`` address is no evidence, exact or fuzzy.

    Kept in the record's ``__dict__`` per policy, as ``SourceRecord.key`` is: the in-memory store
    hands the same snapshots to every batch, and a customer with 500 orders was prepared again for
    each of them (pydantic compares and serialises fields only; ``model_copy`` drops the entry)."""
    cached = record.__dict__.get("_graph_node")
    if cached is not None and cached[0] is policy:
        node: GraphNode = cached[1]
        return node
    node = _graph_node(record, policy)
    record.__dict__["_graph_node"] = (policy, node)
    return node


def _graph_node(record: SourceRecord, policy: IdentityPolicy) -> GraphNode:
    # One pass over the identifiers, each blocklist test made once (ingest prepares every record of
    # every batch; five passes and two tests of each value cost a tenth of preparing one).
    sources: list[str] = []
    emails: list[str] = []
    phones: list[str] = []
    values: list[str] = []
    blocked = policy.is_blocked
    for ident in record.identifiers:
        kind = ident.kind
        if kind == "source":
            sources.append(ident.key)
            continue
        if blocked(ident):
            continue
        if kind == "email":
            emails.append(ident.value)
            values.append(f"email#{email_match_key(ident.value)}")
            continue
        if kind == "phone":
            phones.append(ident.value)
        values.append(ident.key)
    prepared = linkage_record(record.key, record.traits, emails, phones)
    if prepared.national_id:
        values.append(f"national_id#{prepared.national_id}")
    person = record.level == "person"
    return make_node(
        prepared,
        person,
        tuple(sources),
        tuple(dict.fromkeys(values)),
        blocking_keys(prepared) if person else (),
    )


def _match_node(key: str, match: str, policy: IdentityPolicy) -> GraphNode:
    fields = fields_from_match(match)
    identifiers = [Identifier.assemble(kind="email", value=e) for e in fields.emails]
    identifiers += [Identifier.assemble(kind="phone", value=p) for p in fields.phones]
    usable = [i for i in identifiers if not policy.is_blocked(i)]
    prepared = linkage_record(
        key,
        fields.traits,
        [i.value for i in usable if i.kind == "email"],
        [i.value for i in usable if i.kind == "phone"],
    )
    links = (f"source#{key}",) + ((f"source#{fields.owner}",) if fields.owner else ())
    blocks = () if fields.child else blocking_keys(prepared)
    return make_node(prepared, not fields.child, links, _values(prepared, usable, policy), blocks)


def _as_match_node(
    record: SourceRecord, node: GraphNode, policy: IdentityPolicy
) -> tuple[str, GraphNode] | None:
    """The record's ``match`` document and the node ``_match_node`` makes of it, from the record's own
    node, when the two are the same by construction: identifiers of the kinds the document keeps,
    text traits (they read back from JSON unchanged) and the source links the document implies."""
    kinds = [i.kind for i in record.identifiers]
    if not _MATCHED_KINDS.issuperset(kinds):
        return None
    if not all(isinstance(v, str) for v in record.traits.values()):
        return None
    child = record.level != "person"
    links = (f"source#{record.key}",) + ((f"source#{record.owner}",) if child and record.owner else ())
    if node.links != links:
        return None
    kinds = [kind for kind in kinds if kind != "source"]
    if kinds.count("email") == len(kinds) or kinds.index("phone") == kinds.count("email"):
        # Emails before phones already (as normalising writes them): the document reads back in the
        # order the node's own values were made in, so they are the same values, and the node made
        # of it is the record's own (its person flag, links and blocks are: a child's blocks are none).
        return match_document(record), node
    ordered = [i for i in record.identifiers if i.kind == "email"]
    ordered += [i for i in record.identifiers if i.kind == "phone"]
    values = _values(node.record, ordered, policy)
    blocks = () if child else node.blocks
    return match_document(record), make_node(node.record, not child, links, values, blocks)


_MATCHED_KINDS: Final = frozenset({"email", "phone", "source"})


def index_keys(node: GraphNode, model: LinkageModel | None, *, retired: bool = False) -> tuple[str, ...]:
    """The index keys a record is filed under: its blocking keys (with a model) and ``id:`` + each
    identifier value. A child object is filed under its values only (a guest order's email), apart
    from the people (core.link_index.BlockChange); it is never fuzzy-matched. ``retired``: also the
    keys of rules an earlier version filed under (core.linkage.blocking.RETIRED_RULES), where a
    record stored before the upgrade may still be listed: for taking it out of the index."""
    if not node.person:
        return tuple(f"id:{value}" for value in node.values)
    keys = list(node.blocking_keys()) if model is not None else []
    if retired and model is not None:
        keys += retired_keys(node.record)
    keys += [f"id:{value}" for value in node.values]
    return tuple(dict.fromkeys(keys))


def node_orders(node: GraphNode) -> dict[str, str]:
    """A person's place in the order of each of its blocking keys (core.linkage.blocking), filed with
    it under those keys; none for a child object."""
    return filing_orders(node.record, node.blocking_keys()) if node.person else {}


def forget_records(store: Any, records: Iterable[SourceRecord], policy: IdentityPolicy | None = None) -> int:
    """Remove records from the index (an erasure): their keys' memberships and the review items of
    their candidate pairs. Returns how many index entries were removed. Harmless for records that
    were never filed, and a no-op on a store without an index."""
    if not isinstance(store, LinkIndex):
        return 0
    policy = policy or IdentityPolicy(blocked_values=frozenset(), blocked_patterns=())
    filed: dict[str, tuple[str, ...]] = {}
    children: set[str] = set()
    for record in records:
        node = graph_node(record, policy)
        filed[record.key] = index_keys(node, default_model(), retired=True)
        if not node.person:
            children.add(record.key)
    if not filed:
        return 0
    keys = sorted({k for ks in filed.values() for k in ks})
    entries = [filed_key(k) for k in sorted(filed)]
    blocks = store.get_blocks([*keys, *(partners_key(k) for k in sorted(filed)), *entries])
    # Where a version never stored was filed too (core.link_filed): a filing killed before its commit.
    for record_key in filed:
        entry = blocks.get(filed_key(record_key))
        if entry is not None and entry.members:
            filed[record_key] = tuple(dict.fromkeys((*filed[record_key], *listed_keys(entry.members))))
    # Her review partners as listed under her records, and (for items filed before those lists)
    # the current members of her keys.
    pairs: set[tuple[str, str]] = review_pairs(blocks, filed)
    pairs |= {
        (record_key, other) if record_key < other else (other, record_key)
        for record_key, ks in filed.items()
        for k in ks
        for other in blocks.get(k, BlockState(k)).members
        if other != record_key and record_key not in children
    }
    found = drop_review_pairs(store, pairs)
    store.update_blocks(changes_for(filed, {}, _NO_LIMITS, children))
    # The entries last: killed before, the erasure sent again finds them.
    read = {k: blocks[k] for k in entries if k in blocks}
    _clear_listed(store, read)
    # An entry overloaded (past FILED_LIMIT) lists nothing, and no removal empties it: it goes whole,
    # as read: one another writer's filing dropped and wrote afresh meanwhile is read again, and
    # what it lists now forgotten (core.link_filed.drop_as_read).
    drop_as_read(store, read, lambda again: _forget_listed(store, again, children))
    return sum(len(ks) for ks in filed.values()) + found


#: An erasure's removals overload no key.
_NO_LIMITS: Final = {"block": 10**9, "id": 10**9}


def _clear_listed(store: Any, entries: Mapping[str, BlockState]) -> None:
    """Take the keys the write-ahead ``entries`` list out of them (an erasure: the records were
    taken out of those keys first)."""
    listed = [BlockChange(k, remove=s.members) for k, s in sorted(entries.items()) if s.members]
    if listed:
        store.update_blocks(listed)


def _forget_listed(store: Any, entries: Mapping[str, BlockState], children: Collection[str]) -> None:
    """An erasure finding write-ahead ``entries`` changed as it dropped them (another writer's filing):
    their records leave every key they list now, then the entries are cleared."""
    filed = {k[len(FILED_PREFIX) :]: tuple(listed_keys(s.members)) for k, s in entries.items() if s.members}
    if filed:
        store.update_blocks(changes_for(filed, {}, _NO_LIMITS, set(children) & set(filed)))
    _clear_listed(store, entries)
