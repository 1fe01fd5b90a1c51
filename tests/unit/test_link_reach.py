"""The fast path of probabilistic ingest gives the customers the whole link graph gives.

Ingest builds each batch's graph over the records its anchors reach (core.link_reach) instead of
the whole scope, keeps candidates' nodes and pair decisions between batches, and files a batch's
records as the candidates later batches will read. Each shortcut is checked against the slow path
it replaces: the graph over the whole scope, ``link_graph`` over every record at once, and the node
a stored record's ``match`` document gives.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core import link_scope_graph
from core.identity import IdentityPolicy
from core.link_nodes import _as_match_node, _match_node, graph_node
from core.link_reach import DecisionCache, Filing, reachable
from core.link_scope import LinkageSettings, Scope
from core.linkage import GraphNode, decide, default_model, link_graph, linkage_record
from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.dense_block import smiths
from core.testing.invariants import store_problems
from core.testing.records import make_record
from core.testing.varied_population import varied_population

OPTIONS = NormaliseOptions(default_region="GB")


def _records(people: int, seed: int) -> list[SourceRecord]:
    out = []
    for _, flat in varied_population(people, seed=seed):
        record = normalise_record(draft_from_flat(flat), OPTIONS)
        if isinstance(record, SourceRecord):
            out.append(record)
    return out


def _older_version(record: SourceRecord, rng: random.Random) -> SourceRecord:
    """An earlier version of the record as a tool held it: another person's birth date, or no
    surname, or an old postcode (so updates move records between customers, and back)."""
    traits = dict(record.traits)
    change = rng.choice(["date_of_birth", "last_name", "postal_code"])
    if change == "date_of_birth":
        traits["date_of_birth"] = f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    elif change == "last_name":
        traits.pop("last_name", None)
    else:
        traits["postal_code"] = rng.choice(["LS1 4AP", "BS1 4DJ", "N1 9GU"])
    earlier = record.updated_at.replace(year=record.updated_at.year - 1)
    return record.model_copy(update={"traits": traits, "updated_at": earlier})


def _delivered(latest: list[SourceRecord], rng: random.Random) -> list[SourceRecord]:
    """The latest records with older versions of a fifth of them, shuffled."""
    deliveries = latest + [_older_version(r, rng) for r in rng.sample(latest, len(latest) // 5)]
    rng.shuffle(deliveries)
    return deliveries


def _ingest_in_batches(
    records: list[SourceRecord], rng: random.Random, sizes: list[int]
) -> tuple[InMemoryProfileStore, IngestSettings]:
    """Ingest the records in order, in batches of sizes drawn from ``sizes``, with probabilistic
    identity into a fresh in-memory store."""
    settings = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())
    store = InMemoryProfileStore()
    start = 0
    while start < len(records):
        size = rng.choice(sizes)
        ingest(records[start : start + size], store, settings)
        start += size
    return store, settings


def _customers(store: InMemoryProfileStore) -> set[frozenset[str]]:
    return {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}


def _graph_customers(records: list[SourceRecord], settings: IngestSettings) -> set[frozenset[str]]:
    """The slow path: ``link_graph`` over every latest record at once."""
    assert settings.linkage is not None
    nodes = [graph_node(r, settings.policy) for r in records]
    result = link_graph(nodes, settings.linkage.model, people_limits=settings.linkage.limits(settings.policy))
    return {frozenset(c) for c in result.components}


@pytest.fixture
def whole_scope_checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every graph ingest builds from its anchors is compared with the graph over the whole scope:
    the components holding an anchor must be the same. Returns the list of graphs compared."""
    compared: list[int] = []
    reached_graph = Scope.graph

    def both(self: Scope, anchors: Any = None) -> Any:
        fast = reached_graph(self, anchors)
        if anchors is None:
            return fast
        slow = reached_graph(self, None)
        within = set(anchors)
        assert {c for c in fast.components if within.intersection(c)} == {
            c for c in slow.components if within.intersection(c)
        }
        assert {(e.a, e.b, e.kind) for e in fast.edges} <= {(e.a, e.b, e.kind) for e in slow.edges}
        # What the plan reads besides the components: the batch's reviews, fuzzy links and refusals.
        batch = self.batch
        for part in ("reviews", "edges", "refused"):
            assert {(x.a, x.b) for x in getattr(fast, part) if batch & {x.a, x.b}} == {
                (x.a, x.b) for x in getattr(slow, part) if batch & {x.a, x.b}
            }, part
        assert {h for h in fast.hits if h[0] in batch} == {h for h in slow.hits if h[0] in batch}
        self.result = fast
        compared.append(len(self.nodes))
        return fast

    monkeypatch.setattr(Scope, "graph", both)
    return compared


