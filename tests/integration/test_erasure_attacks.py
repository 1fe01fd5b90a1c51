"""Erasure attacked on the SQLite and DynamoDB (moto) stores, item by item, by someone who did not
write it: erase twice then lift, erase a customer others were merged into, name the person with
another spelling of their address, and erase any one customer of a generated population.

Where ``tests/unit/test_erasure.py`` compares what the ports read back on the in-memory store, these
tests read every stored item (``SELECT * FROM items``, a DynamoDB ``Scan``), so an item a port never
reads is seen too.
"""

from __future__ import annotations

import json
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from core.identity import IdentityPolicy
from core.person_scope import find_scope
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for, lift_suppression
from core.privacy_store import ErasureStore
from core.schema import Identifier, SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.suppression import SuppressionCheck, SuppressionStore
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.hypothesis_profiles import examples
from tests.unit.test_erasure import populations

SALT = "attack-salt"
#: A shared value stops matching at two records: people sharing one stay apart.
APART = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 1, "phone": 1}))
#: Items that are the erasure's own bookkeeping, not anybody's data.
BOOKKEEPING = ("SUPPRESS#", "SUPPRESSION#", "AUDIT#", "PENDING#", "ERASURE#")

Row = tuple[str, str, str]  # pk, sk, every other attribute as sorted JSON


@dataclass
class Stores:
    profiles: Any
    sync_state: Any
    erasure: ErasureStore
    suppression: SuppressionStore
    rows: Callable[[], list[Row]]
    """Every item stored, read raw (None for the in-memory store, which keeps no items)."""

    def ingest(self, records: Sequence[SourceRecord], policy: IdentityPolicy = APART) -> Any:
        check = SuppressionCheck(self.suppression, SALT)
        return ingest(records, self.profiles, IngestSettings(policy=policy, suppression=check))

    def erase(
        self,
        identifier: Identifier,
        request_id: str,
        policy: IdentityPolicy = APART,
        identity: IngestSettings | None = None,
    ) -> Any:
        return erase_person(
            identifier,
            profiles=self.profiles,
            erasure=self.erasure,
            tools={},
            salt=SALT,
            request_id=request_id,
            sync_state=self.sync_state,
            suppression=self.suppression,
            policy=policy,
            identity=identity,
        )

    def owner(self, key: str) -> str | None:
        found = self.profiles.get_owners([key]).get(key)
        return None if found is None else str(found.customer_id)


@contextmanager
def sqlite_stores() -> Iterator[Stores]:
    with (
        tempfile.TemporaryDirectory() as folder,
        SQLiteDatabase(Path(folder) / "attack.sqlite3") as database,
    ):

        def rows() -> list[Row]:
            with database.reading() as conn:
                found = conn.execute(
                    "SELECT pk, sk, version, hash, owner, updated_at, data, attrs, expires_at FROM items"
                ).fetchall()
            return sorted((r[0], r[1], json.dumps(r[2:], sort_keys=True)) for r in found)

        yield Stores(
            SQLiteProfileStore(database),
            SQLiteSyncStateStore(database),
            SQLiteErasureStore(database),
            SQLiteSuppressionStore(database),
            rows,
        )


#: The boto3 session the DynamoDB stores' clients are made from, kept for the process (below).
_SESSION: list[Any] = []


def _client() -> Any:
    """``dynamodb_client()`` (profilesync's client, its config) made from one boto3 session kept for
    the process. moto's ``mock_aws()`` drops boto3's default session on entry, and a new session
    registers botocore's built-in handlers again: about 20 ms of CPU of each store opened, in the
    hundreds of hypothesis examples and cases that open one. Each store still gets a client of its
    own (its events, its hooks) and moto's state is still one per mock; the session's credentials
    are moto's fake ones, read in a mock. boto3's default session is put back as the mock left it."""
    import boto3

    if not _SESSION:
        client = dynamodb_client()
        _SESSION.append(boto3.DEFAULT_SESSION)
        return client
    left = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = _SESSION[0]
    try:
        return dynamodb_client()
    finally:
        boto3.DEFAULT_SESSION = left


