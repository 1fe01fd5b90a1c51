"""The link graph: which records are one person, from pairwise evidence, and why.

Records are the nodes; customers are the connected components. One function, ``link_graph``, builds
the graph for every caller: the pure matcher (``link_records``), ingest (core.link_scope, over the
records a batch touches), splits and ``explain``. The edges, strongest first:

1. **Source ids.** A record's own ``source#`` key and a child object's link to its owner
   (``source#shopify:customer:1``) join unconditionally, as they always have.
2. **Accepted reviews.** A person said the two records are one person.
3. **Shared identifier values.** Records holding one email match key (core.linkage.email_keys), one
   E.164 phone or one national id. Per value, from the set of its holders alone:

   - the people behind it are the groups of holders that positively agree (a related first name,
     or the same date of birth) and do not conflict; a holder with nothing to agree on (no name,
     no birth date) is a person of its own, as every record was before. Over the kind's limit
     (``DEFAULT_PEOPLE_LIMITS``) the value joins no one; child objects (orders) never count;
   - when no two holders conflict, the value joins them all (one person in six tools);
   - when some do (a family inbox, a switchboard), it only joins holders that positively agree,
     and never two groups that hold a conflicting pair.

   Conflict on a shared value (``shared_identifier_conflicts``): different first names while the
   dates of birth do not agree, or different last names and birth dates (a different national id
   alone is weighed, not a conflict; a national id's holders conflict on different first names and
   birth dates only). Values
   are applied in sorted order, and a join that would put two records that conflict on the strict
   rule (below) into one component is refused, whichever values bring them there: a nameless
   record holding Tom's email and Sue's email (or phone) joins one of them, never both.
4. **Fuzzy links.** ``decide`` on the candidate pairs (records sharing a blocking key): a pair at or
   above the link threshold links, unless a person rejected it. The links are added strongest first
   (by weight, then keys). A link between records already in one component joins nothing and is
   kept as evidence. A link that would join two components is refused when it would put two
   conflicting records into one (different dates of birth, or the conflict above: a chain A~B~C
   whose ends conflict does not join them), or when either record has already joined
   ``max_fuzzy_links_per_record`` groups by fuzzy links (the cap): one vague record cannot chain
   more strangers than that, while one person's records in any number of tools, linking each
   other, stay one customer (the cap counts the groups a record joins, not its links). A pair a
   person rejected is a cannot-link constraint: a fuzzy link that would put its two records into
   one component is refused, so the weakest link of any chain between them gives way (ties by
   keys); only accepted pairs, identifier values and source ids (the edges above) join it.

Every edge keeps its reason, every refusal is listed, and nothing depends on the order the nodes
come in (they are sorted by key first): the result is a function of the set of records.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from types import MappingProxyType
from typing import Final, Literal

from core.linkage.blocking import block_pairs, blocking_keys
from core.linkage.comparisons import comparison_named
from core.linkage.conflicts import Conflict, conflict_evidence, shared_identifier_conflicts
from core.linkage.email_keys import email_match_key
from core.linkage.fields import LinkageRecord
from core.linkage.linking import Decision, Edge, LinkResult, Refusal, decide
from core.linkage.model import LinkageModel
from core.linkage.slots import slot_maker

__all__ = [
    "DEFAULT_PEOPLE_LIMITS",
    "MAX_HOLDERS_COMPARED",
    "GraphNode",
    "ReviewState",
    "block_members",
    "candidate_index_pairs",
    "decide_pairs",
    "identifier_values",
    "link_graph",
    "link_records",
]

#: How many distinct people may share one value before it joins no one: the limits of
#: core.identity (email 8, phone 5), counted in people instead of records (one person in six tools is
#: one person). A national id is one person's, but its holders conflict when they are not (names and
#: birth dates), so it takes the email's limit: the limit is for junk values held by many.
DEFAULT_PEOPLE_LIMITS: Final[Mapping[str, int]] = MappingProxyType({"email": 8, "phone": 5, "national_id": 8})

#: Holders of one value compared pairwise at most (the comparison is quadratic); more people-level
#: records than this on one value is a shared mailbox or a placeholder, and it joins no one. The
#: store's index of a value stops listing holders at this size (core.link_index).
MAX_HOLDERS_COMPARED: Final = 64

_first_name = comparison_named("first_name").compare
_dob = comparison_named("date_of_birth").compare
_FIRST_NAME_AGREES: Final = 2  # exact, nickname, Jaro-Winkler >= 0.92
_DOB_AGREES: Final = 0  # the same date of birth
_STRICT: Final = frozenset({"first_name", "date_of_birth"})
_record_key: Final = attrgetter("key")
_node_key: Final = attrgetter("record.key")


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One record in the graph: its fields, whether it is a person, and what it holds.

    ``links``: source keys that join unconditionally (``source#`` + its own key, and a child's owner).
    ``values``: identifier values as ``kind#value`` (``email#<match key>``, ``phone#+44...``,
    ``national_id#...``), the blocklisted ones already left out. Child objects (``person=False``)
    are never fuzzy-matched and never count towards a value's people.
    """

    record: LinkageRecord
    person: bool = True
    links: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    blocks: tuple[str, ...] | None = field(default=None, compare=False)
    """The record's blocking keys (``blocking_keys``), when the maker computed them once: ingest
    builds the graph of every batch over the same stored nodes. None: computed when needed."""

    @property
    def key(self) -> str:
        return self.record.key

    def blocking_keys(self) -> tuple[str, ...]:
        return self.blocks if self.blocks is not None else blocking_keys(self.record)


