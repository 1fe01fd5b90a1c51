"""The commit that creates an identifier checks the suppression, on the three stores.

A merge checks suppression when it plans; an erasure can suppress a person between that check and the
merge's commit. When the person was already stored, the commit's conditions on their items catch it
(the erasure deleted them). When they were not, nothing stored guards the new IDENT items, so the
commit itself carries an ``Unsuppressed`` condition per suppressible key it creates (a DynamoDB
``ConditionCheck`` on the ``SUPPRESS#`` item, the same read inside the SQLite transaction, the lock's
view in memory). These tests hold each store to that condition, and the pipeline to dropping the
record as suppressed, counted, after it lost that race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from core.merge import build_profile, profile_hash, record_hash
from core.pipeline import IngestSettings, ingest
from core.ports import Changeset, PutIdent, PutProfile, PutSource, Unsuppressed
from core.suppression import SuppressionCheck, SuppressionEntry, keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.test_erasure_attacks import CheckedJustBefore

SALT = "port-salt"
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _new_customer(email: str, guard: Sequence[str]) -> Changeset:
    record = make_record("crm", "1", email=email)
    profile = build_profile("cus_new", [record])
    ops = (
        PutSource("cus_new", record, record_hash(record)),
        PutIdent("source#crm:contact:1", "cus_new", None, record_hash(record), record.ordered_at),
        PutIdent(f"email#{email}", "cus_new", None),
        PutProfile("cus_new", profile, profile_hash(profile), frozenset({f"email#{email}"}), None),
        *(Unsuppressed(h) for h in guard),
    )
    return Changeset("crm:contact:1", ops)


def test_a_commit_creating_a_suppressed_identifier_writes_nothing_until_it_is_lifted(kit: StoreKit) -> None:
    assert kit.suppression is not None
    guard = keyed_hash(SALT, "email#ann@example.com")
    # GIVEN the person's email suppressed by an erasure
    kit.suppression.suppress([SuppressionEntry(guard, "email", "req-1", AT)])
    # WHEN a changeset creating their customer (guarded by that hash) is committed
    failed = kit.profiles.commit([_new_customer("ann@example.com", [guard])])
    # THEN it is handed back, and not one of its items was written
    assert [c.label for c in failed] == ["crm:contact:1"]
    assert kit.profiles.get_owners(["email#ann@example.com", "source#crm:contact:1"]) == {}
    assert kit.profiles.get_customers(["cus_new"]) == {}
    # AND once the suppression is lifted (they signed up again), the same changeset is written
    kit.suppression.lift(guard)
    assert kit.profiles.commit([_new_customer("ann@example.com", [guard])]) == []
    owner = kit.profiles.get_owners(["email#ann@example.com"])["email#ann@example.com"]
    assert owner.customer_id == "cus_new"


def test_a_guard_on_a_hash_nobody_suppressed_lets_the_commit_through_beside_others(kit: StoreKit) -> None:
    assert kit.suppression is not None
    kit.suppression.suppress([SuppressionEntry(keyed_hash(SALT, "email#bob@example.com"), "email", "r", AT)])
    # WHEN a changeset is guarded by the hash of a key nobody erased (another one is suppressed)
    guard = keyed_hash(SALT, "email#ann@example.com")
    failed = kit.profiles.commit([_new_customer("ann@example.com", [guard])])
    # THEN it is written
    assert failed == []
    assert "email#ann@example.com" in kit.profiles.get_owners(["email#ann@example.com"])


def test_a_merge_planned_before_an_erasure_drops_the_record_as_suppressed_at_its_commit(
    kit: StoreKit,
) -> None:
    assert kit.suppression is not None
    store = kit.suppression
    ann = keyed_hash(SALT, "email#ann@example.com")
    racing = CheckedJustBefore(store, lambda: store.suppress([SuppressionEntry(ann, "email", "req-1", AT)]))
    settings = IngestSettings(suppression=SuppressionCheck(racing, SALT), sleep=lambda _: None)  # type: ignore[arg-type]
    # WHEN Ann (not stored yet) and Bob are merged, and Ann is erased between the check and the commit
    result = ingest(
        [
            make_record("shop", "2", email="ann@example.com", phone="+15550100007"),
            make_record("shop", "3", email="bob@example.com"),
        ],
        kit.profiles,
        settings,
    )
    # THEN Ann is dropped as suppressed (counted, one re-plan, not retried forever), Bob is stored
    assert (result.suppressed, result.written, result.retries) == (1, 1, 1)
    owners = kit.profiles.get_owners(["email#ann@example.com", "phone#+15550100007", "email#bob@example.com"])
    assert set(owners) == {"email#bob@example.com"}