@contextmanager
def dynamodb_stores() -> Iterator[Stores]:
    model_aws_semantics()
    with mock_aws():
        client = _client()
        create_table(client, "attack")

        def rows() -> list[Row]:
            out: list[Row] = []
            kwargs: dict[str, Any] = {"TableName": "attack"}
            while True:
                page = client.scan(**kwargs)
                for item in page["Items"]:
                    rest = {k: v for k, v in item.items() if k not in ("PK", "SK")}
                    out.append((item["PK"]["S"], item["SK"]["S"], json.dumps(rest, sort_keys=True)))
                if "LastEvaluatedKey" not in page:
                    return sorted(out)
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        yield Stores(
            DynamoDBProfileStore(client, "attack", read_workers=1),
            DynamoDBSyncStateStore(client, "attack"),
            DynamoDBErasureStore(client, "attack"),
            DynamoDBSuppressionStore(client, "attack"),
            rows,
        )


@contextmanager
def memory_stores() -> Iterator[Stores]:
    profiles, state = InMemoryProfileStore(), InMemorySyncStateStore()
    yield Stores(
        profiles,
        state,
        InMemoryErasureStore(profiles, state),
        InMemorySuppressionStore(profiles),
        list,
    )


STORES: dict[str, Callable[[], AbstractContextManager[Stores]]] = {
    "memory": memory_stores,
    "sqlite": sqlite_stores,
    "dynamodb": dynamodb_stores,
}


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def email(value: str) -> Identifier:
    return identifier_for(email=value)


# --- erase twice, then the person signs up again --------------------------------------------------


def test_a_person_erased_twice_and_then_unsuppressed_can_sign_up_again(stores: Stores) -> None:
    # GIVEN Ann, with her email, her phone and a record id, erased once by email
    stores.ingest([make_record("crm", "1", email="ann@example.com", phone="+442079460018")])
    first = stores.erase(email("ann@example.com"), "req-1")
    assert (first.outcome, first.counts["suppressed"]) == ("erased", 3)
    # AND her request sent again (a second ticket, a retry by a DPO who was not sure): nobody is
    # found now, and her email is suppressed under the second erasure's id
    second = stores.erase(email("Ann@Example.com"), "req-2")
    assert second.outcome == "not_found"
    # WHEN she signs up again and the DPO lifts her suppression, as docs/privacy.md says
    lifted = lift_suppression(
        email("ann@example.com"),
        suppression=stores.suppression,
        erasure=stores.erasure,
        salt=SALT,
        request_id="req-3",
        requested_by="dpo",
    )
    assert lifted >= 1
    # THEN her new record, with the same email and phone, is stored: no entry of either erasure is
    # left behind to drop it (her phone would otherwise stay suppressed for good)
    result = stores.ingest([make_record("crm", "2", email="ann@example.com", phone="+442079460018")])
    assert result.suppressed == 0
    assert stores.owner("email#ann@example.com") is not None
    assert stores.owner("phone#+442079460018") is not None


def test_a_person_erased_by_email_and_again_by_phone_is_lifted_by_either(stores: Stores) -> None:
    # GIVEN Ann erased by her email, and a second request naming her phone
    stores.ingest([make_record("crm", "1", email="ann@example.com", phone="+442079460018")])
    stores.erase(email("ann@example.com"), "req-1")
    assert stores.erase(identifier_for(phone="020 7946 0018", region="GB"), "req-2").outcome == "not_found"
    # WHEN the suppression is lifted by her phone
    lift_suppression(
        identifier_for(phone="+44 20 7946 0018"),
        suppression=stores.suppression,
        erasure=stores.erasure,
        salt=SALT,
        request_id="req-3",
        requested_by="dpo",
    )
    # THEN she can sign up again with both
    result = stores.ingest([make_record("shop", "9", email="ann@example.com", phone="+442079460018")])
    assert result.suppressed == 0


