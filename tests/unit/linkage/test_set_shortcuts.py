"""Shortcuts of the fuzzy ingest's hot path (issue 13's throughput) give what the plain rule gives.

- ``BlockState.ranked``: the members a subset of the places' keys, by one set comparison, is the
  test of every member it replaced (a key with a member without its place is ranked from the
  records instead: a wrong answer would rank a block on places the index never kept).
- The email comparison reads each address's user name, domain and likely-typo provider once per
  address (``_email_parts``): the levels are those of the rule that worked them out per pair.
- A record's ``match`` document is written by one encoder made once: the same text as ``json.dumps``
  with the options it had (sorted keys: two tools' trait orders give one document).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from core.link_blocks import BlockState
from core.link_match import match_document
from core.linkage import linkage_record
from core.linkage.comparisons import NULL, _email
from core.linkage.email_keys import likely_typo_of, provider_local_part
from core.testing.records import make_record

_MEMBERS = ["crm:contact:1", "crm:contact:2", "shop:customer:9", "mail:member:3"]


class _Places(Mapping[str, str]):
    """A mapping that is no dict (a store may hand back any ``Mapping``)."""

    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


@settings(max_examples=150, deadline=None)
@example(frozenset(), {}, 0)
@example(frozenset(_MEMBERS[:2]), dict.fromkeys(_MEMBERS[:2], "x"), 0)
@example(frozenset(_MEMBERS[:2]), dict.fromkeys(_MEMBERS[:1], "x"), 0)
@given(
    st.frozensets(st.sampled_from(_MEMBERS)),
    st.dictionaries(st.sampled_from(_MEMBERS), st.text(max_size=3)),
    st.sampled_from([0, 1, 2]),
)
def test_a_key_is_ranked_exactly_when_every_member_has_its_place(
    members: frozenset[str], places: dict[str, str], kind: int
) -> None:
    orders: Mapping[str, str] = (places, MappingProxyType(places), _Places(places))[kind]
    state = BlockState("sb:SMITH:1980", members, False, frozenset(), orders)
    assert state.ranked() == (bool(members) and all(member in orders for member in members))


def _intended_domain(dx: str, dy: str) -> str | None:
    if likely_typo_of(dx) == dy:
        return dy
    if likely_typo_of(dy) == dx:
        return dx
    return None


def _email_per_pair(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """The email comparison as it was written before the shortcut: every address split per pair."""
    if not a or not b:
        return NULL
    if any(key in b for key in a):
        return 0
    best = 4
    for x in a:
        lx, _, dx = x.rpartition("@")
        for y in b:
            ly, _, dy = y.rpartition("@")
            intended = _intended_domain(dx, dy)
            if intended is not None and provider_local_part(lx, intended) == provider_local_part(
                ly, intended
            ):
                return 1
            if lx == ly:
                best = min(best, 2)
            elif (
                dx == dy
                and OSA.distance(lx, ly, score_cutoff=1) <= 1
                and "".join(c for c in lx if not c.isdigit()) != "".join(c for c in ly if not c.isdigit())
            ):
                best = min(best, 3)
    return best


_ADDRESSES = [
    "ann.lee@gmail.com",
    "annlee@gmial.com",
    "ann.lee@gmial.com",
    "ann.lee+x@googlemail.com",
    "annlee@gmail.co",
    "ann.lee@hotmial.com",
    "ann.lee@hotmail.com",
    "ann.lee@work.com",
    "ann.lea@work.com",
    "ann.lee85@work.com",
    "ann.lee86@work.com",
    "bob@x.org",
    "ab@x.org",
    "bob@gmai.com",
]

_made_addresses = st.builds(
    "{}@{}".format,
    st.text("ab.+1", min_size=1, max_size=5),
    st.sampled_from(
        ["gmail.com", "gmial.com", "googlemail.com", "fastmail.com", "fastmial.com", "x.org", "x.orgg"]
    ),
)


@settings(max_examples=300, deadline=None)
@example(["annlee@gmial.com"], ["ann.lee@gmail.com"])
@example(["ann.lee@gmail.com"], ["annlee@gmial.com"])
@example(["ann.lee85@work.com"], ["ann.lee86@work.com"])
@given(
    st.lists(st.sampled_from(_ADDRESSES) | _made_addresses, max_size=2),
    st.lists(st.sampled_from(_ADDRESSES) | _made_addresses, max_size=2),
)
def test_the_email_level_is_the_one_worked_out_per_pair(a: list[str], b: list[str]) -> None:
    x, y = linkage_record("a", {}, a), linkage_record("b", {}, b)
    assert _email(x, y) == _email_per_pair(x.email_keys, y.email_keys)
    assert _email(y, x) == _email_per_pair(y.email_keys, x.email_keys)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["first_name", "last_name", "dob", "city", "postcode", "street", "plan", "ünï"]),
        st.text(max_size=6),
    ),
    st.lists(st.sampled_from(["ann@x.org", "bøb@x.org"]), max_size=2),
)
def test_the_match_document_is_the_sorted_compact_json_of_its_fields(
    traits: dict[str, str], emails: list[str]
) -> None:
    record = make_record("crm", "1", email=emails, phone="+441234567890", traits=traits)
    reversed_traits = make_record(
        "crm", "1", email=emails, phone="+441234567890", traits=dict(reversed(list(traits.items())))
    )
    document = match_document(record)
    data = json.loads(document)
    assert document == json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    assert match_document(reversed_traits) == document
