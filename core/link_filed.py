"""Where a record is filed in the identity index beyond its stored version: a write-ahead entry.

Ingest files a batch's records under their new version's keys, at their new places, before it
commits them (core.link_plan). Killed in between, or its commit lost, the index holds a version the
store may never hold: a newer version files from the STORED version's keys, and an erasure forgets
the stored version's keys, so neither would find the memberships and places only that version had.

Each record has an index entry ``fl:<record key>`` (a ``BLOCK#`` item like the blocking keys, its
key hashed by ``block_item_key``; read with the batch's own keys, no request of its own, as the
review partners' ``rv:`` entry is) listing the index keys a filing touched (added it to, moved its
place in, or took it from), each with the ``filing_tag`` of the version that touched it:

- written BEFORE the filing (``ahead``): a process killed after it leaves every key it touched listed;
- read after the filing (``FiledAs`` of the batch's version): a key tagged by another version than
  the stored one and the one being filed was touched by a filing that never committed; the record is
  put back to this version's state there (``settle``: added at its place, or taken out), and only
  then the entry is retagged. Keys tagged by the stored version agree with it: they leave the entry.
- read by an erasure (core.link_nodes.forget_records): every key listed loses the record, then
  the entry goes (an overloaded one, which lists none, is dropped whole: ``drop_as_read``).
- read before the write-ahead (``drop_overloaded_entries``): an overloaded entry takes no more keys,
  so it is dropped and the write-ahead lists the new version afresh; never left overloaded under a
  filing.

Both drops take the entry only as read (``LinkIndex.drop_blocks_as_read``): of two writers dropping
one overloaded entry at once, the one that drops second keeps the fresh write-ahead the other wrote
meanwhile; an erasure finding the entry changed reads it again and forgets the keys it lists now.

The common path costs one write of the entry per record filed (with the filing's writes) and one
item more in the read the plan makes anyway; a record updated writes it once more to drop its
stored version's tags. A record filed before the entry existed has none: its stored version's keys
are used, as before (docs/identity.md, "Changed in this version"). Pure over the ``LinkIndex`` port.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Final, NamedTuple

from core.errors import RetryableError
from core.link_index import NO_ORDERS, BlockChange, BlockState, LinkIndex, changes_for

__all__ = [
    "FILED_LIMIT",
    "FILED_PREFIX",
    "LEFT_PREFIX",
    "FiledAs",
    "ahead",
    "drop_as_read",
    "drop_overloaded_entries",
    "filed_key",
    "filing",
    "filing_tag",
    "left_key",
    "listed_keys",
    "settle",
]

#: The index key prefix of a record's filed entry (never a blocking key, an ``id:`` value or ``rv:``).
FILED_PREFIX: Final = "fl:"
#: Keys one record's entry lists at most (a record has about a dozen; 1,000 with their tags stay far
#: below DynamoDB's 400 KB item). Past it the entry is overloaded and lists none: its stored version's
#: keys are used, as for a record filed before the entry existed; her erasure drops it whole, and the
#: next filing drops it before its write-ahead (``drop_overloaded_entries``).
FILED_LIMIT: Final = 1000


#: Rounds of "drop the overloaded entries as read, read those that changed" (``drop_as_read``).
DROP_ATTEMPTS: Final = 5


#: How an entry lists a key a filing took the record FROM: hashed, never as written (an ``id:`` key
#: holds an email or phone the record no longer has: the entry outlives the commit, and an erasure by
#: that value, which no record holds, would not find it there). Only a later version that has the
#: key again needs it, and it knows the key: it is matched by its hash (``settle``).
LEFT_PREFIX: Final = "left:"


def left_key(key: str) -> str:
    """How an entry lists ``key`` when a filing took the record out of it (see ``LEFT_PREFIX``)."""
    return LEFT_PREFIX + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def listed_keys(members: Iterable[str]) -> list[str]:
    """The index keys an entry lists where the record may be filed (the keys it was taken from are
    not: it is in none of them)."""
    return sorted(k for k in members if not k.startswith(LEFT_PREFIX))


def filed_key(record_key: str) -> str:
    """The index key of the entry listing where ``record_key`` was filed."""
    return FILED_PREFIX + record_key


def filing_tag(keys: Iterable[str], orders: Mapping[str, str]) -> str:
    """What one version's filing writes (its index keys and its places in them), as 64 bits of
    BLAKE2b, hex: two versions filed alike have one tag."""
    text = "\x1f".join(f"{key}\x1e{orders.get(key, '')}" for key in sorted(keys))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class FiledAs(NamedTuple):
    """A record's version as filed: its index keys, its places in them, its tag, whether a child."""

    keys: tuple[str, ...]
    orders: Mapping[str, str]
    tag: str
    child: bool = False


def filing(keys: tuple[str, ...], orders: Mapping[str, str], child: bool = False) -> FiledAs:
    """The ``FiledAs`` of a version from its keys and places."""
    return FiledAs(keys, orders, filing_tag(keys, orders), child)