# --- the same person, written differently ------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "requested"),
    [
        ("Ann.Smith@Example.COM", "ann.smith@example.com"),  # case
        (unicodedata.normalize("NFD", "josé@example.com"), "José@example.com"),  # combining accent
        ("ann@bücher.example", "ann@xn--bcher-kva.example"),  # an internationalised domain
        ("  ann@example.com\u200b", "ann@example.com"),  # copied with an invisible character
    ],
    ids=["case", "unicode-nfd", "idn", "zero-width"],
)
def test_a_request_finds_the_person_however_their_address_was_written(
    stores: Stores, stored: str, requested: str
) -> None:
    from core.normalise import normalise_email

    # GIVEN a person whose address a tool wrote one way
    stores.ingest([make_record("crm", "1", email=normalise_email(stored), phone="+15550100001")])
    stores.ingest([make_record("crm", "2", email="bob@example.com", phone="+15550100002")])
    # WHEN the DPO names them by the address written another way
    report = stores.erase(email(requested), "req-1")
    # THEN that person is erased, and the other is not
    assert (report.found, report.outcome) == (True, "erased")
    assert stores.owner("phone#+15550100001") is None
    assert stores.owner("email#bob@example.com") is not None


def test_a_request_finds_a_gmail_address_written_without_its_dots(stores: Stores) -> None:
    # GIVEN Ann stored as 'ann.smith@gmail.com', and Bob
    stores.ingest([make_record("crm", "1", email="ann.smith@gmail.com", phone="+15550100001")])
    stores.ingest([make_record("crm", "2", email="bob@example.com", phone="+15550100002")])
    # WHEN the DPO names her as Gmail delivers it too, without the dots
    report = stores.erase(email("AnnSmith@gmail.com"), "req-1")
    # THEN she is found and erased, with her mailbox's marker: nothing of hers is left in the store
    assert (report.found, report.outcome) == (True, "erased")
    assert stores.owner("phone#+15550100001") is None
    assert stores.owner("email#bob@example.com") is not None
    left = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
    assert not [r for r in left if "smith" in json.dumps(r) or "+15550100001" in json.dumps(r)]
    # AND every spelling of her mailbox is suppressed: a sign-up with dots elsewhere, a +tag and
    # Google's other domain is dropped, while Bob's next record is stored
    later = stores.ingest(
        [
            make_record("shop", "7", email="a.nn.smith+promo@googlemail.com"),
            make_record("shop", "8", email="bob@example.com"),
        ]
    )
    assert (later.suppressed, later.written) == (1, 1)
    assert stores.owner("email#a.nn.smith+promo@googlemail.com") is None


def test_a_gmail_mailbox_erased_by_nobody_stored_suppresses_every_spelling_and_lifts_by_any(
    stores: Stores,
) -> None:
    # GIVEN a request naming a Gmail address nobody stored
    assert stores.erase(email("ann.smith@gmail.com"), "req-1").outcome == "not_found"
    # WHEN the person signs up spelled another way
    dropped = stores.ingest([make_record("shop", "1", email="annsmith@googlemail.com")])
    # THEN the record is dropped
    assert dropped.suppressed == 1
    # AND a DPO lifting the suppression by a third spelling lifts it: the person can sign up again
    lifted = lift_suppression(
        email("a.nnsmith@gmail.com"),
        suppression=stores.suppression,
        erasure=stores.erasure,
        salt=SALT,
        request_id="req-2",
        requested_by="dpo",
    )
    assert lifted >= 1
    assert stores.ingest([make_record("shop", "1", email="annsmith@googlemail.com")]).suppressed == 0