make_node: Final = slot_maker(GraphNode)
"""``GraphNode(record, person, links, values, blocks)``, every field given, without the frozen
``__init__`` (core.linkage.slots): ingest makes two a record."""
_make_edge: Final = slot_maker(Edge)


@dataclass(frozen=True, slots=True)
class ReviewState:
    """A person's decision on a pair (``accepted`` / ``rejected``), or ``pending``."""

    status: Literal["pending", "accepted", "rejected"]
    by: str = ""
    at: str = ""


def identifier_values(record: LinkageRecord) -> tuple[str, ...]:
    """The identifier values a record holds, as the graph joins on them (match keys, not addresses)."""
    values = [f"email#{key}" for key in record.email_keys]
    values += [f"phone#{phone}" for phone in record.phones]
    if record.national_id:
        values.append(f"national_id#{record.national_id}")
    return tuple(values)


def _positively_agree(a: LinkageRecord, b: LinkageRecord) -> bool:
    first = _first_name(a, b)
    return (0 <= first <= _FIRST_NAME_AGREES) or _dob(a, b) == _DOB_AGREES


def _records_conflict(a: LinkageRecord, b: LinkageRecord, vetoes: Collection[str]) -> tuple[Conflict, ...]:
    """What keeps two records out of one component: a vetoed field (two birth dates) or the shared
    identifier conflict."""
    evidence = conflict_evidence(a, b)
    if not evidence:
        return ()
    vetoed = tuple(c for c in evidence if c.field in vetoes)
    # The strict rule (different first names *and* birth dates, which is what
    # ``_value_conflicts("national_id", a, b)`` finds): the scores already weighed what the records
    # say; an unknown birth date rescuing nobody is for a shared inbox (``_value_conflicts``). Read
    # from the one evidence, the vetoed conflicts first (tests/unit/linkage/test_fast_paths.py
    # checks it against the two calls it stands for).
    if {c.field for c in evidence} >= _STRICT:
        return vetoed + tuple(c for c in evidence if c.field not in vetoes)
    return vetoed


