"""Review items a killed ingest left unfiled: finished when its batch is delivered again.

A linked plan lists each new pair in doubt under both of its records (the ``rv:`` entries of
core.link_review_index) BEFORE the commit, and writes the pair's ``REVIEW#`` item only after it
(core.link_unfile.file_reviews). A process killed between the two (a Lambda timing out, a crash in
what follows the commit) leaves the records stored and the pair listed without its item: nobody is
asked about it. The batch delivered again finds its records stored and unchanged, which plan
nothing; so ``unfiled_reviews`` reads the unchanged records' entries (one read; one more only when
an entry lists pairs) and names the records of a listed pair without an item: core.ingest_plan
plans them again (counted as unchanged still), and their plan files the item, as a run without the
kill did. An entry whose item is merely late (another writer between its two writes) gives one
plan more, which files the same item (an existing one stays). Pure over the ``LinkIndex`` port.
"""

from __future__ import annotations

from collections.abc import Collection

from core.link_index import LinkIndex
from core.link_review_index import partners_key, review_pairs
from core.ports import ProfileStore

__all__ = ["unfiled_reviews"]


def unfiled_reviews(store: ProfileStore, unchanged: Collection[str]) -> set[str]:
    """Of the ``unchanged`` records (source keys, stored as delivered), those in a pair their
    ``rv:`` entry lists that has no review item: a filing cut between the entry and the item."""
    if not unchanged or not isinstance(store, LinkIndex):
        return set()
    keys = sorted(unchanged)
    listed = review_pairs(store.get_blocks([partners_key(k) for k in keys]), keys)
    if not listed:
        return set()
    found = store.get_reviews(sorted(listed))
    return {k for pair in listed if pair not in found for k in pair if k in unchanged}