def test_two_customers_holding_two_spellings_of_one_mailbox(stores: Stores) -> None:
    # GIVEN two customers exact identity keeps apart, one per spelling of one Gmail mailbox
    stores.ingest([make_record("crm", "1", email="ann.smith@gmail.com", phone="+15550100001")])
    stores.ingest([make_record("shop", "2", email="annsmith@gmail.com", phone="+15550100002")])
    before = stores.rows()
    # WHEN a request names a third spelling
    report = stores.erase(email("a.nn.smith@gmail.com"), "req-1")
    # THEN it is refused as ambiguous: neither is erased nor suppressed
    assert (report.found, report.outcome) == (False, "ambiguous")
    assert [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)] == [
        r for r in before if not r[0].startswith(BOOKKEEPING)
    ]
    # WHEN each is then named by the spelling it holds: the first is erased
    assert stores.erase(email("ann.smith@gmail.com"), "req-2").outcome == "erased"
    assert stores.owner("phone#+15550100001") is None
    # THEN the other customer's records are still theirs: its spelling is not suppressed, since the
    # mailbox was not the erased customer's alone
    update = make_record(
        "shop", "2", email="annsmith@gmail.com", phone="+15550100002", day=1, traits={"x": "1"}
    )
    again = stores.ingest([update])
    assert (again.suppressed, again.written) == (0, 1)
    assert stores.owner("email#annsmith@gmail.com") is not None


# --- erase a customer others were merged into ----------------------------------------------------


def test_erasing_a_person_merged_into_another_erases_both_records_and_leaves_no_item(
    stores: Stores,
) -> None:
    # GIVEN Ann's CRM contact and her shop account, first two customers, then joined by a record
    # that holds both her addresses (one customer merged into the other, a tombstone left)
    both = ["ann@example.com", "ann.work@example.com"]
    stores.ingest([make_record("crm", "1", email=both[0])], IdentityPolicy())
    stores.ingest([make_record("shop", "2", email=both[1])], IdentityPolicy())
    stores.ingest([make_record("mail", "3", email=both)], IdentityPolicy())
    survivor = stores.owner("email#ann@example.com")
    assert survivor is not None
    assert stores.owner("email#ann.work@example.com") == survivor
    scope = find_scope(email(both[1]), profiles=stores.profiles, erasure=stores.erasure)
    assert len(scope.absorbed) == 1  # the customer merged away, kept as a tombstone
    stores.ingest([make_record("crm", "4", email="bob@example.com")], IdentityPolicy())
    before = stores.rows()
    # WHEN she is erased by the address of the customer that was merged away
    report = stores.erase(email("ann.work@example.com"), "req-1", IdentityPolicy())
    # THEN every record of hers is gone, the tombstone too, and Bob is as he was
    assert report.outcome == "erased"
    assert report.counts["source"] == 3
    for key in ("email#ann@example.com", "email#ann.work@example.com", "source#crm:contact:1"):
        assert stores.owner(key) is None
    after = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
    assert not [r for r in after if "ann" in json.dumps(r)]
    bob = stores.owner("email#bob@example.com")
    assert bob is not None
    assert [r for r in after if bob in json.dumps(r)] == [r for r in before if bob in json.dumps(r)]


# --- erasing one customer of a generated population -------------------------------------------------


def _theirs(row: Row, customers: set[str]) -> bool:
    """Whether an item belongs to one of ``customers``: stored under them, an IDENT item they own,
    a marker that they hold a value, the read audit of them, or an index item saying their history
    names a value (core.governance.history_names)."""
    pk, sk, rest = row
    if pk.startswith(("CUSTOMER#", "READ#")) and pk.partition("#")[2] in customers:
        return True
    if pk.startswith("NAMED#"):
        return sk in customers
    if pk.startswith("IDENT#"):
        if sk.startswith("HOLDER#"):
            return sk.partition("#")[2] in customers
        attrs = json.loads(rest)
        owner = attrs.get("customer_id", {}).get("S") if isinstance(attrs, dict) else attrs[2]
        return owner in customers
    return False


