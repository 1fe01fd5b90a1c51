"""Erasure in core, against the in-memory stores: exactly one customer, suppressed for good.

The property test generates populations where people share values (a household phone, a company
email) that the guardrails keep from joining them, erases any one customer, and checks that every
other customer is exactly as it was, item for item, and that no value another customer holds was
suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.connector import ConnectorSpec, EraseOutcome
from core.identity import IdentityPolicy
from core.person_scope import find_scope, scope_of
from core.pipeline import IngestSettings, ingest
from core.ports import PushedState
from core.privacy import erase_person, lift_suppression
from core.schema import Identifier, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record

SALT = "unit-salt"
#: A phone shared by more than one record stops matching: people sharing one stay apart.
APART = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 1, "phone": 1}))


@dataclass
class World:
    profiles: InMemoryProfileStore
    state: InMemorySyncStateStore
    erasure: InMemoryErasureStore
    suppression: InMemorySuppressionStore

    @classmethod
    def empty(cls) -> World:
        profiles, state = InMemoryProfileStore(), InMemorySyncStateStore()
        return cls(profiles, state, InMemoryErasureStore(profiles, state), InMemorySuppressionStore(profiles))

    def ingest(self, records: Sequence[SourceRecord], policy: IdentityPolicy = APART) -> Any:
        check = SuppressionCheck(self.suppression, SALT)
        return ingest(records, self.profiles, IngestSettings(policy=policy, suppression=check))

    def erase(self, identifier: Identifier, tools: dict[str, Any] | None = None, **kw: Any) -> Any:
        return erase_person(
            identifier,
            profiles=self.profiles,
            erasure=self.erasure,
            tools=tools or {},
            salt=SALT,
            request_id="req-1",
            sync_state=self.state,
            suppression=self.suppression,
            policy=APART,
            **kw,
        )

    def customer_of(self, key: str) -> str:
        return self.profiles.ident_owners()[key]

    def snapshot(self, customer_id: str) -> dict[str, Any]:
        """Everything stored about one customer, serialised: its profile item, its snapshots, the
        identifiers it owns, the markers naming it and what was pushed for it."""
        state = self.profiles.get_customers([customer_id])[customer_id]
        return {
            "profile": state.profile.model_dump_json() if state.profile else None,
            "version": state.version,
            "owned": sorted(state.owned),
            "snapshots": {k: v.model_dump_json() for k, v in sorted(state.snapshots.items())},
            "idents": sorted(k for k, o in self.profiles.ident_owners().items() if o == customer_id),
            "markers": sorted(
                k
                for k, hs in self.profiles.holders(list(self.profiles._holders)).items()
                if customer_id in hs
            ),
            "pushed": sorted(
                (s.destination, s.payload_hash)
                for (_, cid), s in self.state._pushed.items()
                if cid == customer_id
            ),
        }


class Tool:
    """A tool at the connector port that holds records by id and forgets them when asked."""

    def __init__(self, name: str, ids: set[str]) -> None:
        self.spec = ConnectorSpec(
            name=name, kind="crm", description="a test tool", default_base_url="https://t"
        )
        self.ids = set(ids)
        self.asked: list[str] = []

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        out = []
        for identifier in identifiers:
            self.asked.append(identifier.key)
            found = identifier.value in self.ids
            self.ids.discard(identifier.value)
            out.append(EraseOutcome(identifier, found, absent=identifier.kind == "source"))
        return out


def test_a_suppressed_record_is_dropped_before_anything_is_stored_and_counted() -> None:
    world = World.empty()
    world.ingest([make_record("crm", "1", email="ann@example.com", phone="+442079460018")])
    cid = world.customer_of("email#ann@example.com")
    # GIVEN Ann erased
    report = world.erase(Identifier(kind="email", value="ann@example.com"))
    assert report.outcome == "erased"
    assert report.counts["suppressed"] == 3  # her email, her phone, her record's id
    # WHEN her record comes back, and a new record of her from another tool, and Bob
    again = world.ingest(
        [
            make_record("crm", "1", email="ann@example.com", day=3),
            make_record("shop", "9", phone="+442079460018", day=3),
            make_record("crm", "2", email="bob@example.com"),
        ]
    )
    # THEN only Bob is stored; Ann's two are counted as suppressed, and nothing of hers is back
    assert (again.received, again.written, again.suppressed) == (3, 1, 2)
    assert [p.identifiers[0].value for p in world.profiles.iter_profiles()] == ["bob@example.com"]
    assert world.profiles.get_customers([cid]) == {}


def test_a_shared_phone_is_unlinked_not_suppressed_and_the_other_keeps_updating() -> None:
    world = World.empty()
    # GIVEN Ann and Bob, two customers kept apart though they share a household phone
    world.ingest([make_record("crm", "1", email="ann@example.com", phone="+442079460018")])
    world.ingest([make_record("crm", "2", email="bob@example.com", phone="+442079460018")])
    ann, bob = world.customer_of("email#ann@example.com"), world.customer_of("email#bob@example.com")
    assert ann != bob
    assert world.customer_of("phone#+442079460018") == ann  # Ann owns it; Bob is marked as holding it
    bob_before = world.snapshot(bob)
    # WHEN Ann is erased
    scope = find_scope(
        Identifier(kind="email", value="ann@example.com"),
        profiles=world.profiles,
        erasure=world.erasure,
        sync_state=world.state,
        policy=APART,
    )
    assert (scope.exclusive, scope.shared) == (["email#ann@example.com"], ["phone#+442079460018"])
    world.erase(Identifier(kind="email", value="ann@example.com"))
    # THEN Bob is untouched, the phone is unlinked from Ann, and it is not suppressed
    assert world.snapshot(bob) == bob_before
    assert "phone#+442079460018" not in world.profiles.ident_owners()
    assert keyed_hash(SALT, "phone#+442079460018") not in world.suppression.hashes()
    assert keyed_hash(SALT, "email#ann@example.com") in world.suppression.hashes()
    # AND Bob's next change, and a new record of his with the phone, are stored as usual
    later = world.ingest(
        [
            make_record(
                "crm", "2", email="bob@example.com", phone="+442079460018", day=2, traits={"city": "Leeds"}
            ),
            make_record("shop", "7", email="bob@example.com", phone="+442079460018", day=2),
        ]
    )
    assert (later.written, later.suppressed) == (2, 0)


def test_tools_are_asked_for_the_records_of_the_person_only_and_a_failure_is_kept_to_retry() -> None:
    world = World.empty()
    world.ingest([make_record("crm", "1", email="ann@example.com", phone="+15550100")])
    world.ingest([make_record("crm", "2", email="bob@example.com", phone="+15550100")])
    ann = world.customer_of("email#ann@example.com")
    world.state.put_pushed([PushedState(ann, "crm", "h", "77", datetime(2026, 1, 2, tzinfo=UTC))])
    crm = Tool("crm", {"crm:contact:1", "crm:contact:2"})

    class Down(Tool):
        def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
            raise TimeoutError("the tool is down")

    shop = Down("shop", set())
    # WHEN Ann is erased while the shop is down (it holds no record of hers: nothing to ask)
    report = world.erase(Identifier(kind="email", value="ann@example.com"), tools={"crm": crm, "shop": shop})
    # THEN the CRM was asked for Ann's record by its id, never by the shared phone, and Bob is kept
    assert crm.asked == ["source#crm:contact:1"]
    assert crm.ids == {"crm:contact:2"}
    assert report.tools == {"crm": "erased", "shop": "not_present"}
    assert world.erasure.pending_erasures() == []


def test_a_tool_that_cannot_find_a_record_we_hold_has_failed_until_a_retry_confirms_it() -> None:
    world = World.empty()
    world.ingest([make_record("crm", "1", email="ann@example.com")])

    class Blind(Tool):
        """Finds nothing and confirms nothing (a lookup it cannot make)."""

        def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
            self.asked += [i.key for i in identifiers]
            return [EraseOutcome(i, False) for i in identifiers]

    blind = Blind("crm", {"crm:contact:1"})
    report = world.erase(Identifier(kind="email", value="ann@example.com"), tools={"crm": blind})
    # THEN "not found" for a record we held is a failure, kept to be asked again
    assert (report.outcome, report.tools, report.pending) == (
        "incomplete",
        {"crm": "failed (not_found)"},
        True,
    )
    [pending] = world.erasure.pending_erasures()
    assert dict(pending.tools) == {"crm": ("source#crm:contact:1",)}
    # AND a retry with a tool that does erase completes it and audits that
    from core.privacy import retry_erasures

    retried = retry_erasures(world.erasure, {"crm": Tool("crm", {"crm:contact:1"})})
    assert (retried.completed, retried.still_failing) == (1, 0)
    assert world.erasure.pending_erasures() == []
    assert [a.action for a in world.erasure.audits] == ["erase", "erase-retry"]


def test_a_suppression_is_lifted_only_by_an_audited_request() -> None:
    world = World.empty()
    world.ingest([make_record("crm", "1", email="ann@example.com", phone="+15550100")])
    world.erase(Identifier(kind="email", value="ann@example.com"))
    assert world.ingest([make_record("crm", "3", email="ann@example.com", day=9)]).suppressed == 1
    # WHEN Ann signs up again and the DPO lifts her suppression
    lifted = lift_suppression(
        Identifier(kind="email", value="ann@example.com"),
        suppression=world.suppression,
        erasure=world.erasure,
        salt=SALT,
        request_id="req-2",
        requested_by="dpo@example.com",
    )
    # THEN every entry of her erasure is lifted, it is audited, and her new record is stored
    assert lifted == 3
    assert world.erasure.audits[-1].action == "unsuppress"
    assert world.erasure.audits[-1].requested_by == "dpo@example.com"
    assert world.ingest([make_record("crm", "3", email="ann@example.com", day=9)]).written == 1


# --- the property: erasing one customer never changes another -----------------------------------------

PEOPLE = st.integers(min_value=2, max_value=7)


@st.composite
def populations(draw: st.DrawFn) -> list[SourceRecord]:
    """People with one to three records each; some share a household phone or a company email
    with another person (the guardrails keep them apart); some records carry only a phone."""
    count = draw(PEOPLE)
    phones = [f"+1555010{draw(st.integers(0, 3))}" for _ in range(count)]  # collisions are households
    companies = [draw(st.sampled_from(["", "info@acme.example", "team@acme.example"])) for _ in range(count)]
    records: list[SourceRecord] = []
    for person in range(count):
        for n in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["both", "email", "phone", "company"]))
            emails = [f"p{person}@example.com"] if kind in ("both", "email") or n == 0 else []
            if kind == "company" and companies[person]:
                emails.append(companies[person])
            phone = phones[person] if kind in ("both", "phone") or n == 0 else None
            records.append(
                make_record(
                    draw(st.sampled_from(["crm", "shop", "mail"])),
                    f"{person}-{n}",
                    email=emails,
                    phone=phone,
                    day=draw(st.integers(0, 30)),
                    traits={"first_name": f"person{person}"},
                )
            )
    return draw(st.permutations(records))


def _split_off(world: World, target: str) -> set[str]:
    """The customers an erasure of ``target`` takes with it, checked to hold only records of the
    generated people (``<person>-<n>``) whose records ``target`` holds."""
    state = world.profiles.get_customers([target])[target]
    scope = scope_of(
        Identifier(kind="source", value=next(iter(state.snapshots))),
        state,
        profiles=world.profiles,
        erasure=world.erasure,
        sync_state=world.state,
        policy=APART,
    )
    people = {record.source_id.partition("-")[0] for record in state.snapshots.values()}
    for splinter in scope.splinters:
        assert splinter.state is not None
        assert {r.source_id.partition("-")[0] for r in splinter.state.snapshots.values()} <= people
    return {s.customer_id for s in scope.splinters if s.customer_id is not None}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=populations(), data=st.data())
def test_erasing_any_one_customer_leaves_every_other_customer_byte_identical(
    records: list[SourceRecord], data: st.DataObject
) -> None:
    world = World.empty()
    for start in range(0, len(records), 3):  # in a few batches, as pulls deliver them
        world.ingest(records[start : start + 3])
    customers = sorted({p.customer_id for p in world.profiles.iter_profiles()})
    target = data.draw(st.sampled_from(customers))
    # Her split-off customers (core.scope_splinters: her values and names only) go with her; each is
    # made of her own generated person's records, never of another person's.
    split_off = _split_off(world, target)
    others = {cid: world.snapshot(cid) for cid in customers if cid != target and cid not in split_off}
    held_by_others = {
        i.key for cid in others for i in world.profiles.get_customers([cid])[cid].profile.identifiers
    }  # type: ignore[union-attr]
    # An email or phone another customer holds too names several people (such a request erases
    # nobody: tests/integration/test_privacy_shared_email.py), or a person holding it with more, of
    # whom the target is a split-off customer: the customer is named by a value of its own.
    owned = sorted(
        k
        for k, o in world.profiles.ident_owners().items()
        if o == target and not k.startswith("source#") and k not in held_by_others
    )
    key = data.draw(st.sampled_from(owned)) if owned else None
    if key is None:
        return  # a customer named only by values others hold too is named by a record id
    # WHEN the customer is erased by one of its identifiers
    report = world.erase(Identifier.from_key(key))
    # THEN exactly that customer is gone, and every other one is as it was
    assert report.outcome == "erased"
    assert world.profiles.get_customers([target, *split_off]) == {}
    assert {cid: world.snapshot(cid) for cid in others} == others
    # AND nothing another customer holds was suppressed
    assert not {keyed_hash(SALT, k) for k in held_by_others} & world.suppression.hashes()
    # AND the others' records, delivered again with a change, are all stored
    again = [
        r.model_copy(
            update={"traits": {**r.traits, "city": "Leeds"}, "updated_at": r.updated_at.replace(year=2027)}
        )
        for cid in others
        for r in world.profiles.get_customers([cid])[cid].snapshots.values()
    ]
    assert world.ingest(again).suppressed == 0