@pytest.mark.parametrize("seed", [1, 2])
def test_a_varied_population_in_shuffled_batches_gives_the_customers_of_the_whole_graph(
    seed: int, whole_scope_checked: list[int]
) -> None:
    """GIVEN 250 people varied the way tools vary them (work emails, nicknames, typos, moves, no
    birth date), older versions of a fifth of their records, all shuffled WHEN ingested in batches
    of random sizes with probabilistic identity THEN every batch's reached graph agrees with the graph
    over its whole scope, and the customers are the components of ``link_graph`` over the latest
    versions at once."""
    rng = random.Random(seed)
    latest = _records(250, seed)
    store, settings = _ingest_in_batches(_delivered(latest, rng), rng, [1, 7, 40, 100])
    assert whole_scope_checked, "no graph was built from anchors"
    assert _customers(store) == _graph_customers(latest, settings)
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []


def test_a_record_that_changes_frees_its_customers_other_records_to_find_their_matches() -> None:
    """GIVEN David (born 1999) in the CRM and a shop record of David with no birth date at his
    address, joined by a fuzzy link, and a David born 1961 at the same address, kept apart by the
    two birth dates WHEN the CRM record becomes someone else THEN the shop record joins the David
    born 1961, as one batch of the latest records gives."""
    settings = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())
    david = {"first_name": "David", "last_name": "Okafor", "address": "27 Park Lane", "postal_code": "N1 9GU"}
    crm = make_record("crm", "1", traits={**david, "date_of_birth": "1999-10-23"})
    shop = make_record("shop", "1", traits=david)
    elder = make_record("crm", "3", traits={**david, "date_of_birth": "1961-02-11"})
    store = InMemoryProfileStore()
    ingest([crm, shop], store, settings)
    ingest([elder], store, settings)
    assert {shop.key, elder.key} not in [set(c) for c in _customers(store)]
    john = {"first_name": "John", "last_name": "Smith", "address": "12 High Street", "postal_code": "LS1 4AP"}
    moved = make_record("crm", "1", traits={**john, "date_of_birth": "1980-05-17"}, day=10)
    ingest([moved], store, settings)
    assert _customers(store) == _graph_customers([moved, shop, elder], settings)
    assert frozenset({shop.key, elder.key}) in _customers(store)


def _child(owner: str | None, email: str | None) -> SourceRecord:
    flat: dict[str, Any] = {
        "source": "shop",
        "object_type": "order",
        "id": "o-1",
        "updated_at": "2026-01-02T00:00:00Z",
        "total": "12.50",
    }
    if owner is not None:
        flat |= {"owner_id": owner, "owner_type": "customer"}
    if email is not None:
        flat["email"] = email
    record = normalise_record(draft_from_flat(flat), OPTIONS)
    assert isinstance(record, SourceRecord), record
    return record


def test_the_node_filed_for_a_batch_record_is_the_one_its_match_document_gives() -> None:
    """GIVEN people from the varied population, orders with and without an owner, and a record
    holding a blocklisted email WHEN a batch record's node is kept for later batches THEN it equals,
    field for field (blocking keys and source links too), the node a later batch makes from the
    record's stored ``match`` document, or none is kept."""
    policy = IdentityPolicy(blocked_values=frozenset({"email#noreply@example.com"}), blocked_patterns=())
    records = _records(60, 7)
    records += [_child("c-9", None), _child(None, "guest@example.com"), _child("c-9", "gift@example.com")]
    records.append(make_record("crm", "99", email=["noreply@example.com", "ann@example.com"], traits={}))
    # A tool listing a phone before the emails (the document reads emails first), and one whose
    # blocklisted email sits between its phones.
    for key, emails, phones in (
        ("98", ["ann@example.com", "ann.b@example.com"], ["+447700900123"]),
        ("97", ["noreply@example.com"], ["+447700900123", "+447700900124"]),
    ):
        shuffled = make_record("crm", key, email=emails, phone=phones, traits={"first_name": "Ann"})
        idents = shuffled.identifiers
        reordered = (
            (idents[-2], *idents[:-2], idents[-1]) if key == "98" else (idents[1], idents[0], *idents[2:])
        )
        records.append(shuffled.model_copy(update={"identifiers": reordered}))
    kept: list[SourceRecord] = []
    for record in records:
        node = graph_node(record, policy)
        seeded = _as_match_node(record, node, policy)
        if seeded is None:
            continue
        kept.append(record)
        match, filed = seeded
        expected = _match_node(record.key, match, policy)
        assert filed == expected
        assert (filed.links, filed.blocks, filed.person) == (expected.links, expected.blocks, expected.person)
    assert len(kept) >= len(records) - 3
    assert any(r.level != "person" for r in kept)
    assert all(record in kept for record in records[-3:])