ERASURES = given(records=populations(), data=st.data(), merging=st.booleans())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@ERASURES
def test_erasing_any_one_customer_leaves_every_other_item_of_the_store_byte_identical(
    records: list[SourceRecord], data: st.DataObject, merging: bool
) -> None:
    """The property on SQLite: 25 populations in both profiles."""
    _check_erasing_any_one("sqlite", records, data, merging)


@settings(
    max_examples=examples(ci=4, deep=25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@ERASURES
def test_erasing_any_one_customer_leaves_every_other_item_of_the_store_byte_identical_on_dynamodb(
    records: list[SourceRecord], data: st.DataObject, merging: bool
) -> None:
    """The property on DynamoDB (moto): 4 populations in ``ci`` (each builds its moto tables), 25 in
    ``deep``. The ``ci`` set still fails when the DynamoDB erasure leaves the customer's history
    items (``customer_items`` skipping ``HISTORY#``)."""
    _check_erasing_any_one("dynamodb", records, data, merging)


def _check_erasing_any_one(
    store: str, records: list[SourceRecord], data: st.DataObject, merging: bool
) -> None:
    policy = IdentityPolicy() if merging else APART
    with STORES[store]() as stores:
        for start in range(0, len(records), 3):
            stores.ingest(records[start : start + 3], policy)
        live = sorted({p.customer_id for p in stores.profiles.iter_profiles()})
        target = data.draw(st.sampled_from(live))
        state = stores.profiles.get_customers([target])[target]
        named = sorted(k for k in state.owned if not k.startswith("source#"))
        if not named:
            return  # every value of theirs is owned by someone else: no request can name them
        key = data.draw(st.sampled_from(named))
        scope = find_scope(
            Identifier.from_key(key), profiles=stores.profiles, erasure=stores.erasure, policy=policy
        )
        if scope.ambiguous:  # a value two people hold erases nobody (below)
            assert key in scope.shared
            before = stores.rows()
            assert stores.erase(Identifier.from_key(key), "req-0", policy).outcome == "ambiguous"
            assert [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)] == before
            return
        # The person is the target, or a customer holding the value with more of her values and
        # names, of whom the target is a split-off customer (core.scope_splinters.widest_holder).
        assert scope.state is not None
        assert scope.customer_id == target or target in {s.customer_id for s in scope.splinters}
        # Her split-off customers (her values and names only) go with her: each holds only records
        # of the generated people (``<person>-<n>``) her records are of.
        people = {record.source_id.partition("-")[0] for record in scope.state.snapshots.values()}
        theirs = {scope.customer_id, *scope.absorbed}
        for splinter in scope.splinters:
            assert splinter.state is not None
            assert splinter.customer_id is not None
            assert {r.source_id.partition("-")[0] for r in splinter.state.snapshots.values()} <= people
            theirs |= {splinter.customer_id, *splinter.absorbed}
        others_before = [r for r in stores.rows() if not _theirs(r, theirs)]
        # WHEN the customer is erased by one of its values
        report = stores.erase(Identifier.from_key(key), "req-1", policy)
        # THEN every item that was not theirs is exactly as it was, and nothing of theirs is left
        assert report.outcome == "erased"
        after = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
        assert after == others_before


# --- export lists every item the erasure deletes -----------------------------------------------------


def test_an_export_lists_every_item_the_erasure_deletes_tombstones_markers_and_quarantine(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from core.governance.history_names import store_named_pks
    from core.ports import QuarantineEntry
    from core.privacy import PrivacyStores, export_person
    from core.privacy_store import ItemKey
    from core.suppression import keyed_hash

    merging = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 5, "phone": 1}))
    # GIVEN Ann: two customers merged into one (a tombstone), a household phone Bob holds too (a
    # marker of his), a record quarantined with the hash of her address, and Bob's quarantined one
    both = ["ann@example.com", "ann.work@example.com"]
    stores.ingest([make_record("crm", "1", email=both[0], phone="+15550100009")], merging)
    stores.ingest([make_record("shop", "2", email=both[1])], merging)
    stores.ingest([make_record("mail", "3", email=both)], merging)
    stores.ingest([make_record("crm", "4", email="bob@example.com", phone="+15550100009")], merging)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    stores.sync_state.put_quarantined(
        [
            QuarantineEntry(
                "crm",
                "crm:7",
                "bad date",
                '{"email": "ANN@example.com"}',
                at,
                (keyed_hash(SALT, "email#ann@example.com"),),
            ),
            QuarantineEntry(
                "crm",
                "crm:8",
                "bad date",
                '{"email": "bob@example.com"}',
                at,
                (keyed_hash(SALT, "email#bob@example.com"),),
            ),
        ]
    )
    privacy = PrivacyStores(
        stores.profiles, stores.erasure, stores.sync_state, stores.suppression, None, ("crm",)
    )
    export = export_person(stores.profiles, email(both[1]), stores=privacy, salt=SALT)
    assert export is not None
    # WHEN she is erased, every deleted item recorded
    deleted: list[ItemKey] = []
    apply = stores.erasure.apply

    def recording(step: Any) -> None:
        apply(step)
        deleted.extend(d.key for d in step)

    stores.erasure.apply = recording  # type: ignore[method-assign]
    kind = type(stores.profiles.history)  # a store may build its history port at each use
    forget = kind.forget_named

    def forgetting(self: Any, pairs: Any) -> None:  # her histories' index items: the history port's
        forget(self, pairs)
        deleted.extend(ItemKey(pk, c) for name, c in pairs for pk in store_named_pks(self, name))

    monkeypatch.setattr(kind, "forget_named", forgetting)
    report = erase_person(
        email(both[1]),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-1",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        quarantine_of=("crm",),
        policy=merging,
    )
    # THEN the export had listed exactly those items, of every kind
    assert report.outcome == "erased"
    assert sorted(set(export.items), key=lambda k: (k.pk, k.sk)) == sorted(
        set(deleted), key=lambda k: (k.pk, k.sk)
    )
    kinds = {k.kind for k in deleted}
    assert {"profile", "source", "ident", "quarantined"} <= kinds
    assert [k for k in deleted if k.pk.startswith("NAMED#")]  # her histories' index items
    assert len([k for k in deleted if k.kind == "profile"]) == 2  # her profile and the tombstone
    # AND Bob, his phone and his quarantined record are left
    assert stores.owner("email#bob@example.com") is not None
    assert [q.key.sk for q in stores.erasure.quarantined_items("crm") if "bob" in q.raw]


