"""attack6: an erasure meets records that are hers only by a fuzzy link, and decisions outlive evidence.

Hana Sato is in a CRM (her work email) and a shop (a private email, her name in capitals, her street
abbreviated): nothing but her name, birth date and address joins the two records, and probabilistic
identity joins them (score 1.0). Her namesake at her address, born two years earlier, waits in
review with each of them. On the in-memory, SQLite and DynamoDB (moto) stores:

* a decision a person took on one of her pairs does not outlive her erasure: when she signs up
  again (her suppression lifted) and every tool is imported again, her pairs wait for review
  afresh, as on a store that never saw her;
* her shop record, queued before her erasure and merged after it, is hers as much as the CRM record
  the erasure found: it is dropped at merge (docs/privacy.md: the ingest queue's records of the
  person "are dropped at merge"; core.suppression_fuzzy, the fingerprint her erasure leaves), and
  her namesake's and her sister's records queued with it are stored;
* a pair accepted by a person, whose record then becomes someone else's (another first name and
  birth date), is split: the decision was taken on the records as they were (its evidence);
* a reviewer's words about her in the reason of a decision on her pair leave her namesake's history
  with her record (the reason is replaced by a fixed marker), and her pair's review item goes;
* a record whose founded customer was merged away (a tombstone left under its id) is stored again
  once its person is erased and signs up again (the next id of its series, core.ingest_plan);
* a namesake whose customer id passed to Ann's records (one record a batch, a vague record joining
  the namesake first and Ann later) leaves no event naming her records in Ann's history after her
  erasure.

Races between her erasure and a merge or a review decision: test_attack6_races.py.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from core.governance.history import HistoryEvent, whole_history
from core.governance.history_redaction import REDACTED_REASON
from core.identity import IdentityPolicy
from core.link_review import decide
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.privacy import PrivacyStores, erase_person, export_person, lift_suppression
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import HANA, Flat, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import BOOKKEEPING, SALT, STORES, Stores
from tests.integration.test_link_graph_promises import PERSONAS

HOME = {**HANA, "city": "Manchester"}
CRM = flat("crm", "1", **HOME, email="hana.sato@corp.jp")
SHOP = flat(
    "shop", "2", **{**HOME, "first_name": "HANA", "address": "8 Mill Ln"}, email="hanasato92@icloud.com"
)
NAMESAKE = flat("mail", "3", **{**HOME, "date_of_birth": "1990-02-14"}, email="hana.s@example.com")
#: The namesake's record later: her sister Yuki's now (another first name too), at the same address.
SISTER = flat(
    "mail",
    "3",
    day=3,
    **{**HOME, "first_name": "Yuki", "date_of_birth": "1990-02-14"},
    email="hana.s@example.com",
)
HER = Identifier.assemble(kind="email", value="hana.sato@corp.jp")
#: What of Hana an item may not hold after her erasure (her shop record's values included).
HER_VALUES = ("hana.sato@corp.jp", "hanasato92", "crm:contact:1", "shop:contact:2", "1992-11-30", "19921130")

ON_EACH_STORE = pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))


def _settings(stores: Stores) -> IngestSettings:
    return replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))


def _import(stores: Stores, lines: list[Flat]) -> None:
    resolve_lines(lines, stores.profiles, settings=_settings(stores))


def _erase_hana(stores: Stores, outcome: str = "erased") -> Any:
    report = stores.erase(HER, "req-hana", IdentityPolicy(), _settings(stores))
    assert report.outcome == outcome, report
    return report


def _lift_hana(stores: Stores, request_id: str) -> int:
    """Hana signs up again: her suppression lifted; how many entries were."""
    return lift_suppression(
        HER,
        suppression=stores.suppression,
        erasure=stores.erasure,
        salt=SALT,
        request_id=request_id,
        requested_by="dpo",
    )


def _holding_hers(stores: Stores, values: tuple[str, ...] = HER_VALUES) -> list[Any]:
    """The items, but the erasure's bookkeeping, that hold one of Hana's values."""
    return [
        row
        for row in stores.rows()
        if not row[0].startswith(BOOKKEEPING) and any(v in str(row).lower() for v in values)
    ]


#: What of her customer an item may not hold after her erasure once crm~mail was accepted: the
#: accepted pair is a must-link, and her shop record, whose birth date conflicts with the
#: namesake's, is a customer of its own (docs/identity.md, "Review"), which her email does not find.
ACCEPTED_VALUES = ("hana.sato@corp.jp", "crm:contact:1", "mail:contact:3", "hana.s@example.com")


def _reviews(stores: Stores) -> dict[tuple[str, str], str]:
    pairs = [("crm:contact:1", "mail:contact:3"), ("mail:contact:3", "shop:contact:2")]
    return {(item.a, item.b): item.status for item in stores.profiles.get_reviews(pairs).values()}


@pytest.mark.parametrize(
    ("stores_of", "verdict"),
    [(STORES[n], v) for n in ("memory", "sqlite") for v in ("accepted", "rejected")]
    + [(STORES["dynamodb"], "accepted")],  # moto: 3-5 s a run
    ids=["memory-accepted", "memory-rejected", "sqlite-accepted", "sqlite-rejected", "dynamodb-accepted"],
)
def test_a_decision_on_her_pair_does_not_outlive_her_erasure_when_she_signs_up_again(
    stores_of: Callable[[], AbstractContextManager[Stores]], verdict: str
) -> None:
    """GIVEN Hana's two records and her namesake's, a person's decision on the pair of Hana's CRM
    record and the namesake's WHEN Hana is erased, later signs up again (her suppression lifted) and
    every tool is imported again THEN both of her pairs with the namesake wait for review, the
    customers are those of a store that never saw the decision, and no decision was replayed."""
    with stores_of() as stores, STORES["memory"]() as fresh:
        _import(stores, [CRM, SHOP, NAMESAKE])
        assert _reviews(stores) == dict.fromkeys(_reviews(stores), "pending")
        assert len(_reviews(stores)) == 2
        decide(
            stores.profiles,
            "".join(i.pair_id for i in stores.profiles.pending_reviews() if i.a == "crm:contact:1"),
            verdict,
            by="ops",
            settings=_settings(stores),
        )
        if verdict == "accepted":
            assert groups(stores.profiles) == {frozenset({"crm:1", "mail:3"}), frozenset({"shop:2"})}
        _erase_hana(stores)
        assert not _holding_hers(stores, ACCEPTED_VALUES if verdict == "accepted" else HER_VALUES)
        lifted = _lift_hana(stores, "req-hana-again")
        assert lifted > 0
        _import(stores, [CRM, SHOP, NAMESAKE])
        _import(fresh, [CRM, SHOP, NAMESAKE])
        assert (
            groups(stores.profiles)
            == groups(fresh.profiles)
            == {
                frozenset({"crm:1", "shop:2"}),
                frozenset({"mail:3"}),
            }
        )
        assert (
            _reviews(stores)
            == _reviews(fresh)
            == {
                ("crm:contact:1", "mail:contact:3"): "pending",
                ("mail:contact:3", "shop:contact:2"): "pending",
            }
        )


@ON_EACH_STORE
def test_a_record_of_hers_queued_before_her_erasure_is_dropped_at_merge(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's CRM record stored, and her shop record (joined to it by a fuzzy link when both
    are there) queued WHEN she is erased by her CRM address and the queued record is merged after
    THEN nothing of hers is stored: the same as when the shop record was merged before the erasure."""
    with stores_of() as stores, STORES["memory"]() as before:
        _import(before, [CRM, SHOP])
        assert groups(before.profiles) == {frozenset({"crm:1", "shop:2"})}  # one customer: hers
        _erase_hana(before)
        _import(before, [SHOP])
        assert groups(before.profiles) == set()  # merged before the erasure: erased with her

        _import(stores, [CRM])
        report = _erase_hana(stores)
        assert report.counts["fingerprinted"] == 2  # her names with her birth date, with her house
        _import(stores, [SHOP])  # queued before the erasure
        assert groups(stores.profiles) == set()
        assert not _holding_hers(stores)
        assert not [row for row in stores.rows() if "sato" in str(row).lower() or "mill" in str(row).lower()]


