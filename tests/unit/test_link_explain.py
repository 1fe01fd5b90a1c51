"""Why records are one customer under probabilistic identity (core.link_explain), as data."""

from __future__ import annotations

from core.governance.explain import explain
from core.link_explain import governance_links, identity_explanation, identity_graph
from core.pipeline import ingest
from core.storage.memory import InMemoryProfileStore
from core.testing.records import make_record
from tests.unit.test_pipeline_linkage import LINKED, _hana

HANA = {**_hana(), "address": "8 Mill Lane"}


def test_explain_gives_each_edge_its_reason_and_each_refusal() -> None:
    # GIVEN Hana in three tools: CRM and newsletter share her email, the shop holds another email,
    # and Sue, who shares the newsletter's family address with a different first name and birth date
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits=HANA)
    mail = make_record("mail", "2", email="hana.sato@corp.jp", traits={"first_name": "Hana"})
    shop = make_record("shop", "3", email="hanasato92@icloud.com", traits=HANA, day=1)
    sue = make_record(
        "shop", "4", email="hana.sato@corp.jp", traits={"first_name": "Sue", "date_of_birth": "1960-02-02"}
    )
    store = InMemoryProfileStore()
    ingest([crm, mail, shop, sue], store, LINKED)
    cid = store.ident_owners()[f"source#{crm.key}"]
    state = store.get_customers([cid])[cid]
    # WHEN explained
    data = identity_explanation(store, state, LINKED)
    # THEN her three records are one group, with a shared-email edge and a scored fuzzy edge
    assert data["groups"] == [[crm.key, mail.key, shop.key]]
    kinds = {(tuple(e["records"]), e["kind"]) for e in data["edges"]}
    assert ((crm.key, mail.key), "identifier") in kinds
    fuzzy = [e for e in data["edges"] if e["kind"] == "fuzzy" and shop.key in e["records"]]
    assert fuzzy
    assert {"field", "level", "weight"} <= set(fuzzy[0]["score"]["fields"][0])
    # AND Sue's claim on the shared email is listed as refused for its conflict
    assert any(sue.key in r["records"] and r["kind"] == "conflict" for r in data["refused"])
    assert sue.key not in data["records"]
    assert data["scores"]
    assert all(0.0 <= s <= 1.0 for s in data["scores"])


def test_the_fuzzy_edges_reach_the_profile_explain_as_links() -> None:
    # GIVEN Hana in two tools joined by a fuzzy link only
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits=HANA)
    shop = make_record("shop", "3", email="hanasato92@icloud.com", traits=HANA, day=1)
    store = InMemoryProfileStore()
    ingest([crm, shop], store, LINKED)
    cid = store.ident_owners()[f"source#{crm.key}"]
    state = store.get_customers([cid])[cid]
    # WHEN the governance explanation is given the graph's links
    links = governance_links(identity_graph(store, state, LINKED).edges, set(state.snapshots))
    explanation = explain(cid, state.snapshots.values(), links=links)
    # THEN one group: without the links, the two records would not join up
    assert [link.kind for link in links] == ["fuzzy"]
    assert len(explanation.groups) == 1
    assert len(explain(cid, state.snapshots.values()).groups) == 2


def test_the_export_of_a_person_holds_the_explanation_in_either_mode() -> None:
    from core.privacy import export_person
    from core.schema import Identifier

    # GIVEN Hana's CRM and shop records joined by a fuzzy link only, and her newsletter record by email
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits=HANA)
    mail = make_record("mail", "2", email="hana.sato@corp.jp", traits={"first_name": "Hana"})
    shop = make_record("shop", "3", email="hanasato92@icloud.com", traits=HANA, day=1)
    store = InMemoryProfileStore()
    ingest([crm, mail, shop], store, LINKED)
    # WHEN she is exported by her shop email, with the settings ingest used
    found = export_person(store, Identifier(kind="email", value="hanasato92@icloud.com"), identity=LINKED)
    # THEN the export explains the graph: the shared email, and the fuzzy link with its field weights
    assert found is not None
    assert found.identity is not None
    assert found.identity["mode"] == "probabilistic"
    edges = {e["kind"]: e for e in found.identity["edges"]}
    assert set(edges) == {"identifier", "fuzzy"}
    assert edges["fuzzy"]["score"]["fields"]
    assert sorted(found.identity["records"]) == sorted([crm.key, mail.key, shop.key])
    # AND without probabilistic settings it explains by exact identifiers: the shared email joins
    # two records, and the shop record stands apart (a group of its own)
    exact = export_person(store, Identifier(kind="email", value="hanasato92@icloud.com"))
    assert exact is not None
    assert exact.identity is not None
    assert exact.identity["mode"] == "exact"
    assert [e["records"] for e in exact.identity["edges"]] == [[crm.key, mail.key]]
    assert len(exact.identity["groups"]) == 2
