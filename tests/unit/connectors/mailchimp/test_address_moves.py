"""A member who changes her address at Mailchimp, end to end: pull, push, erasure, and the move of an
existing deployment's records from member-id keys to contact-id keys.

Mailchimp's member ``id`` is the MD5 of the lower-cased address and changes with it; ``contact_id``
stays. Records are keyed by ``contact_id``, so her record follows her to the new address and the old
one leaves her profile. A deployment from before (records keyed by the member id, a version-2 cursor)
pulls the whole audience once, each member with a tombstone of its former key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors._http import RetryPolicy
from connectors.mailchimp import PLUGIN, MailchimpConnector, MailchimpSandbox, make_sandbox
from connectors.mailchimp._mapping import MEMBER_ID_TRAIT, subscriber_hash
from connectors.mailchimp._sandbox_members import update_member
from core.connector import RawPage
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.suppression import SuppressionCheck
from core.sync import pull_into_store, push_profiles

SALT = "connfix-salt"
RETRY = RetryPolicy(max_attempts=3, backoff_floor=0.01, backoff_cap=0.05, sleep=lambda _: None)


@dataclass
class World:
    """A Mailchimp sandbox, a connector to it, and an in-memory store with erasure and suppression."""

    sandbox: MailchimpSandbox
    connector: MailchimpConnector
    store: InMemoryProfileStore = field(default_factory=InMemoryProfileStore)
    state: InMemorySyncStateStore = field(default_factory=InMemorySyncStateStore)

    def __post_init__(self) -> None:
        self.erasure = InMemoryErasureStore(self.store, self.state)
        self.suppression = InMemorySuppressionStore(self.store)
        self.settings = IngestSettings(
            sleep=lambda _: None, suppression=SuppressionCheck(self.suppression, SALT)
        )

    def sync(self, cursor: str | None = "__saved__") -> None:
        pull_into_store(
            self.connector,
            self.store,
            self.state,
            cursor=cursor,
            settings=self.settings,
            erasure=self.erasure,
        )

    def move(self, member_id: str, email: str, *, taken_ok: bool = False) -> dict[str, str]:
        """Change a member's address as ``PATCH .../members/{hash}`` does; the member as moved
        (``taken_ok``: an address another member has is refused, and nothing changes: ``{}``)."""
        request = _patch(self.sandbox, member_id, {"email_address": email})
        self.tick()
        answer = update_member(self.sandbox, request, member_id)
        if taken_ok and answer.status_code == 400 and answer.json()["title"] == "Member Exists":
            return {}
        assert answer.status_code == 200, answer.text
        moved: dict[str, str] = answer.json()
        return moved

    def tick(self) -> None:
        """Mailchimp's clock moves on a second (``last_changed`` is in whole seconds)."""
        self.sandbox.clock.advance(1)

    def addresses(self) -> set[str]:
        return {i.value for p in self.store.iter_profiles() for i in p.identifiers if i.kind == "email"}

    def records(self) -> set[str]:
        return {r.key for p in self.store.iter_profiles() for r in p.sources}


def _patch(sandbox: MailchimpSandbox, member_id: str, body: dict[str, str]) -> object:
    import httpx

    url = f"https://{sandbox.dc}.api.mailchimp.com/3.0/lists/{sandbox.list_id}/members/{member_id}"
    return httpx.Request("PATCH", url, content=json.dumps(body).encode())


def world(people: int = 20, seed: int = 4) -> Iterator[World]:
    sandbox = make_sandbox(people=people, seed=seed)
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=RETRY))
    try:
        yield World(sandbox, connector)
    finally:
        connector.close()


def _subscribed(sandbox: MailchimpSandbox, skip: int = 0, *, phone: bool = True) -> dict[str, str]:
    """A subscribed member (``phone`` False: one without a phone number, so her address and her record
    id are all that name her)."""
    with sandbox.lock:
        return dict(
            [
                m
                for _, m in sorted(sandbox.members.items())
                if m["status"] == "subscribed" and (phone or not m["merge_fields"].get("PHONE"))
            ][skip]
        )


