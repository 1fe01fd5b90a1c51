"""An erasure's scope follows each customer a marker or an IDENT item names to the live customer it
leads to (core.scope_splinters.live_identifiers). A person far past her address's guardrail has
dozens of split-off customers, and each of their scopes asks again about all of them: read one at a
time that was one store round trip per customer per scope (2,600 BatchGetItems, 70 of the 104 s of
``profilesync privacy erase`` on a person with 60 records, test_attack3_erase_past_guardrail_cli).
The ids are read together, one batch per step along the merge chains, with the same answers."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from core.ports import ProfileItem
from core.schema import Identifier, Profile
from core.scope_splinters import live_identifiers


class _Profiles:
    """Profile items by id, counting the reads (``ReadsProfiles``)."""

    def __init__(self, items: dict[str, ProfileItem]) -> None:
        self.items = items
        self.reads: list[list[str]] = []

    def get_profiles(self, customer_ids: Sequence[str]) -> dict[str, ProfileItem]:
        self.reads.append(list(customer_ids))
        return {c: self.items[c] for c in customer_ids if c in self.items}


def _live(cid: str, *keys: str) -> ProfileItem:
    identifiers = tuple(Identifier.from_key(k) for k in keys)
    return ProfileItem(cid, Profile(customer_id=cid, identifiers=identifiers))


def _one_by_one(items: dict[str, ProfileItem], starts: set[str]) -> dict[str, tuple[str, set[str]]]:
    """The answer read one id at a time (the definition)."""
    out: dict[str, tuple[str, set[str]]] = {}
    for start in starts:
        cid, seen = start, set()
        while cid not in seen and cid in items:
            seen.add(cid)
            item = items[cid]
            if item.merged_into:
                cid = item.merged_into
                continue
            if item.profile is not None:
                out[start] = (cid, {i.key for i in item.profile.identifiers})
            break
    return out


def test_fifty_split_off_customers_are_read_in_one_batch_per_step_of_their_merge_chains() -> None:
    # GIVEN 50 live customers holding her address, 10 more merged into them, and one merged twice
    items = {f"c{n}": _live(f"c{n}", "email#kim@example.com", f"phone#+1555000{n:04d}") for n in range(50)}
    items |= {f"m{n}": ProfileItem(f"m{n}", None, merged_into=f"c{n}") for n in range(10)}
    items["mm"] = ProfileItem("mm", None, merged_into="m3")
    profiles = _Profiles(items)
    # WHEN her scope follows all of them
    found = live_identifiers(profiles, set(items))  # type: ignore[arg-type]
    # THEN each leads to its live customer and its keys, in at most three reads (one per step of the
    # longest chain, mm -> m3 -> c3), each id read once
    assert found == _one_by_one(items, set(items))
    assert found["mm"] == ("c3", {"email#kim@example.com", "phone#+15550000003"})
    assert len(profiles.reads) <= 3
    assert sorted(c for read in profiles.reads for c in read) == sorted(items)
    # AND from the merged ids alone, one read for them and one per further step
    chained = _Profiles(items)
    assert live_identifiers(chained, {f"m{n}" for n in range(10)} | {"mm"}) == _one_by_one(  # type: ignore[arg-type]
        items, {f"m{n}" for n in range(10)} | {"mm"}
    )
    assert len(chained.reads) <= 3


@given(
    st.dictionaries(
        st.sampled_from([f"c{n}" for n in range(12)]),
        st.one_of(st.none(), st.sampled_from([f"c{n}" for n in range(12)]), st.just("gone")),
        max_size=12,
    ),
    st.sets(st.sampled_from([f"c{n}" for n in range(14)]), max_size=14),
)
def test_any_merge_graph_cycles_and_missing_items_included_gives_the_answer_read_one_by_one(
    graph: dict[str, str | None], starts: set[str]
) -> None:
    # GIVEN any graph of customers merged into others (cycles, ids with no item, items deleted)
    items = {
        c: _live(c, f"email#{c}@example.com") if into is None else ProfileItem(c, None, merged_into=into)
        for c, into in graph.items()
    }
    # WHEN followed in batches THEN the answer is the one read one id at a time
    assert live_identifiers(_Profiles(items), starts) == _one_by_one(items, starts)  # type: ignore[arg-type]