@ON_EACH_STORE
def test_her_namesake_and_her_sister_queued_before_her_erasure_are_stored(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's CRM record stored, and queued: her namesake's record (her name and address,
    another birth date) and her sister's (her address and surname) WHEN Hana is erased and they are
    merged after THEN both are stored, as on a store that never saw Hana; and once Hana signs up
    again (her suppression lifted) her shop record is stored too."""
    with stores_of() as stores, STORES["memory"]() as fresh:
        _import(stores, [CRM])
        _erase_hana(stores)
        _import(stores, [NAMESAKE])
        _import(stores, [{**SISTER, "id": "4", "email": "yuki@example.com"}])
        _import(fresh, [NAMESAKE, {**SISTER, "id": "4", "email": "yuki@example.com"}])
        assert (
            groups(stores.profiles)
            == groups(fresh.profiles)
            == {frozenset({"mail:3"}), frozenset({"mail:4"})}
        )
        lifted = _lift_hana(stores, "again")
        assert lifted == 4  # her address, her record id, her two fingerprints
        _import(stores, [SHOP])
        assert frozenset({"shop:2"}) in groups(stores.profiles)


@ON_EACH_STORE
def test_an_accepted_pair_whose_record_becomes_another_person_is_split(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's CRM record and her namesake's (another birth date) accepted as one person WHEN the
    namesake's record is rewritten at the tool as her sister Yuki's (another first name too) THEN the
    sister is not in Hana's customer: the customers are those of a store given the latest records."""
    with stores_of() as stores, STORES["memory"]() as fresh:
        _import(stores, [CRM, NAMESAKE])
        (item,) = stores.profiles.pending_reviews()
        decide(stores.profiles, item.pair_id, "accepted", by="ops", settings=_settings(stores))
        assert groups(stores.profiles) == {frozenset({"crm:1", "mail:3"})}
        _import(stores, [SISTER])
        _import(fresh, [CRM, SISTER])
        assert groups(fresh.profiles) == {frozenset({"crm:1"}), frozenset({"mail:3"})}
        assert groups(stores.profiles) == groups(fresh.profiles)


@ON_EACH_STORE
def test_a_rejection_whose_reason_names_her_leaves_no_trace_of_her_once_she_is_erased(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana and her namesake in review, rejected with a reason in words about Hana (no id, email
    or phone, so accepted) WHEN Hana is erased THEN no item (the namesake's history included) holds
    the reviewer's words about her: the namesake's review event says ``REDACTED_REASON``, and
    neither the review queue nor the namesake's export holds them."""
    with stores_of() as stores:
        _import(stores, [CRM, NAMESAKE])
        (item,) = stores.profiles.pending_reviews()
        reason = "our Hana Sato was born in November and works at Corp, the other one is her cousin"
        decide(stores.profiles, item.pair_id, "rejected", by="ops", reason=reason, settings=_settings(stores))
        assert _said(stores, "mail:contact:3", reason)  # on the namesake's history
        _erase_hana(stores)
        assert groups(stores.profiles) == {frozenset({"mail:3"})}
        left = [row for row in stores.rows() if not row[0].startswith(BOOKKEEPING)]
        assert not [row for row in left if "crm:contact:1" in str(row)]  # her record key is redacted
        assert not [row for row in left if "born in november" in str(row).lower()]
        assert not _said(stores, "mail:contact:3", "born in November")
        (event,) = [e for e in _history(stores, "mail:contact:3") if e.kind == "review_rejected"]
        assert (event.reason, event.source_keys) == (REDACTED_REASON, ("mail:contact:3",))
        assert not list(stores.profiles.pending_reviews())
        assert not stores.profiles.get_reviews([("crm:contact:1", "mail:contact:3")])


def _history(stores: Stores, record: str) -> list[HistoryEvent]:
    """The whole history of the customer holding ``record``."""
    owner = stores.profiles.get_owners([f"source#{record}"])[f"source#{record}"].customer_id
    return list(whole_history(stores.profiles.history, owner))  # type: ignore[attr-defined]


def _said(stores: Stores, record: str, words: str) -> bool:
    """Whether the customer holding ``record`` holds ``words``: its history, or its export."""
    export = export_person(
        stores.profiles,
        Identifier.assemble(kind="source", value=record),
        stores=PrivacyStores(stores.profiles, stores.erasure, stores.sync_state, stores.suppression),
        salt=SALT,
        identity=_settings(stores),
    )
    assert export is not None
    in_export = words.lower() in repr(export).lower()  # its history and identity, as the answer
    in_history = any(words.lower() in e.reason.lower() for e in _history(stores, record))
    assert in_export == in_history
    return in_history


def _persona(tool: str, day: int, persona: str) -> Flat:
    return flat(tool, "1", day=day, **PERSONAS[persona], email=f"{tool}.{persona}@example.org")


@pytest.mark.parametrize("stores_of", [STORES["sqlite"], STORES["dynamodb"]], ids=["sqlite", "dynamodb"])
def test_a_namesake_merged_with_ann_for_a_while_leaves_no_event_in_anns_history_once_erased(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN the namesake's record, a vague record, Ann's, the namesake's again, Ann's, a record
    moving from the namesake to Ann, and the namesake's last record, one batch each (the order a
    hypothesis program found, reduced) WHEN the namesake's customer is erased THEN no item but the
    erasure's bookkeeping names any of her records."""
    lines = [
        _persona("tool12", 5, "namesake"),
        _persona("tool08", 0, "vague"),
        _persona("tool07", 5, "ann"),
        _persona("tool06", 0, "namesake"),
        _persona("tool00", 5, "ann"),
        _persona("tool06", 5, "ann"),
        _persona("tool05", 0, "namesake"),
    ]
    with stores_of() as stores:
        for line in lines:
            _import(stores, [line])
        owner = stores.profiles.get_owners(["source#tool05:contact:1"])["source#tool05:contact:1"]
        hers = set(stores.profiles.get_customers([owner.customer_id])[owner.customer_id].snapshots)
        assert "tool12:contact:1" in hers
        report = stores.erase(
            Identifier.assemble(kind="source", value="tool05:contact:1"),
            "req",
            IdentityPolicy(),
            _settings(stores),
        )
        assert report.outcome == "erased"
        left = [row for row in stores.rows() if not row[0].startswith(BOOKKEEPING)]
        assert not [(row[0], row[1], key) for row in left for key in hers if key in str(row)]


def _of(tool: int, day: int, persona: str) -> Flat:
    """A record as test_link_graph_promises.histories draws it."""
    fields = dict(PERSONAS[persona])
    fields.setdefault("email", f"t{tool}.{persona}@example.org")
    return flat(f"tool{tool:02d}", "1", day=day, **fields)


@ON_EACH_STORE
def test_a_record_whose_founded_customer_was_merged_away_is_stored_again_after_her_erasure(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Ann's record tool09, the Parkers' nameless household record, Ann's record tool03 that
    then becomes Sue's, and Ann's record tool02, one batch each WHEN Ann is erased (by tool02),
    signs up again, and tool09 is delivered THEN it is stored, as a customer of its own."""
    lines = [
        _of(9, 5, "ann"),
        _of(14, 5, "household"),
        _of(3, 0, "ann"),
        _of(3, 10, "sue"),
        _of(2, 5, "ann"),
    ]
    with stores_of() as stores:
        for line in lines:
            _import(stores, [line])
        assert {"tool02:1", "tool09:1"} in [set(c) for c in groups(stores.profiles)]
        ann = Identifier.assemble(kind="source", value="tool02:contact:1")
        assert stores.erase(ann, "req-ann", IdentityPolicy(), _settings(stores)).outcome == "erased"
        lift_suppression(
            ann,
            suppression=stores.suppression,
            erasure=stores.erasure,
            salt=SALT,
            request_id="again",
            requested_by="dpo",
        )
        _import(stores, [lines[0]])
        assert frozenset({"tool09:1"}) in groups(stores.profiles)


class _DeadLetters:
    """A dead-letter queue of one message per record (core.privacy_store.DeadLetterQueue)."""

    def __init__(self, records: list[SourceRecord]) -> None:
        self.records = records

    def remove(self, matches: Callable[[SourceRecord], bool]) -> int:
        kept = [r for r in self.records if not matches(r)]
        removed, self.records = len(self.records) - len(kept), kept
        return removed


@ON_EACH_STORE
def test_her_record_in_the_dead_letter_queue_that_only_a_fuzzy_link_makes_hers_goes_with_her(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's CRM record stored, and in the dead-letter queue her shop record and her
    namesake's WHEN she is erased THEN her shop record leaves the queue and her namesake's stays."""
    with stores_of() as stores:
        _import(stores, [CRM])
        queue = _DeadLetters([_normalised(SHOP), _normalised(NAMESAKE)])
        report = erase_person(
            HER,
            profiles=stores.profiles,
            erasure=stores.erasure,
            tools={},
            salt=SALT,
            request_id="req-hana",
            sync_state=stores.sync_state,
            suppression=stores.suppression,
            dead_letters=queue,
            identity=_settings(stores),
        )
        assert (report.outcome, report.counts["dead_letter_records"]) == ("erased", 1)
        assert [r.key for r in queue.records] == ["mail:contact:3"]


def _normalised(line: Flat) -> SourceRecord:
    record = normalise_record(draft_from_flat(line))
    assert isinstance(record, SourceRecord)
    return record