def test_a_member_moved_by_patch_is_pulled_into_her_profile_with_the_new_address_only() -> None:
    for w in world():
        # GIVEN a synced audience
        w.sync()
        member = _subscribed(w.sandbox)
        customers = {p.customer_id for p in w.store.iter_profiles()}
        # WHEN she changes her address at Mailchimp and the next pull runs
        w.move(member["id"], "moved.on@example.com")
        w.sync()
        # THEN her profile (the same customer) holds the new address and not the old one
        addresses = w.addresses()
        assert "moved.on@example.com" in addresses
        assert member["email_address"].lower() not in addresses
        assert {p.customer_id for p in w.store.iter_profiles()} == customers
        key = f"mailchimp:member:{member['contact_id']}"
        (profile,) = [p for p in w.store.iter_profiles() if key in {r.key for r in p.sources}]
        assert profile.traits[MEMBER_ID_TRAIT].value == subscriber_hash("moved.on@example.com")
        # AND a push reaches her at the new address, and adds nobody to the audience
        before = len(w.sandbox.members)
        report = push_profiles(w.connector, [profile], w.state)
        assert (report.pushed, report.created, report.failed) == (1, 0, [])
        assert len(w.sandbox.members) == before
        assert w.sandbox.pushed_traits("moved.on@example.com")["PSCUSTID"] == profile.customer_id


def test_a_member_moved_twice_between_syncs_and_back_to_her_first_address_keeps_one_record() -> None:
    for w in world():
        w.sync()
        member = _subscribed(w.sandbox, 1)
        first = w.move(member["id"], "second@example.com")
        w.sync()
        again = w.move(first["id"], "third@example.com")
        back = w.move(again["id"], member["email_address"])
        w.sync()
        key = f"mailchimp:member:{member['contact_id']}"
        (profile,) = [p for p in w.store.iter_profiles() if key in {r.key for r in p.sources}]
        assert [r.key for r in profile.sources if r.source == "mailchimp"] == [key]
        assert {i.value for i in profile.identifiers if i.kind == "email"} == {back["email_address"].lower()}
        assert not {"second@example.com", "third@example.com"} & w.addresses()


def test_an_erased_member_who_changes_her_address_at_mailchimp_stays_erased() -> None:
    for w in world():
        # GIVEN a synced audience, and a member erased at profilesync while Mailchimp keeps her
        # (the tool was not asked: erased from the store and suppressed, her record id included)
        w.sync()
        member = _subscribed(w.sandbox, phone=False)
        report = erase_person(
            identifier_for(email=member["email_address"]),
            profiles=w.store,
            erasure=w.erasure,
            tools={},
            salt=SALT,
            request_id="connfix-erase",
            sync_state=w.state,
            suppression=w.suppression,
        )
        assert report.outcome == "erased"
        # WHEN she changes her address at Mailchimp, and the next pulls run (and a full refresh)
        w.move(member["id"], "new.life@example.com")
        w.sync()
        w.sync(cursor=None)
        # THEN neither address, nor any record of hers, is in a profile
        assert not {member["email_address"].lower(), "new.life@example.com"} & w.addresses()
        records = w.records()
        assert f"mailchimp:member:{member['contact_id']}" not in records
        assert f"mailchimp:member:{member['id']}" not in records


# --- an existing deployment: records keyed by member id, a version-2 cursor -------------------------


def _as_before(drafts: list[RecordDraft], page: RawPage) -> list[RecordDraft]:
    """The drafts the connector made before records were keyed by contact id: the member id as the
    key, and no member-id trait."""
    by_contact = {m["contact_id"]: m["id"] for m in page.records if isinstance(m, dict)}
    return [
        d.model_copy(
            update={
                "source_id": by_contact.get(str(d.source_id), d.source_id),
                "traits": {k: v for k, v in d.traits.items() if k != MEMBER_ID_TRAIT},
            }
        )
        for d in drafts
        if not d.deleted
    ]


def deploy_as_before(w: World) -> str:
    """Fill the store as a version keyed by member id left it; its saved cursor (version 2)."""
    pages = list(w.connector.pull(None))
    records: list[SourceRecord] = []
    for page in pages:
        for draft in _as_before(w.connector.to_records(page), page):
            record = normalise_record(draft)
            if isinstance(record, SourceRecord):
                records.append(record)
    ingest(records, w.store, w.settings)
    cursor = json.loads(pages[-1].cursor or "{}")
    cursor["v"] = 2
    old = json.dumps(cursor, separators=(",", ":"))
    saved = w.state.get_sync_state("mailchimp")
    w.state.put_sync_state(dataclasses.replace(saved, cursor=old))
    assert {r.split(":")[2] for r in w.records()} <= {m["id"] for m in w.sandbox.members.values()}
    return old


class CrashAfter:
    """The connector, whose pull stops (as a Lambda timing out) after ``pages`` pages."""

    def __init__(self, inner: MailchimpConnector, pages: int) -> None:
        self.inner = inner
        self.pages = pages

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        for n, page in enumerate(self.inner.pull(cursor)):
            if n == self.pages:
                raise TimeoutError("the pull was cut short")
            yield page


