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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from operator import attrgetter
from typing import Final, Literal

from core.linkage.email_keys import email_match_key
from core.linkage.fields import LinkageRecord
from core.linkage.graph_groups import _Groups, _reasons
from core.linkage.graph_groups import _records_conflict as _records_conflict
from core.linkage.graph_nodes import (
    GraphNode,
    ReviewState,
    block_members,
    candidate_index_pairs,
    decide_pairs,
    identifier_values,
)
from core.linkage.graph_nodes import make_node as make_node
from core.linkage.graph_values import DEFAULT_PEOPLE_LIMITS, MAX_HOLDERS_COMPARED, _value_pairs
from core.linkage.graph_values import _value_conflicts as _value_conflicts
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

_node_key: Final = attrgetter("record.key")
_make_edge: Final = slot_maker(Edge)


_CONFLICT: Final = "conflict"


def _by_whom(verb: str, state: ReviewState) -> str:
    return f"{verb} by {state.by or 'a reviewer'}" + (f" at {state.at}" if state.at else "")


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
    # Only a link two records hold joins anything (most are a record's own key): those sorted alone.
    for link, members in sorted(item for item in holders_of.items() if len(item[1]) > 1):
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
    # A value one record holds joins nothing unless the index knows it overloaded: the rest sorted alone.
    for value in sorted(v for v, held in values_of.items() if len(held) > 1 or v in overloaded_set):
        members = values_of[value]
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