def block_members(
    nodes: Sequence[GraphNode], max_block_size: int, overloaded: Collection[str] = ()
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """The usable blocking keys of the person nodes, each with its members (indexes into ``nodes``,
    ascending), and the keys left out as overloaded with their sizes: more than ``max_block_size``
    members among the nodes, or listed in ``overloaded`` by an index. The blocks
    ``core.linkage.blocking.candidate_pairs`` makes of the same records, from the nodes' own keys."""
    blocks: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        if node.person:
            for key in node.blocking_keys():
                blocks.setdefault(key, []).append(i)
    left_out: dict[str, int] = {}
    for key, members in list(blocks.items()):
        if len(members) > max_block_size or key in overloaded:
            left_out[key] = len(members)
            del blocks[key]
    return blocks, left_out


def candidate_index_pairs(
    nodes: Sequence[GraphNode], model: LinkageModel, overloaded: Collection[str] = ()
) -> tuple[set[tuple[int, int]], dict[str, int]]:
    """Index pairs (into ``nodes``, smaller first) of person nodes sharing a usable blocking key, and
    the keys left out as overloaded (within the nodes, or listed in ``overloaded`` by an index)."""
    blocks, left_out = block_members(nodes, model.max_block_size, overloaded)
    pairs: set[tuple[int, int]] = set()

    def record(index: int) -> LinkageRecord:
        return nodes[index].record

    for key, members in blocks.items():
        pairs.update(block_pairs(members, record, key))  # every pair, or a dense block's neighbours
    return pairs, left_out


def decide_pairs(
    nodes: Sequence[GraphNode], pairs: Iterable[tuple[int, int]], model: LinkageModel
) -> dict[tuple[str, str], Decision]:
    """``decide`` on each pair, keyed by the sorted pair of record keys."""
    out: dict[tuple[str, str], Decision] = {}
    for x, y in pairs:
        decision = decide(nodes[x].record, nodes[y].record, model)
        out[(decision.a, decision.b)] = decision
    return out


class _Groups:
    """Union-find over node indexes that keeps, per group, the distinct evidence conflicts are read
    from (first name, date of birth, national id) with one record holding each."""

    __slots__ = ("evidence", "parent")

    def __init__(self, records: Sequence[LinkageRecord]) -> None:
        self.parent = list(range(len(records)))
        self.evidence: list[dict[tuple[str | None, str | None, str | None], LinkageRecord]] = [
            {(r.first_name, r.date_of_birth, r.national_id): r}
            if (r.first_name or r.date_of_birth or r.national_id)
            else {}
            for r in records
        ]

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        keep, gone = min(ra, rb), max(ra, rb)
        self.parent[gone] = keep
        merged = self.evidence[keep]
        for signature, record in self.evidence[gone].items():
            merged.setdefault(signature, record)
        self.evidence[gone] = {}

    def conflict(
        self, a: int, b: int, vetoes: Collection[str]
    ) -> tuple[LinkageRecord, LinkageRecord, tuple[Conflict, ...]] | None:
        """The first conflicting pair across the groups of ``a`` and ``b`` (in key order), if any."""
        held = self.evidence[self.find(a)]
        left = sorted(held.values(), key=_record_key) if len(held) > 1 else held.values()
        held = self.evidence[self.find(b)]
        right = sorted(held.values(), key=_record_key) if len(held) > 1 else held.values()
        for x in left:
            for y in right:
                found = _records_conflict(x, y, vetoes)
                if found:
                    first, second = (x, y) if x.key < y.key else (y, x)
                    return first, second, found
        return None


_CONFLICT: Final = "conflict"


def _by_whom(verb: str, state: ReviewState) -> str:
    return f"{verb} by {state.by or 'a reviewer'}" + (f" at {state.at}" if state.at else "")


def _reasons(conflicts: Iterable[Conflict]) -> str:
    return ", ".join(c.reason for c in conflicts)


@dataclass
class _Value:
    """The outcome for one identifier value: the pairs it joins, or why it joins no one."""

    pairs: list[tuple[int, int]]
    people: int
    refused: str = ""
    complete: bool = False
    """Any two holders may be joined (no two conflict): ``pairs`` lists a star, not every pair."""


def _value_conflicts(kind: str, a: LinkageRecord, b: LinkageRecord) -> tuple[Conflict, ...]:
    """Why two holders of one value are not one person. A national id is issued to one person, so
    its holders conflict only on the stated rule, different first names *and* different dates of
    birth (a first name replaced or swapped with the surname, and no birth date, is still them; so
    is a surname changed with the birth date); an email or a phone is shared by families and
    colleagues, so there an unknown birth date does not rescue different first names, and one first
    name does not rescue another surname and birth date (``shared_identifier_conflicts``)."""
    found = shared_identifier_conflicts(a, b)
    if kind == "national_id" and not {"first_name", "date_of_birth"} <= {c.field for c in found}:
        return ()
    return found


def _value_pairs(
    value: str,
    members: list[int],
    nodes: Sequence[GraphNode],
    limit: int | None,
    overloaded: bool,
    result: LinkResult,
) -> _Value:
    kind, _, shown = value.partition("#")
    persons = [m for m in members if nodes[m].person]
    if overloaded or len(persons) > MAX_HOLDERS_COMPARED:
        result.overloaded[value] = len(persons)
        return _Value([], len(persons), f"{kind} {shown} is held by more than {MAX_HOLDERS_COMPARED} records")
    records = {m: nodes[m].record for m in members}
    if len(members) == 2 and (limit is None or limit >= 2):
        # Two holders (most shared values: one person in two tools) are at most two people, within
        # any limit: they are joined unless they conflict.
        x, y = members
        found = _value_conflicts(kind, records[x], records[y])
        if not found:
            return _Value(
                [(x, y)],
                1 if len(persons) == 2 and _positively_agree(records[x], records[y]) else len(persons),
                complete=True,
            )
        result.refused.append(
            Refusal(
                records[x].key, records[y].key, f"shared {kind} {shown} but {_reasons(found)}", "conflict"
            )
        )
        return _Value([], len(persons))
    conflicts: dict[tuple[int, int], tuple[Conflict, ...]] = {}
    for i, x in enumerate(members):
        for y in members[i + 1 :]:
            found = _value_conflicts(kind, records[x], records[y])
            if found:
                conflicts[(x, y)] = found
    # The people behind the value: groups of holders that positively agree and conflict with nothing.
    groups = _Groups([records[m] for m in members])
    position = {m: i for i, m in enumerate(members)}
    agreeing: list[tuple[int, int]] = []
    for i, x in enumerate(members):
        for y in members[i + 1 :]:
            if (x, y) in conflicts or not _positively_agree(records[x], records[y]):
                continue
            if groups.find(position[x]) != groups.find(position[y]) and groups.conflict(
                position[x], position[y], ()
            ):
                continue  # it would bridge two holders that conflict
            groups.union(position[x], position[y])
            agreeing.append((x, y))
    people = len({groups.find(position[m]) for m in persons})
    if limit is not None and people > limit:
        result.overloaded[value] = people
        return _Value([], people, f"{kind} {shown} is shared by {people} people, more than {limit}")
    for (x, y), found in conflicts.items():
        result.refused.append(
            Refusal(
                records[x].key, records[y].key, f"shared {kind} {shown} but {_reasons(found)}", "conflict"
            )
        )
    if not conflicts:
        return _Value([(members[0], other) for other in members[1:]], people, complete=True)
    return _Value(agreeing, people)


def link_graph(
    nodes: Sequence[GraphNode],
    model: LinkageModel | None,
    decisions: Mapping[tuple[str, str], Decision] | None = None,
    *,
    people_limits: Mapping[str, int] = DEFAULT_PEOPLE_LIMITS,
    overloaded_values: Collection[str] = (),
    overloaded_blocks: Collection[str] = (),
    reviews: Mapping[tuple[str, str], ReviewState] | None = None,
) -> LinkResult:
    """The link graph of ``nodes`` (unique keys) and its components; see the module docstring.

    ``model`` None: no fuzzy links (identifier values and source ids only). ``decisions``: the
    decided candidate pairs (``decide_pairs``); None decides the pairs sharing a blocking key that is
    not overloaded (within the nodes, or in ``overloaded_blocks``). ``overloaded_values``: values an
    index knows to be held by too many records. ``reviews``: people's decisions on pairs.
    """
    ordered = sorted(nodes, key=_node_key)
    keys = [n.key for n in ordered]
    if len(set(keys)) != len(keys):
        raise ValueError("link_graph: record keys must be unique (keep the latest version of each record)")
    index = {key: i for i, key in enumerate(keys)}
    records = [n.record for n in ordered]
    result = LinkResult()
    groups = _Groups(records)
    stored: Mapping[tuple[str, str], ReviewState] = reviews or {}
    used: set[tuple[str, str]] = set()

    def join(x: int, y: int, kind: Literal["identifier", "fuzzy", "owner", "review"], reason: str) -> None:
        a, b = sorted((keys[x], keys[y]))
        groups.union(x, y)
        if (a, b) not in used:
            used.add((a, b))
            result.edges.append(_make_edge(a, b, kind, reason, None))

    def join_checked(x: int, y: int, kind: str, shown: str) -> bool:
        """Join two holders of a value unless that puts two conflicting records in one component (a
        nameless record holding Tom's email and Sue's cannot bridge them); False when refused."""
        if groups.find(x) != groups.find(y):
            found = groups.conflict(x, y, ())
            if found is not None:
                first, second, conflicts = found
                a, b = sorted((keys[x], keys[y]))
                result.refused.append(
                    Refusal(
                        a,
                        b,
                        f"shared {kind} {shown}, but it would join {first.key} and {second.key}: "
                        f"{_reasons(conflicts)}",
                        "conflict",
                    )
                )
                return False
        join(x, y, "identifier", f"shared {kind} {shown}")
        return True

    # 1. Source ids: a record's own key and a child's link to its owner.
    holders_of: dict[str, list[int]] = {}
    for i, node in enumerate(ordered):
        for link in node.links:
            holders_of.setdefault(link, []).append(i)
    for link, members in sorted(holders_of.items()):
        for other in members[1:]:
            join(members[0], other, "owner", f"{ordered[other].key} names its owner {link.partition('#')[2]}")

    # 2. Accepted reviews (their pairs are joined whatever the score; rejected ones refuse below).
    for (a, b), accepted in sorted(stored.items()):
        if accepted.status == "accepted" and a in index and b in index:
            join(index[a], index[b], "review", _by_whom("accepted", accepted))

    # 3. Shared identifier values.
    values_of: dict[str, list[int]] = {}
    for i, node in enumerate(ordered):
        for value in dict.fromkeys(node.values):
            values_of.setdefault(value, []).append(i)
    overloaded_set = set(overloaded_values)
    refused_values: set[str] = set()
    for value in sorted(values_of):
        members = values_of[value]
        if len(members) < 2 and value not in overloaded_set:
            continue
        kind, _, shown = value.partition("#")
        outcome = _value_pairs(
            value, members, ordered, people_limits.get(kind), value in overloaded_set, result
        )
        if outcome.refused:
            refused_values.add(value)
            result.hits.extend((keys[m], value, outcome.refused) for m in members)
            if len(members) > 1:
                result.refused.append(
                    Refusal(keys[members[0]], keys[members[-1]], outcome.refused, "guardrail")
                )
            continue
        joined: set[int] = set()
        bridging = False
        for x, y in outcome.pairs:
            if join_checked(x, y, kind, shown):
                joined.update((x, y))
            else:
                bridging = True
        if bridging and outcome.complete:
            # A holder the value may not join to the first one (it would bridge two people) may
            # still join the others: one person's other records on the value stay together.
            for i, x in enumerate(members):
                for y in members[i + 1 :]:
                    if groups.find(x) != groups.find(y) and join_checked(x, y, kind, shown):
                        joined.update((x, y))
        if len(joined) < len(members):  # (most values join every holder)
            result.hits.extend(
                (keys[m], value, f"shared {kind} {shown} with records it conflicts with")
                for m in members
                if m not in joined
            )

    # 4. Fuzzy links: decided pairs, people's rejections, the cap, strongest first without conflicts.
    if model is not None:
        if decisions is None:
            pairs, overloaded = candidate_index_pairs(ordered, model, overloaded_blocks)
            result.overloaded.update(overloaded)
            decisions = decide_pairs(ordered, pairs, model)
        if refused_values:
            decisions = _without_refused_values(ordered, index, decisions, refused_values, model)
        result.pairs_scored = len(decisions)
        links: list[Decision] = []
        for pair in sorted(decisions):
            decision = decisions[pair]
            if pair[0] not in index or pair[1] not in index:
                continue
            result.decisions.append(decision)
            state = stored.get(pair)
            if decision.outcome == "no_link":
                continue
            if state is not None and state.status == "rejected":
                result.refused.append(Refusal(pair[0], pair[1], _by_whom("rejected", state), "rejected"))
            elif state is not None and state.status == "accepted":
                continue  # joined in step 2
            elif decision.outcome == "link":
                links.append(decision)
            else:
                result.reviews.append(decision)
        cap = model.max_fuzzy_links_per_record
        joins = [0] * len(keys)
        apart = sorted(
            (index[a], index[b])
            for (a, b), state in stored.items()
            if state.status == "rejected" and a in index and b in index
        )
        capped: list[Refusal] = []
        for decision in sorted(links, key=lambda d: (-(d.score.weight if d.score else 0.0), d.a, d.b)):
            x, y = index[decision.a], index[decision.b]
            if groups.find(x) != groups.find(y):
                full = [keys[k] for k in (x, y) if joins[k] >= cap]
                if full:
                    capped.append(
                        Refusal(
                            decision.a,
                            decision.b,
                            f"{full[0]} has more than {cap} fuzzy links: it joined {cap} groups of "
                            "records already",
                            "cap",
                        )
                    )
                    continue
                rejected = _rejected_between(groups, apart, x, y) if apart else None
                if rejected is not None:
                    a, b = keys[rejected[0]], keys[rejected[1]]
                    result.refused.append(
                        Refusal(
                            decision.a,
                            decision.b,
                            f"{decision.reason}, but it would join {a} and {b}: "
                            + _by_whom("rejected", stored[(a, b)]),
                            "rejected",
                        )
                    )
                    continue
                found = groups.conflict(x, y, model.vetoes)
                if found is not None:
                    first, second, conflicts = found
                    result.refused.append(
                        Refusal(
                            decision.a,
                            decision.b,
                            f"{decision.reason}, but it would join {first.key} and {second.key}: "
                            f"{_reasons(conflicts)}",
                            "conflict",
                        )
                    )
                    continue
                joins[x] += 1
                joins[y] += 1
            groups.union(x, y)
            if (decision.a, decision.b) not in used:
                used.add((decision.a, decision.b))
                result.edges.append(
                    _make_edge(decision.a, decision.b, "fuzzy", decision.reason, decision.score)
                )

        # A capped link between records other links join after all refused nothing.
        result.refused.extend(r for r in capped if groups.find(index[r.a]) != groups.find(index[r.b]))

    by_root: dict[int, list[str]] = {}
    for i, key in enumerate(keys):
        by_root.setdefault(groups.find(i), []).append(key)
    result.components = sorted(tuple(group) for group in by_root.values())
    result.edges.sort(key=lambda e: (e.a, e.b, e.kind))
    result.reviews.sort(key=lambda d: (d.a, d.b))
    result.refused.sort(key=lambda r: (r.a, r.b, r.reason))
    result.hits.sort()
    return result


def _rejected_between(
    groups: _Groups, apart: Sequence[tuple[int, int]], x: int, y: int
) -> tuple[int, int] | None:
    """The first rejected pair (node indexes, in key order) with one record in the group of ``x``
    and the other in the group of ``y``."""
    ends = {groups.find(x), groups.find(y)}
    for u, v in apart:
        if {groups.find(u), groups.find(v)} == ends:
            return u, v
    return None


def _without_refused_values(
    ordered: Sequence[GraphNode],
    index: Mapping[str, int],
    decisions: Mapping[tuple[str, str], Decision],
    refused: set[str],
    model: LinkageModel,
) -> dict[tuple[str, str], Decision]:
    """The decisions, with the pairs touching a value the guardrails refused decided again without
    it: a switchboard phone or an office inbox shared by too many people is no evidence, exact or
    fuzzy (nine colleagues on ``info@`` with neighbouring extensions are not one person)."""
    stripped: dict[int, LinkageRecord] = {}
    for i, node in enumerate(ordered):
        if refused.intersection(node.values):
            r = node.record
            stripped[i] = replace(
                r,
                emails=tuple(e for e in r.emails if f"email#{email_match_key(e)}" not in refused),
                email_keys=tuple(k for k in r.email_keys if f"email#{k}" not in refused),
                phones=tuple(p for p in r.phones if f"phone#{p}" not in refused),
                national_id=None if f"national_id#{r.national_id}" in refused else r.national_id,
            )
    if not stripped:
        return dict(decisions)
    out = dict(decisions)
    for a, b in decisions:
        x, y = index.get(a), index.get(b)
        if x is None or y is None or (x not in stripped and y not in stripped):
            continue
        out[(a, b)] = decide(stripped.get(x, ordered[x].record), stripped.get(y, ordered[y].record), model)
    return out


def link_records(
    records: Sequence[LinkageRecord],
    model: LinkageModel,
    people_limits: Mapping[str, int] = DEFAULT_PEOPLE_LIMITS,
) -> LinkResult:
    """Run the pure matcher over ``records`` (unique keys, all people): identifiers, blocking, scoring,
    components. The records' emails, phones and national ids are their identifier values."""
    nodes = [GraphNode(record, values=identifier_values(record)) for record in records]
    return link_graph(nodes, model, people_limits=people_limits)