# --- an erasure racing a merge ------------------------------------------------------------------------


class CheckedJustBefore:
    """A suppression store that runs ``meanwhile`` right after the first check it answers, and
    answers as it was before: a merge that checked before an erasure suppressed, and commits after."""

    def __init__(self, store: SuppressionStore, meanwhile: Callable[[], Any]) -> None:
        self.store = store
        self.meanwhile: Callable[[], Any] | None = meanwhile

    def suppressed(self, hashes: Sequence[str]) -> set[str]:
        found = self.store.suppressed(hashes)
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class SlowTool:
    """A tool that, while it is asked to erase, lets ``meanwhile`` run (a merge committing)."""

    def __init__(self, meanwhile: Callable[[], Any]) -> None:
        from core.connector import ConnectorSpec

        self.spec = ConnectorSpec(
            name="crm", kind="crm", description="a slow tool", default_base_url="https://t"
        )
        self.meanwhile = meanwhile

    def erase(self, identifiers: Sequence[Identifier]) -> list[Any]:
        from core.connector import EraseOutcome

        self.meanwhile()
        return [EraseOutcome(i, True) for i in identifiers]


@pytest.mark.parametrize("known", [True, False], ids=["a-known-person", "a-person-not-yet-merged"])
def test_a_merge_that_checked_before_the_suppression_and_commits_while_tools_are_asked(
    stores: Stores, known: bool
) -> None:
    if known:
        stores.ingest([make_record("crm", "1", email="ann@example.com")], IdentityPolicy())
    checked, commit, merged = threading.Event(), threading.Event(), threading.Event()
    # GIVEN a merge of a new record of Ann that checked the suppression just before her erasure
    # suppressed her, and commits while the erasure asks the tools

    def hold() -> None:
        checked.set()
        commit.wait(10)

    check = SuppressionCheck(CheckedJustBefore(stores.suppression, hold), SALT)  # type: ignore[arg-type]

    def merge() -> None:
        try:
            ingest(
                [make_record("shop", "2", email="ann@example.com", phone="+15550100007")],
                stores.profiles,
                IngestSettings(policy=IdentityPolicy(), suppression=check),
            )
        finally:
            merged.set()

    thread = threading.Thread(target=merge)
    thread.start()
    assert checked.wait(10)

    def let_it_commit() -> None:
        commit.set()
        assert merged.wait(10)

    # WHEN she is erased meanwhile
    report = erase_person(
        email("ann@example.com"),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={"crm": SlowTool(let_it_commit)},  # type: ignore[dict-item]
        salt=SALT,
        request_id="req-1",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        policy=IdentityPolicy(),
    )
    thread.join(10)
    # THEN she is no live profile: the merge lost its race, or the erasure read its record again.
    # A person not yet stored is never created: the merge's commit finds her suppression (it
    # creates her IDENT items), so the erasure finds nobody and says so
    expected = (True, "erased") if known else (False, "not_found")
    assert (report.found, report.outcome) == expected
    assert stores.owner("email#ann@example.com") is None
    assert stores.owner("phone#+15550100007") is None


