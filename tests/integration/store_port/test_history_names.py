"""The index of the names histories hold (core.governance.history_names), on the in-memory, SQLite
and DynamoDB (moto) stores: every way an event is stored writes its items (an event appended on its
own, one committed in a changeset, a survivor's inherited copy), a name's customers come back in
pages, and an erasure reads them a page at a time, redacts every history and deletes the items."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.governance.history import HistoryEvent
from core.governance.history_names import NAMED_PAGE, NAMED_PREFIX, store_named_pks
from core.governance.history_redaction import redact_histories
from core.identity import IdentityPolicy
from core.pipeline import IngestSettings, ingest
from core.privacy_store import ErasureStore
from core.retirement import SourceDeletion, retire_records
from core.storage.memory_privacy import InMemoryErasureStore
from core.testing.records import T0, make_record
from tests.integration.store_port.conftest import StoreKit

WORK = "email#ann.work@example.com"


def _event(
    customer: str, n: int, *, identifiers: tuple[str, ...] = (WORK,), kind: Any = "source_arrived"
) -> HistoryEvent:
    return HistoryEvent(
        customer_id=customer,
        event_id=f"ev-{customer}-{n}",
        at=T0 + timedelta(seconds=n),
        kind=kind,
        actor="test",
        source_keys=(f"shop:contact:{customer}",),
        identifiers=identifiers,
    )


def _naming(kit: StoreKit, name: str, page: int = NAMED_PAGE) -> list[str]:
    history = kit.profiles.history
    out: list[str] = []
    after: str | None = None
    while True:
        found = history.histories_naming(name, after=after, limit=page)
        assert len(found.customers) <= page
        out += found.customers
        if found.next is None:
            return out
        after = found.next


def _erasure(kit: StoreKit) -> ErasureStore:
    return kit.erasure if kit.erasure is not None else InMemoryErasureStore(kit.profiles, kit.sync_state)


def test_every_event_stored_is_indexed_by_its_names(kit: StoreKit) -> None:
    # GIVEN an arrival and a split appended on their own, a record joining another's customer by
    # its address in an ingest (committed with its event), and a survivor inheriting the first two
    history = kit.profiles.history
    history.append_history([_event("cus-a", 1), _event("cus-a", 2, identifiers=(), kind="split")])
    settings = IngestSettings(policy=IdentityPolicy())
    ingest([make_record("crm", "1", email="bob@example.com")], kit.profiles, settings)
    ingest([make_record("shop", "2", email="bob@example.com", day=1)], kit.profiles, settings)
    history.inherit_history("cus-a", "cus-b")
    # THEN each value leads to every customer whose history names it, and to no other
    assert _naming(kit, WORK) == ["cus-a", "cus-b"]
    bob = kit.profiles.get_owners(["email#bob@example.com"])["email#bob@example.com"].customer_id
    assert _naming(kit, "email#bob@example.com") == [bob]
    assert _naming(kit, "email#nobody@example.com") == []
    # AND a record leads to the histories of the split that named it; its own arrival writes no
    # item (nor does a new customer's): the event that takes it away names it
    assert _naming(kit, "source#shop:contact:cus-a") == ["cus-a", "cus-b"]
    assert _naming(kit, "source#crm:contact:1") == []
    # WHEN items are forgotten, THEN only those go
    history.forget_named([(WORK, "cus-a"), (WORK, "cus-zzz")])
    assert _naming(kit, WORK) == ["cus-b"]


def test_a_name_in_many_histories_comes_back_in_pages(kit: StoreKit) -> None:
    customers = [f"cus-{n:03d}" for n in range(230)]
    kit.profiles.history.append_history([_event(c, n) for n, c in enumerate(customers)])
    assert _naming(kit, WORK, page=NAMED_PAGE) == customers
    assert _naming(kit, WORK, page=7) == customers


def test_an_erasure_redacts_every_history_the_index_names_and_deletes_its_items(kit: StoreKit) -> None:
    # GIVEN an address named in the histories of more customers than a page holds, beside
    # another address that stays
    customers = [f"cus-{n:03d}" for n in range(NAMED_PAGE + 30)]
    other = "email#other@example.com"
    history = kit.profiles.history
    history.append_history([_event(c, n, identifiers=(WORK, other)) for n, c in enumerate(customers)])
    # WHEN the address is erased (nobody holds it)
    done = redact_histories(history, _erasure(kit), set(), [WORK])
    # THEN no history names it, its index items are gone, the other address stays everywhere
    assert done.events == len(customers)
    for customer in customers:
        [event] = history.list_history(customer).events
        assert (event.identifiers, event.source_keys) == ((other,), (f"shop:contact:{customer}",))
    assert _naming(kit, WORK) == []
    assert _naming(kit, other) == customers
    # and repeating it changes nothing more
    assert redact_histories(history, _erasure(kit), set(), [WORK]).events == 0


def test_a_customer_deleted_by_retiring_its_last_record_leaves_no_index_item(kit: StoreKit) -> None:
    # GIVEN Ann's two records, joined by her address; the vendor deletes the first (her customer
    # stays: its source_removed names the record), then the second (her customer goes)
    settings = IngestSettings(policy=IdentityPolicy(), sleep=lambda _: None)
    ingest([make_record("crm", "1", email="ann@example.com")], kit.profiles, settings)
    ingest([make_record("shop", "2", email="ann@example.com", day=1)], kit.profiles, settings)
    [ann] = _naming(kit, "email#ann@example.com")

    def retire(tool: str, source_id: str, day: int) -> None:
        deletion = SourceDeletion(
            source=tool, object_type="contact", source_id=source_id, deleted_at=T0 + timedelta(days=day)
        )
        retire_records([deletion], kit.profiles, _erasure(kit), settings)

    retire("crm", "1", 2)
    assert _naming(kit, "source#crm:contact:1") == [ann]
    retire("shop", "2", 3)
    # THEN no index item leads to it any more
    assert kit.profiles.get_owners(["email#ann@example.com"]) == {}
    assert _naming(kit, "source#crm:contact:1") == []
    assert _naming(kit, "email#ann@example.com") == []


def test_index_items_hold_no_value_in_clear(durable_kit: StoreKit) -> None:
    history = durable_kit.profiles.history
    history.append_history([_event("cus-a", 1, kind="split")])
    rows = _rows(durable_kit)
    named = [r for r in rows if r[0].startswith(NAMED_PREFIX)]
    assert sorted(named) == sorted(
        [
            (store_named_pks(history, WORK)[0], "cus-a"),
            (store_named_pks(history, "source#shop:contact:cus-a")[0], "cus-a"),
        ]
    )
    assert not [r for r in named if "ann" in str(r)]


def _rows(kit: StoreKit) -> list[tuple[str, str]]:
    if kit.name == "sqlite":
        with kit.profiles.database.reading() as conn:
            return [(pk, sk) for pk, sk in conn.execute("SELECT pk, sk FROM items")]
    client: Any = kit.profiles._client
    out: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {"TableName": kit.profiles.table_name}
    while True:
        page = client.scan(**kwargs)
        out += [(i["PK"]["S"], i["SK"]["S"]) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