def ahead(changes: Sequence[BlockChange], tags: Mapping[str, str]) -> list[BlockChange]:
    """The write-ahead of a filing (``changes``): each record of ``tags`` gets in its entry every key
    the filing touches, tagged with its new version's tag. Written before ``changes``."""
    # One pass over the changes, the sides most are without (children, removals) asked first: a
    # batch's filing is about nine changes a record, nearly all one add.
    touched: dict[str, list[str]] = {}
    get = touched.get
    for change in changes:
        key = change.key
        for member in change.add:
            held = get(member)
            if held is None:
                touched[member] = [key]
            else:
                held.append(key)
        for member in change.add_children:
            touched.setdefault(member, []).append(key)
        if change.remove or change.remove_children:
            gone = left_key(key)
            for side in (change.remove, change.remove_children):
                for member in side:
                    touched.setdefault(member, []).append(gone)
    out: list[BlockChange] = []
    # ``BlockChange(...)`` with every field given, through ``tuple.__new__`` (as ``changes_for``).
    make, empty = tuple.__new__, frozenset[str]()
    children_limit = BlockChange._field_defaults["children_limit"]
    for record_key, keys in sorted(touched.items()):
        tag = tags.get(record_key)
        if tag is not None:
            entry = (filed_key(record_key), frozenset(keys), empty, FILED_LIMIT, empty, empty, children_limit)
            out.append(make(BlockChange, (*entry, dict.fromkeys(keys, tag))))
    return out


def drop_overloaded_entries(index: LinkIndex, records: Collection[str]) -> None:
    """Drop the entries of ``records`` that are overloaded, before a filing writes ahead into them: an
    overloaded entry takes no more keys, so the write-ahead would be lost and a filing killed before
    its commit would leave memberships that neither the next version nor an erasure finds. Dropped,
    the entry is written fresh by the write-ahead (what it listed is lost already: the stored
    version's keys are used for it, as for a record filed before entries existed). One read of the
    records' entries per filing."""
    if not records:
        return
    read = index.get_blocks([filed_key(r) for r in sorted(records)])
    drop_as_read(index, read, lambda _: None)


def drop_as_read(
    index: LinkIndex, read: Mapping[str, BlockState], forget: Callable[[Mapping[str, BlockState]], None]
) -> None:
    """Drop the overloaded entries of ``read`` (entries as read) only as read: another writer that
    dropped one and wrote a fresh write-ahead since keeps it. An entry that changed is read again
    and handed to ``forget`` (an erasure forgets what it lists now; a filing has nothing to do), and
    dropped in turn when it is overloaded again. RetryableError when entries kept changing for
    ``DROP_ATTEMPTS`` rounds (the erasure or the batch is sent again)."""
    for _ in range(DROP_ATTEMPTS):
        overloaded = [state for state in read.values() if state.overloaded]
        if not overloaded:
            return
        dropped = set(index.drop_blocks_as_read(overloaded))
        changed = sorted(state.key for state in overloaded if state.key not in dropped)
        if not changed:
            return
        read = index.get_blocks(changed)
        forget(read)
    raise RetryableError(
        f"{len(read)} write-ahead entries of the identity index kept changing as they were dropped; "
        "send the request again"
    )


def settle(
    index: LinkIndex,
    wanted: Mapping[str, FiledAs],
    states: Mapping[str, BlockState],
    stored: Mapping[str, str],
    limits: Mapping[str, int],
    also: Mapping[str, Collection[str]] | None = None,
) -> None:
    """Put each record of ``wanted`` to its version's state (``FiledAs``) at every key its entry (in
    ``states``, by ``filed_key``) lists under a tag neither that version's nor its stored version's
    (``stored``, by record; absent when none is stored), and at the keys in ``also``; then retag those
    keys in the entry, and drop the keys the stored version's tag holds (they agree with the store).
    A version that is the stored one (``wanted[r].tag == stored[r]``) leaves nothing in the entry."""
    old: dict[str, set[str]] = {}
    new: dict[str, set[str]] = {}
    places: dict[str, dict[str, str]] = {}
    children: set[str] = set()
    entries: list[BlockChange] = []
    for record_key, version in wanted.items():
        entry = states.get(filed_key(record_key))
        tags = entry.orders if entry is not None else NO_ORDERS
        base = stored.get(record_key)
        odd = {k for k, tag in tags.items() if tag not in (version.tag, base)}
        # A key a filing took the record from is listed hashed: it matters only where this version
        # has the key (it is put back there); elsewhere the record is in it no more.
        left = {k for k in odd if k.startswith(LEFT_PREFIX)}
        if left:
            odd -= left
            odd.update(k for k in version.keys if left_key(k) in left)
        if also:
            odd.update(also.get(record_key, ()))
        if odd:
            keys = set(version.keys)
            old[record_key], new[record_key] = odd - keys, odd & keys
            places[record_key] = {k: version.orders[k] for k in odd & keys if k in version.orders}
            if version.child:
                children.add(record_key)
        # Retagged: the keys this version has as they are, those it was taken out of hashed (the
        # plain ones and the hashed ones just settled leave the entry), and the keys the stored
        # version's tag holds go. Only those: a key another writer listed ahead of its own filing a
        # moment ago (another tag) stays listed until that filing is settled.
        keys = set(version.keys)
        retag = frozenset({*(odd & keys), *(left_key(k) for k in odd - keys)})
        gone = frozenset({k for k, tag in tags.items() if tag == base} | left | (odd - keys)) - retag
        if gone or retag:
            orders = dict.fromkeys(retag, version.tag) if retag else NO_ORDERS
            entries.append(BlockChange(filed_key(record_key), retag, gone, FILED_LIMIT, orders=orders))
    # Added where the version has the key (its place written again: an add of a member moves it),
    # taken out where it has not, and the entries retagged, in one write: another writer's settle
    # cannot come between the two (the in-memory and SQLite stores apply it whole; DynamoDB in pieces,
    # the entries listed last after every membership: killed in between, it is done again; a
    # filing's write-ahead, listed first, goes before them: core.storage.dynamodb_links).
    together = [*(changes_for(old, new, limits, children, places) if old or new else ()), *entries]
    if together:
        index.update_blocks(together)