def test_a_merge_that_commits_after_the_whole_erasure_of_a_person_not_yet_stored(stores: Stores) -> None:
    # GIVEN a merge of Ann (not stored yet) that checked the suppression just before her erasure ran
    # to its end (nobody found, her email suppressed)
    erased: list[Any] = []
    racing = CheckedJustBefore(
        stores.suppression, lambda: erased.append(stores.erase(email("ann@example.com"), "req-1"))
    )
    # WHEN the merge commits after it
    result = ingest(
        [make_record("shop", "2", email="ann@example.com")],
        stores.profiles,
        IngestSettings(policy=APART, suppression=SuppressionCheck(racing, SALT), sleep=lambda _: None),  # type: ignore[arg-type]
    )
    # THEN the commit's own check of her suppression drops the record: she is not created, and the
    # record is counted as suppressed
    assert erased
    assert erased[0].outcome == "not_found"
    assert stores.owner("email#ann@example.com") is None
    assert stores.owner("source#shop:contact:2") is None
    assert (result.suppressed, result.written) == (1, 0)


# --- a request naming a value several people hold ---------------------------------------------------


def test_a_request_naming_a_household_phone_erases_nobody_and_says_it_is_ambiguous(stores: Stores) -> None:
    # GIVEN three people behind one household phone, kept apart by the guardrail; the first owns it
    for n in range(3):
        stores.ingest([make_record("crm", str(n), email=f"member{n}@example.com", phone="+12025550142")])
    owner = stores.owner("phone#+12025550142")
    assert owner == stores.owner("email#member0@example.com")
    before = stores.rows()
    # WHEN someone asks to erase "the person with phone +1 202 555 0142"
    report = stores.erase(identifier_for(phone="+12025550142"), "req-1")
    # THEN nobody is erased (the phone names three people; whoever got it first is not the person
    # who asked), nothing is suppressed, and the answer says why
    assert (report.found, report.outcome, report.complete) == (True, "ambiguous", False)
    assert report.counts["suppressed"] == 0
    for n in range(3):
        assert stores.owner(f"email#member{n}@example.com") is not None
    after = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
    assert after == [r for r in before if not r[0].startswith(BOOKKEEPING)]
