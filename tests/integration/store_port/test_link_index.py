"""The ``LinkIndex`` port (core.link_index) on the in-memory, SQLite and DynamoDB stores.

Index keys hold the source keys filed under them up to a limit, then become overloaded for good;
review items are created once and only a person's decision overwrites them (or, once its records
changed, a pending item in place of the decision read, never of a newer one); the ``match`` fields of
a source identifier survive every write the pipeline makes to that item.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.link_index import (
    BlockChange,
    BlockState,
    LinkIndex,
    ReviewItem,
    match_document,
    review_pair_id,
)
from core.merge import record_hash
from core.ports import Changeset, PutIdent, TouchSource
from core.testing.records import T0, make_record
from tests.integration.store_port.conftest import StoreKit


def _review(a: str, b: str, minutes: int = 0, status: str = "pending") -> ReviewItem:
    return ReviewItem(
        a=a,
        b=b,
        status=status,  # type: ignore[arg-type]
        decision={"outcome": "review", "reason": "score 0.9 between the thresholds"},
        model="profilesync.linkage-model/1",
        created_at=T0 + timedelta(minutes=minutes),
    )


def test_every_store_is_a_link_index(kit: StoreKit) -> None:
    assert isinstance(kit.profiles, LinkIndex)


def test_members_are_added_and_removed_per_key(kit: StoreKit) -> None:
    index = kit.profiles
    # GIVEN two records filed under one key and one of them under another
    index.update_blocks(
        [
            BlockChange("sb:TANPSAN:1975", frozenset({"crm:contact:1", "shop:customer:9"})),
            BlockChange("id:email#ann@gmail.com", frozenset({"crm:contact:1"}), limit=64),
        ]
    )
    # WHEN one leaves the first key and a third joins it
    index.update_blocks(
        [BlockChange("sb:TANPSAN:1975", frozenset({"mail:member:3"}), frozenset({"shop:customer:9"}))]
    )
    # THEN each key lists exactly its members, and keys never written are absent
    blocks = index.get_blocks(["sb:TANPSAN:1975", "id:email#ann@gmail.com", "nn:never"])
    assert blocks == {
        "sb:TANPSAN:1975": BlockState("sb:TANPSAN:1975", frozenset({"crm:contact:1", "mail:member:3"})),
        "id:email#ann@gmail.com": BlockState("id:email#ann@gmail.com", frozenset({"crm:contact:1"})),
    }


def test_adding_is_idempotent_and_removing_an_absent_member_is_harmless(kit: StoreKit) -> None:
    index = kit.profiles
    change = BlockChange("pf:ls14ap:a", frozenset({"crm:contact:1"}), limit=2)
    # GIVEN a key at one member WHEN the same add is repeated and an absent member removed
    index.update_blocks([change])
    index.update_blocks([change])
    index.update_blocks([BlockChange("pf:ls14ap:a", remove=frozenset({"crm:contact:7"}), limit=2)])
    index.update_blocks([BlockChange("nn:nobody", remove=frozenset({"crm:contact:7"}), limit=2)])
    # THEN it still holds its one member (a repeat never counts twice towards the limit)
    assert index.get_blocks(["pf:ls14ap:a"])["pf:ls14ap:a"].members == {"crm:contact:1"}
    index.update_blocks([BlockChange("pf:ls14ap:a", frozenset({"crm:contact:1", "crm:contact:2"}), limit=2)])
    assert not index.get_blocks(["pf:ls14ap:a"])["pf:ls14ap:a"].overloaded


def test_a_key_that_would_pass_its_limit_is_overloaded_for_good(kit: StoreKit) -> None:
    index = kit.profiles
    # GIVEN a key with a limit of 3 that holds 3 records
    full = frozenset(f"crm:contact:{n}" for n in range(3))
    index.update_blocks([BlockChange("nn:SNAT:JAN", full, limit=3)])
    assert index.get_blocks(["nn:SNAT:JAN"])["nn:SNAT:JAN"].members == full
    # WHEN a fourth arrives
    index.update_blocks([BlockChange("nn:SNAT:JAN", frozenset({"crm:contact:9"}), limit=3)])
    # THEN the key is overloaded and lists nobody; removals and further adds do not revive it
    assert index.get_blocks(["nn:SNAT:JAN"])["nn:SNAT:JAN"] == BlockState("nn:SNAT:JAN", frozenset(), True)
    index.update_blocks([BlockChange("nn:SNAT:JAN", remove=full, limit=3)])
    index.update_blocks([BlockChange("nn:SNAT:JAN", frozenset({"crm:contact:5"}), limit=3)])
    assert index.get_blocks(["nn:SNAT:JAN"])["nn:SNAT:JAN"].overloaded


def test_more_members_than_the_limit_at_once_overload_a_new_key(kit: StoreKit) -> None:
    """GIVEN a key never written WHEN one update adds more members than its limit THEN it is
    overloaded, on every store (red before privacy17 on DynamoDB: a key with no members yet took
    them all, its ADD's condition passing on ``attribute_not_exists(records)``)."""
    index = kit.profiles
    index.update_blocks(
        [BlockChange("nn:SNAT:FEB", frozenset(f"crm:contact:{n}" for n in range(4)), limit=3)]
    )
    assert index.get_blocks(["nn:SNAT:FEB"])["nn:SNAT:FEB"] == BlockState("nn:SNAT:FEB", frozenset(), True)


def test_dropped_keys_are_gone_whole_overloaded_or_not_while_as_read(kit: StoreKit) -> None:
    """GIVEN an overloaded key, a key with members, a key with child objects and a key never written
    WHEN they are dropped as read THEN none is left, and a key not named stays; and a key changed
    since it was read (a member added, one taken out, a child added) stays."""
    index = kit.profiles
    children = BlockChange("id:email#a@b.c", frozenset({"k1"}), add_children=frozenset({"shop:order:1"}))
    index.update_blocks(
        [
            BlockChange("fl:crm:contact:1", frozenset(f"k{n}" for n in range(4)), limit=3),
            BlockChange("fl:crm:contact:2", frozenset({"k1"}), orders={"k1": "tag"}),
            BlockChange("fl:crm:contact:3", frozenset({"k1"})),
            children,
        ]
    )
    keys = ["fl:crm:contact:1", "fl:crm:contact:2", "fl:crm:contact:3", "id:email#a@b.c"]
    read = index.get_blocks(keys)
    gone = [read["fl:crm:contact:1"], read["fl:crm:contact:2"], read["id:email#a@b.c"]]
    assert sorted(index.drop_blocks_as_read([*gone, BlockState("fl:crm:contact:9", frozenset({"k1"}))])) == [
        "fl:crm:contact:1",
        "fl:crm:contact:2",
        "id:email#a@b.c",
    ]
    assert list(index.get_blocks([*keys, "fl:crm:contact:9"])) == ["fl:crm:contact:3"]
    # Changed since read: each stays.
    index.update_blocks([*(c._replace(key=f"x{n}") for n, c in enumerate([children] * 3))])
    before = index.get_blocks(["x0", "x1", "x2"])
    index.update_blocks(
        [
            BlockChange("x0", frozenset({"k2"})),
            BlockChange("x1", remove=frozenset({"k1"})),
            BlockChange("x2", add_children=frozenset({"shop:order:2"})),
        ]
    )
    assert index.drop_blocks_as_read(list(before.values())) == []
    assert sorted(index.get_blocks(["x0", "x1", "x2"])) == ["x0", "x1", "x2"]


def test_many_keys_in_one_update(kit: StoreKit) -> None:
    # GIVEN more keys than one DynamoDB transaction holds WHEN updated at once THEN all are written
    index = kit.profiles
    changes = [BlockChange(f"hs:{n}:high st", frozenset({f"crm:contact:{n}"})) for n in range(130)]
    index.update_blocks(changes)
    blocks = index.get_blocks([c.key for c in changes])
    assert len(blocks) == 130
    assert blocks["hs:129:high st"].members == {"crm:contact:129"}


def test_a_review_is_created_once_and_a_decision_overwrites_it(kit: StoreKit) -> None:
    index = kit.profiles
    first = _review("crm:contact:1", "shop:customer:9")
    # GIVEN a pending review WHEN it is put again (a replay) with another score
    index.put_reviews([first])
    index.put_reviews([_review("crm:contact:1", "shop:customer:9", minutes=5)])
    found = index.get_reviews([("crm:contact:1", "shop:customer:9"), ("a", "b")])
    # THEN the first stays, and pairs without an item are absent
    assert list(found) == [("crm:contact:1", "shop:customer:9")]
    assert found[("crm:contact:1", "shop:customer:9")].created_at == T0
    assert [(r.a, r.b) for r in index.pending_reviews()] == [("crm:contact:1", "shop:customer:9")]
    # WHEN a person accepts it
    decided = ReviewItem(
        first.a, first.b, "accepted", first.decision, first.model, first.created_at, "ops@acme", T0
    )
    index.decide_review(decided)
    # THEN it is no longer pending, and a replayed put does not undo the decision
    index.put_reviews([first])
    assert index.pending_reviews() == []
    stored = index.get_reviews([(first.a, first.b)])[(first.a, first.b)]
    assert (stored.status, stored.decided_by) == ("accepted", "ops@acme")


def test_a_decision_writes_only_over_an_existing_review_item(kit: StoreKit) -> None:
    index = kit.profiles
    kept, gone = _review("a", "b"), _review("c", "d", minutes=1)
    # GIVEN two pending reviews, one of which an erasure then drops
    index.put_reviews([kept, gone])
    index.drop_reviews([("c", "d")])
    # WHEN a person decides each of them
    decided = [
        ReviewItem(r.a, r.b, "rejected", r.decision, r.model, r.created_at, "ops", T0) for r in (kept, gone)
    ]
    written = [index.decide_review(item) for item in decided]
    # THEN the decision over the existing item is stored, the other writes nothing
    assert written == [True, False]
    assert index.get_reviews([("a", "b"), ("c", "d")]) == {("a", "b"): decided[0]}
    assert index.review_by_id(gone.pair_id) is None
    assert index.pending_reviews() == []


def test_a_decision_is_requeued_only_while_the_item_holds_the_decision_read(kit: StoreKit) -> None:
    index = kit.profiles
    first = _review("crm:contact:1", "shop:customer:9")
    index.put_reviews([first])
    # GIVEN a pair accepted on one version of its records (its evidence)
    accepted = replace(first, status="accepted", decided_by="ops", decided_at=T0, evidence="e1" * 16)
    assert index.decide_review(accepted)
    # WHEN ingest, having read that decision, requeues the pair (a record changed)
    again = _review(first.a, first.b, minutes=9)
    assert index.requeue_review(accepted, again)
    # THEN the pair is pending again, listed, with the new score's time, and no evidence
    assert [(r.pair_id, r.status, r.created_at, r.evidence) for r in index.pending_reviews()] == [
        (first.pair_id, "pending", again.created_at, "")
    ]
    # GIVEN a person deciding the pair again (on the new records) after another ingest read it
    rejected = replace(again, status="rejected", decided_by="ana", decided_at=T0 + timedelta(hours=1))
    assert index.decide_review(replace(rejected, evidence="e2" * 16))
    # WHEN ingest requeues it over what it read before (the first decision; then the pending item;
    # then the new decision with another time or evidence)
    stale = [
        accepted,
        again,
        replace(rejected, evidence="e2" * 16, decided_at=T0),
        replace(rejected, evidence="e3" * 16),
    ]
    written = [index.requeue_review(read, _review(first.a, first.b, minutes=20)) for read in stale]
    # THEN nothing is written: the newer decision stays, unlisted
    assert written == [False] * 4
    stored = index.review_by_id(first.pair_id)
    assert stored is not None
    assert (stored.status, stored.decided_by, stored.evidence) == ("rejected", "ana", "e2" * 16)
    assert index.pending_reviews() == []
    # AND a pair an erasure dropped is not created again
    index.drop_reviews([(first.a, first.b)])
    assert not index.requeue_review(stored, again)
    assert index.review_by_id(first.pair_id) is None
    assert index.pending_reviews() == []


def test_an_item_is_the_same_filing_exactly_when_the_conditional_writes_take_it(kit: StoreKit) -> None:
    index = kit.profiles
    first = _review("crm:contact:1", "shop:customer:9")
    index.put_reviews([first])
    read = index.review_by_id(first.pair_id)
    assert read is not None
    assert read.same_filing(first)
    # GIVEN the pair scored again by an ingest since it was read (same filing time, another score)
    rescored = replace(read, decision={"outcome": "review", "reason": "score 0.7"}, model="retrained")
    assert index.requeue_review(read, rescored)
    # THEN the item read is not the stored one any more, as the conditional writes see it: decide's
    # settling loop (core.link_review_apply) follows the stored item instead of retrying a write
    stored = index.review_by_id(first.pair_id)
    assert stored is not None
    assert not stored.same_filing(read)
    assert not index.requeue_review(read, _review(first.a, first.b, minutes=5))
    assert index.drop_reviews_as_read([read]) == []
    assert stored.same_filing(rescored)
    assert index.drop_reviews_as_read([stored]) == [(first.a, first.b)]


def test_pending_reviews_come_oldest_first_and_can_be_dropped(kit: StoreKit) -> None:
    index = kit.profiles
    index.put_reviews([_review("c", "d", 2), _review("a", "b", minutes=1), _review("e", "f", minutes=3)])
    assert [r.a for r in index.pending_reviews()] == ["a", "c", "e"]
    assert [r.a for r in index.pending_reviews(limit=2)] == ["a", "c"]
    index.drop_reviews([("c", "d")])
    assert [r.a for r in index.pending_reviews()] == ["a", "e"]
    assert index.get_reviews([("c", "d")]) == {}


def test_a_review_is_found_by_its_pair_id_pending_or_decided(kit: StoreKit) -> None:
    index = kit.profiles
    # GIVEN two pending reviews, one of which a person then rejects
    first, second = _review("crm:contact:1", "shop:customer:9"), _review("a", "b", minutes=1)
    index.put_reviews([first, second])
    rejected = ReviewItem(
        second.a, second.b, "rejected", second.decision, second.model, second.created_at, "ops", T0, "twins"
    )
    index.decide_review(rejected)
    # WHEN each is looked up by the id the review list shows
    found_first = index.review_by_id(first.pair_id)
    found_second = index.review_by_id(review_pair_id("b", "a"))
    # THEN the pending one comes back as stored, the decided one with its decision and note,
    # and an id nobody filed (or another pair's hash) finds nothing
    assert found_first == first
    assert found_second is not None
    assert (found_second.status, found_second.decided_by, found_second.note) == ("rejected", "ops", "twins")
    assert index.review_by_id(review_pair_id("a", "c")) is None
    assert [r.pair_id for r in index.pending_reviews()] == [first.pair_id]


def test_the_match_fields_of_a_source_identifier_survive_a_touch(kit: StoreKit) -> None:
    store = kit.profiles
    traits = {"first_name": "Ann", "dob": "1980-03-07"}
    record = make_record("crm", "1", email="ann@example.com", traits=traits)
    h = record_hash(record)
    match = match_document(record)
    key = f"source#{record.key}"
    # GIVEN a source identifier written with its match fields
    assert store.commit([Changeset("put", (PutIdent(key, "cus_a", None, h, T0, match),))]) == []
    assert store.get_owners([key])[key].match == match
    # WHEN an echo moves its watermark
    later = T0 + timedelta(days=1)
    assert store.commit([Changeset("touch", (TouchSource(key, h, T0, later),))]) == []
    # THEN the fields are still there, with the new time
    owner = store.get_owners([key])[key]
    assert (owner.updated_at, owner.match) == (later, match)
    assert '"dob":"1980-03-07"' in match
    assert "ann@example.com" in match


def test_members_only_reads_each_keys_members_and_whether_overloaded(kit: StoreKit) -> None:
    """GIVEN a key with members and their places, a key with child objects, an overloaded key WHEN
    read members only (core.link_recheck) THEN each has its members and flag as a whole read has
    them, and no child objects or places; a key never written is absent."""
    index = kit.profiles
    ann = frozenset({"crm:1", "shop:2"})
    index.update_blocks(
        [
            BlockChange("bf:19800606:a", ann, orders={"crm:1": "a", "shop:2": "z"}),
            BlockChange("id:email#a@b.c", frozenset({"crm:1"}), add_children=frozenset({"shop:order:1"})),
            BlockChange("nn:AN:TANAR", frozenset(f"k{n}" for n in range(4)), limit=3),
        ]
    )
    keys = ["bf:19800606:a", "id:email#a@b.c", "nn:AN:TANAR", "nn:never"]
    whole = index.get_blocks(keys)
    assert whole["bf:19800606:a"].orders == {"crm:1": "a", "shop:2": "z"}  # what members only leaves out
    assert whole["id:email#a@b.c"].children == {"shop:order:1"}
    assert whole["nn:AN:TANAR"].overloaded
    assert index.get_blocks(keys, members_only=True) == {
        k: BlockState(k, s.members, s.overloaded) for k, s in whole.items()
    }