def test_colleagues_on_one_switchboard_arriving_one_by_one_stay_apart(whole_scope_checked: list[int]) -> None:
    """GIVEN seven colleagues (different names and birth dates) who give the company switchboard,
    more people than the phone's limit of five WHEN they arrive one batch at a time THEN every
    batch counts all the holders of the phone, and no two of them are one customer."""
    settings = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())
    names = ["Ann", "Bob", "Cy", "Dee", "Eli", "Fay", "Gus"]
    store = InMemoryProfileStore()
    records = [
        make_record(
            "crm",
            str(n),
            phone="+442079460000",
            email=f"{name.lower()}@example.org",
            traits={"first_name": name, "last_name": f"Lee{n}", "date_of_birth": f"19{60 + n}-0{n + 1}-1{n}"},
        )
        for n, name in enumerate(names)
    ]
    for record in records:
        ingest([record], store, settings)
    assert _customers(store) == _graph_customers(records, settings) == {frozenset({r.key}) for r in records}


def _smiths_in_several_tools(people: int, seed: int) -> list[SourceRecord]:
    """``people`` different Smiths of one postcode (core.testing.dense_block), six of them also in
    three more tools: their postcode + initial and names keys are dense (core.linkage.blocking)."""
    lines = smiths(people, seed)
    rng = random.Random(seed)
    for n in range(6):
        person = dict(rng.choice(lines[:people]))
        lines += [{**person, "source": f"tool{t}", "email": f"p{n}.{t}@example.org"} for t in range(3)]
    out = []
    for flat in lines:
        record = normalise_record(draft_from_flat(flat), OPTIONS)
        assert isinstance(record, SourceRecord), record
        out.append(record)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_dense_blocks_in_shuffled_batches_give_the_customers_of_one_batch(
    seed: int, whole_scope_checked: list[int]
) -> None:
    """GIVEN 150 Smiths of one postcode, six of them in four tools each (keys of 10 to 40 records,
    compared by sorted neighbourhood) WHEN ingested shuffled, in batches of random sizes, with
    probabilistic identity THEN every batch's reached graph agrees with the graph over its whole
    scope, the customers are those of one batch of everything, and each of the six is one customer."""
    records = _smiths_in_several_tools(150, seed)
    rng = random.Random(seed)

    def customers(sizes: list[int]) -> set[frozenset[str]]:
        shuffled = records[:]
        rng.shuffle(shuffled)
        store, _ = _ingest_in_batches(shuffled, rng, sizes)
        assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
        return _customers(store)

    in_batches = customers([1, 7, 40, 100])
    assert whole_scope_checked, "no graph was built from anchors"
    assert in_batches == customers([len(records)])
    for copies in (records[150 + 3 * n : 153 + 3 * n] for n in range(6)):
        assert any({r.key for r in copies} <= c for c in in_batches), [r.key for r in copies]


_KEYS = st.sampled_from(["rec-1", "rec-2", "rec-3"])
_NAMES = st.lists(st.sampled_from(["nn:SAN:WAB", "sb:WAB:1970", "id:email#a@x"]), max_size=3)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _KEYS, _NAMES), max_size=40))
@example(
    [(False, k, ["nn:SAN:WAB"]) for k in ("rec-1", "rec-2", "rec-3")]
    + [(True, "rec-1", ["nn:SAN:WAB"]), (False, "rec-1", ["nn:SAN:WAB"])]
)
def test_the_filing_holds_what_a_set_per_name_holds(steps: list[tuple[bool, str, list[str]]]) -> None:
    """GIVEN any order of records filed under names and taken out again (a candidate replaced by its
    loaded version, a name given twice) WHEN a scope's ``Filing`` and a set per name do the same THEN
    every name holds the same keys, and the names two keys or more hold are the shared ones."""
    filing, model = Filing(), dict[str, set[str]]()
    for remove, key, names in steps:
        if remove:
            filing.remove(key, names)
            for name in names:
                model.get(name, set()).discard(key)
        else:
            filing.add(key, names)
            for name in names:
                model.setdefault(name, set()).add(key)
        for name, held in model.items():
            assert sorted(filing.get(name)) == sorted(held), name
        assert set(filing.shared()) == {name for name, held in model.items() if len(held) >= 2}