def _check_moved(w: World, before: dict[str, set[str]]) -> None:
    """Every customer holds the same people, under contact-id keys only; nothing more to retire."""
    contact_of = {m["id"]: m["contact_id"] for m in w.sandbox.members.values()}
    after = {p.customer_id: {r.key for r in p.sources} for p in w.store.iter_profiles()}
    assert set(after) == set(before), "a profile was lost or added"
    for cid, keys in before.items():
        assert after[cid] == {f"mailchimp:member:{contact_of[k.split(':')[2]]}" for k in keys}
    saved = w.state.get_sync_state("mailchimp").cursor
    assert saved is not None
    assert "retire" not in json.loads(saved), "the move of keys is done: the cursor says so"
    w.sync()
    report = json.loads(w.state.get_sync_state("mailchimp").report or "{}")
    assert report.get("retired", {}).get("received", 0) == 0


def test_a_deployment_keyed_by_member_id_moves_to_contact_ids_losing_and_duplicating_no_profile() -> None:
    for w in world(people=60):
        # GIVEN a store an earlier version filled, and its version-2 cursor
        deploy_as_before(w)
        before = {p.customer_id: {r.key for r in p.sources} for p in w.store.iter_profiles()}
        pushed = push_profiles(w.connector, list(w.store.iter_profiles()), w.state)
        assert pushed.sent > 0
        # WHEN the next (incremental) pull runs
        w.sync()
        # THEN each profile holds its member under the contact id, and the next pull retires nothing
        _check_moved(w, before)
        # AND no payload changed: pushing the profiles again sends nothing
        again = push_profiles(w.connector, list(w.store.iter_profiles()), w.state)
        assert (again.sent, again.calls) == (0, 0)
        # AND an address change now leaves no old address behind
        member = _subscribed(w.sandbox, 3)
        w.move(member["id"], "after.move@example.com")
        w.sync()
        assert member["email_address"].lower() not in w.addresses()


def test_a_move_of_keys_over_many_pages_cut_short_twice_resumes_and_completes() -> None:
    for w in world(people=2600, seed=9):
        # GIVEN an earlier version's store of 2600 members (three pages, parallel ranges)
        deploy_as_before(w)
        before = {p.customer_id: {r.key for r in p.sources} for p in w.store.iter_profiles()}
        # WHEN the pull that moves the keys is cut short after one page, then after one more
        for pages in (1, 1):
            cut = CrashAfter(w.connector, pages)
            with contextlib.suppress(TimeoutError):
                pull_into_store(cut, w.store, w.state, settings=w.settings, erasure=w.erasure)  # type: ignore[arg-type]
        # AND runs to its end
        w.sync()
        # THEN every profile holds the same people under contact-id keys
        _check_moved(w, before)


# --- any order ---------------------------------------------------------------------------------------

#: One step: which member (index), what happens to it (a move to another address: one of a few new
#: ones or an address one of the four members had at first, freed by a move or not; a rename; an
#: archive), and whether a sync runs after it.
Step = tuple[int, str, int, bool]
STEPS = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["move", "move", "rename", "archive"]),
        st.integers(0, 6),
        st.booleans(),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_any_order_of_moves_renames_archives_and_syncs_ends_as_mailchimp_holds_it(steps: list[Step]) -> None:
    for w in world(people=12, seed=11):
        w.sync()
        with w.sandbox.lock:
            chosen = [m for _, m in sorted(w.sandbox.members.items()) if m["status"] != "archived"][:4]
        addresses = [m["email_address"] for m in chosen] + ["x@example.com", "y@example.com", "z@example.net"]
        for index, action, target, then_sync in steps:
            with w.sandbox.lock:
                member = w.sandbox.find_member(chosen[index]["contact_id"])
                assert member is not None
                member = dict(member)
            if member["status"] != "archived":
                if action == "move":
                    w.move(member["id"], addresses[target], taken_ok=True)
                elif action == "rename":
                    w.tick()
                    w.sandbox.touch({f"member:{member['contact_id']}"})
                else:
                    w.tick()
                    w.sandbox.delete_records({f"member:{member['contact_id']}"})
            if then_sync:
                w.sync()
        w.sync()
        fresh = World(w.sandbox, w.connector)
        fresh.sync(cursor=None)
        # THEN the store holds every member as a full pull now reads it, and no other address
        assert w.addresses() == fresh.addresses()
        assert w.records() == fresh.records()
        keys = [f"source#{k}" for k in fresh.records()]
        assert {k: o.record_hash for k, o in w.store.get_owners(keys).items()} == {
            k: o.record_hash for k, o in fresh.store.get_owners(keys).items()
        }
