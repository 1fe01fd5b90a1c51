"""The explain route's seam for links that are not a shared email or phone (``LinkSource``): what a
source gives joins the records' groups and is rendered through the role's grant, and a link naming
a record the customer does not hold is left out. The linkage engine's stored graph plugs in here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from core.governance.answer import Caller, ReadRequest, Sources, answer_read
from core.governance.explain import Link, explain
from core.governance.policy import sample_policy
from core.governance.reading import StoreProfileReader, lookup_by_id
from core.identity import customer_id_for
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.storage.memory_reads import InMemoryReadAudit
from core.testing.records import make_record

ANN = customer_id_for("crm:contact:1")


class Reviewed:
    """A reviewer joined the CRM record to the shop record; and one link names a stranger's record."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def links_of(self, customer_id: str, records: Sequence[SourceRecord]) -> Sequence[Link]:
        self.asked.append(customer_id)
        return (
            Link(
                "crm:contact:1",
                "shop:contact:2",
                "review",
                "a reviewer confirmed",
                0.91,
                "source#crm:contact:1",
            ),
            Link("crm:contact:1", "web:contact:99", "fuzzy", "names agree", 0.8),
        )


def test_links_from_a_link_source_join_groups_and_are_filtered_by_the_grant() -> None:
    # GIVEN Ann's customer with two records
    store = InMemoryProfileStore()
    ingest(
        [
            make_record("crm", "1", email="ann@example.com"),
            make_record("shop", "2", email="ann@example.com"),
        ],
        store,
        IngestSettings(sleep=lambda _: None),
    )
    links = Reviewed()
    sources = Sources(StoreProfileReader(store), store.history, InMemoryReadAudit(), links=links)
    grant = sample_policy().role("admin")
    assert grant is not None
    # WHEN an admin asks why they are one customer
    answer = answer_read(
        ReadRequest("explain", lookup_by_id(ANN)),
        Caller("local:admin", "admin", grant),
        sources,
        request_id="r-1",
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )
    explained = answer.document["explain"]
    # THEN the link source was asked for this customer, and its link between her two records is shown
    # by their aliases, with its reason, score and the identifier it rests on; the stranger's is not
    assert links.asked == [ANN]
    [link] = explained["links"]  # type: ignore[index]
    assert (link["a"], link["b"], link["kind"], link["reason"], link["score"]) == (
        "r1",
        "r2",
        "review",
        "a reviewer confirmed",
        0.91,
    )
    assert "crm:contact:1" in str(link["identifier"])
    assert explained["connected"] is True  # type: ignore[index]


def test_a_link_joins_records_that_share_no_identifier() -> None:
    # GIVEN two records that share nothing, one linked to the other by a reviewer
    crm = make_record("crm", "1", email="ann@example.com")
    shop = make_record("shop", "2", email="a.lee@example.com")
    apart = explain(ANN, [crm, shop])
    joined = explain(ANN, [crm, shop], links=Reviewed().links_of(ANN, [crm, shop]))
    # THEN without the link they are two groups (a customer waiting to be split); with it, one
    assert apart.groups == ((crm.key,), (shop.key,))
    assert joined.groups == ((crm.key, shop.key),)
    assert [link.kind for link in joined.links] == ["review"]