_FIELD = st.one_of(st.none(), st.sampled_from(["Ann", "Anne", "Ana", "Lee", "Leigh", "Ann Lee"]))
_PERSON = st.builds(
    lambda first, last, dob, pc, email: {
        k: v
        for k, v in {
            "first_name": first,
            "last_name": last,
            "dob": dob,
            "postcode": pc,
            "email": email,
        }.items()
        if v
    },
    _FIELD,
    _FIELD,
    st.sampled_from(["", "1980-02-01", "1980-01-02", "1981-02-01", "1932-02-39"]),
    st.sampled_from(["", "BA14 8AA", "BA14 8AB", "LS1 4AP"]),
    st.sampled_from(["", "ann.lee@gmail.com", "annlee@gmial.com", "ann@work.example"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_PERSON, min_size=2, max_size=6), st.integers(0, 5), _PERSON)
def test_the_decision_cache_decides_every_pair_as_decide(
    people: list[dict[str, str]], changed: int, other: dict[str, str]
) -> None:
    """GIVEN hypothesis-made records WHEN every pair is decided through the cache by its sorted keys,
    again (from the cache), and after one record changed THEN each decision is ``decide``'s, and
    the cache counts as scored each pair once, and again each pair of the record that changed."""
    model = default_model()

    def node(key: str, traits: dict[str, str]) -> GraphNode:
        email = traits.get("email")
        return GraphNode(linkage_record(key, traits, [email] if email else []))

    nodes = {f"rec-{i}": node(f"rec-{i}", traits) for i, traits in enumerate(people)}
    pairs = [(a, b) for a in sorted(nodes) for b in sorted(nodes) if a < b]
    cache = DecisionCache()
    for _ in range(2):
        assert cache.decide_keys(pairs, nodes, model) == {
            (a, b): decide(nodes[a].record, nodes[b].record, model) for a, b in pairs
        }
    assert cache.scored == len(pairs)
    key = f"rec-{changed % len(people)}"
    unchanged = nodes[key].record
    nodes[key] = node(key, other)
    assert cache.decide_keys(pairs, nodes, model) == {
        (a, b): decide(nodes[a].record, nodes[b].record, model) for a, b in pairs
    }
    rescored = len(people) - 1 if nodes[key].record != unchanged else 0
    assert cache.scored == len(pairs) + rescored


@pytest.fixture
def fresh_walk_checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every walk a scope makes with what its earlier rounds found (``Scope.walked``) is compared
    with a walk from nothing over the same scope: the same records reached and the same candidate
    pairs. Returns, per walk, how many of the records it reached it took from the kept walk."""
    reused: list[int] = []
    real = reachable

    def both(*args: Any) -> set[str]:
        anchors, nodes, blocks, limit, overloaded, holders, decide, walked, note = args
        before = set(walked)
        kept: set[tuple[str, str]] = set()

        def noted(pairs: Any) -> None:
            kept.update(pairs)
            note(pairs)

        def decided(pairs: Any) -> Any:
            kept.update(pairs)
            return decide(pairs)

        got = real(anchors, nodes, blocks, limit, overloaded, holders, decided, walked, noted)
        fresh: set[tuple[str, str]] = set()

        def decided_fresh(pairs: Any) -> Any:
            fresh.update(pairs)
            return decide(pairs)

        assert got == real(anchors, nodes, blocks, limit, overloaded, holders, decided_fresh)
        assert kept == fresh
        reused.append(len(before & got))
        return got

    monkeypatch.setattr(link_scope_graph, "reachable", both)
    return reused


@pytest.mark.parametrize("seed", [3, 4])
def test_a_walk_kept_between_rounds_reaches_what_a_fresh_walk_reaches(
    seed: int, fresh_walk_checked: list[int]
) -> None:
    """GIVEN 200 varied people with older versions of a fifth of their records, and 120 Smiths of one
    postcode in several tools (dense blocks, whose neighbours shift as records arrive), shuffled WHEN
    ingested in batches of random sizes, each batch's scope walking again from what its earlier
    rounds found after candidates are read and customers loaded THEN every walk reaches the records
    and decides the candidate pairs a walk from nothing does, and the customers are those of
    ``link_graph`` over the latest versions."""
    rng = random.Random(seed)
    latest = _records(200, seed) + _smiths_in_several_tools(120, seed)
    store, settings = _ingest_in_batches(_delivered(latest, rng), rng, [1, 7, 40, 100])
    assert sum(fresh_walk_checked) > 100, "the kept walk was hardly used"
    assert _customers(store) == _graph_customers(latest, settings)
