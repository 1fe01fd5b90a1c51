"""The contract's pushing and erasing tests: no call for unchanged profiles, the echo of a push, update and
upsert modes with consent, and erasure by email, by record id and through a push's remote id.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.connector import Connector
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.push import primary_email
from core.schema import Identifier, Profile, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import changed_profiles, pull_into_store, push_profiles
from core.tool_erasure import ErasesPushedRecords
from profilesync.testing.contract_harness import T_CHANGES, ContractHarness


class PushContract(ContractHarness):
    """Pushing and erasing; see profilesync.testing.contract."""

    # --- pushing and erasing ------------------------------------------------------------------
    def _synced_profiles(self, connector: Connector) -> tuple[list[Profile], InMemoryProfileStore]:
        store = InMemoryProfileStore()
        drafts, _ = self.pull_drafts(connector, None)
        records = [o for o in (normalise_record(d) for d in drafts) if isinstance(o, SourceRecord)]
        ingest(records, store, IngestSettings(sleep=lambda _: None))
        return list(store.iter_profiles()), store

    def test_a_second_push_of_the_same_profiles_makes_no_api_call(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN profiles built from the sandbox's own records
        profiles, _ = self._synced_profiles(connector)
        state = InMemorySyncStateStore()
        # WHEN they are pushed once
        first = push_profiles(connector, profiles, state)
        # THEN the tool holds the enriched traits, in full batches
        assert first.failed == []
        assert first.pushed > 0
        batch = self.plugin.spec.push_batch_size
        assert first.calls == -(-first.sent // batch)
        pushed_any = next(p for p in profiles if connector.from_profile(p) is not None)
        email = primary_email(pushed_any)
        assert email is not None
        assert pushed_any.customer_id in {str(v) for v in sandbox.pushed_traits(email).values()}
        # AND a second push of the same profiles sends nothing at all
        before = sandbox.stats.requests
        second = push_profiles(connector, profiles, state)
        assert second.calls == 0
        assert second.skipped_unchanged == first.sent
        assert sandbox.stats.requests == before

    def test_the_echo_of_a_push_changes_nothing(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN a store synced from the sandbox, its cursor saved, and the profiles pushed back
        store = InMemoryProfileStore()
        state = InMemorySyncStateStore()
        settings = IngestSettings(sleep=lambda _: None)
        pull_into_store(connector, store, state, settings=settings)
        profiles = list(store.iter_profiles())
        push_profiles(connector, profiles, state)
        # WHEN the next incremental pull brings the pushed records back (their modified time moved)
        echo = pull_into_store(connector, store, state, settings=settings)
        # THEN no profile needs pushing again: the loop stops here
        again = push_profiles(connector, changed_profiles(store, echo.ingest.customers), state)
        assert again.calls == 0
        assert echo.ingest.new_customers == 0

    def _with_strangers(self, connector: Connector) -> tuple[list[Profile], dict[str, bool | None]]:
        """The profiles of everyone the tool holds, plus six strangers (people only another tool knows)
        whose consent for the tool's channel is granted, refused or undecided; and each stranger's
        email with that consent."""
        profiles, store = self._synced_profiles(connector)
        channel = self.plugin.spec.push_rules.channel or "email"
        consents: dict[str, bool | None] = {}
        drafts = []
        for n, granted in enumerate((True, False, None, True, False, None)):
            email = f"stranger{n}.{self.plugin.spec.name}@elsewhere.example.com"
            consents[email] = granted
            drafts.append(
                RecordDraft(
                    source="elsewhere",
                    source_id=f"stranger-{n}",
                    updated_at=T_CHANGES,
                    emails=[email],
                    traits={"first_name": "Stranger", "last_name": f"Number{n}"},
                    consent={}
                    if granted is None
                    else {channel: {"granted": granted, "changed_at": T_CHANGES}},
                )
            )
        records = [o for o in map(normalise_record, drafts) if isinstance(o, SourceRecord)]
        result = ingest(records, store, IngestSettings(sleep=lambda _: None))
        return profiles + changed_profiles(store, result.customers), consents

    def test_a_push_in_update_mode_creates_nobody(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN everyone the tool holds and six strangers, whatever their consent
        profiles, consents = self._with_strangers(connector)
        before = sandbox.record_keys()
        # WHEN they are pushed in update mode
        report = push_profiles(connector, profiles, InMemorySyncStateStore(), mode="update")
        # THEN the people the tool holds got their traits, and not one stranger was created
        assert report.failed == []
        assert report.updated > 0
        assert report.created == 0
        # (a connector may have nothing to send for a stranger: from_profile None, counted as no payload)
        strangers = [p for p in profiles if _is_stranger(p) and connector.from_profile(p) is not None]
        assert report.skipped_by_mode == len(strangers)
        assert not [email for email in consents if sandbox.holds(email)]
        assert sandbox.record_keys() == before

    def test_a_push_in_upsert_mode_creates_only_people_whose_consent_allows_the_channel(
        self, sandbox: Any, connector: Connector
    ) -> None:
        rules = self.plugin.spec.push_rules
        if "upsert" not in rules.modes:
            pytest.skip(f"{self.plugin.spec.name} pushes in update mode only")
        # GIVEN everyone the tool holds and six strangers: consent granted, refused, undecided (twice)
        profiles, consents = self._with_strangers(connector)
        state = InMemorySyncStateStore()
        # WHEN they are pushed in upsert mode
        report = push_profiles(connector, profiles, state, mode="upsert")
        # THEN a stranger the connector has something to send for exists in the tool exactly when the
        # tool's channel asks no consent or theirs is granted, and the report counts them as created
        # (the rest as skipped by consent)
        offered = {
            email
            for p in profiles
            if _is_stranger(p) and connector.from_profile(p) is not None
            for email in (i.value for i in p.identifiers if i.kind == "email")
        }
        allowed = {e for e in offered if rules.channel is None or consents.get(e) is True}
        assert report.failed == []
        assert {email for email in consents if sandbox.holds(email)} == allowed
        assert report.created == len(allowed)
        assert report.skipped_by_consent == len(offered) - len(allowed)
        # AND the next push of changed traits updates the people it created: nobody is created twice
        held = sandbox.record_keys()
        for profile in profiles:
            last = state.get_pushed(self.plugin.spec.name, [profile.customer_id]).get(profile.customer_id)
            if last is not None and _is_stranger(profile):
                state.put_pushed([dataclasses.replace(last, payload_hash="changed since")])
        again = push_profiles(connector, profiles, state, mode="update")
        assert again.failed == []
        assert (again.created, again.updated) == (0, len(allowed))
        assert sandbox.record_keys() == held

    def test_erase_removes_the_person_from_the_tool(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN a person the tool holds
        drafts, _ = self.pull_drafts(connector, None)
        email = next(
            o.identifiers[0].value
            for o in (normalise_record(d) for d in drafts)
            if isinstance(o, SourceRecord) and o.identifiers and o.identifiers[0].kind == "email"
        )
        assert sandbox.holds(email)
        # WHEN they are erased
        (outcome,) = connector.erase([Identifier(kind="email", value=email)])
        # THEN the tool no longer has them, and erasing again finds nothing
        assert outcome.found
        assert not sandbox.holds(email)
        (again,) = connector.erase([Identifier(kind="email", value=email)])
        assert not again.found

    def test_erasing_a_persons_records_by_id_leaves_nothing_of_them_in_the_tool(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a person the tool holds: every record a pull maps to their email, and the raw values
        drafts, _ = self.pull_drafts(connector, None)
        pairs = [(d, o) for d in drafts if isinstance(o := normalise_record(d), SourceRecord)]
        email = next(i.value for _, o in pairs for i in o.identifiers if i.kind == "email")
        theirs = [(d, o) for d, o in pairs if any(i.key == f"email#{email}" for i in o.identifiers)]
        ids = [o.source_identifier for _, o in theirs]
        raw = {
            v.strip() for d, _ in theirs for v in [*d.emails, *d.phones] if isinstance(v, str) and v.strip()
        }
        assert raw
        assert all(v.lower() in sandbox.holdings().lower() for v in raw)
        # WHEN the tool is asked to erase those records, by their ids (as an erasure asks)
        outcomes = connector.erase(ids)
        # THEN each was erased (or went with another: an order with its customer), and nothing the
        # tool holds carries the person's email or phone
        assert all(o.found or o.absent for o in outcomes), [o.detail for o in outcomes]
        assert any(o.found for o in outcomes)
        held = sandbox.holdings().lower()
        assert not [v for v in raw if v.lower() in held]
        assert not sandbox.holds(email)
        # AND asking again is answered "absent": the tool confirms nothing is left under those ids
        again = connector.erase(ids)
        assert all(not o.found and o.absent for o in again), [o.detail for o in again]

    def test_a_record_a_push_wrote_is_erased_through_its_remote_id(
        self, sandbox: Any, connector: Connector
    ) -> None:
        if not isinstance(connector, ErasesPushedRecords):
            pytest.skip("this connector's pushes create no record of their own (its remote ids name none)")
        # GIVEN profiles pushed to the tool, each push remembered with the remote id it answered
        profiles, _ = self._synced_profiles(connector)
        state = InMemorySyncStateStore()
        push_profiles(connector, profiles, state)
        pushed = state.get_pushed(connector.spec.name, [p.customer_id for p in profiles])
        remote = next(s.remote_id for s in pushed.values() if s.remote_id)
        # WHEN the record a remote id names is erased (an erasure asks for what its pushes created)
        identifier = connector.pushed_identifier(remote)
        assert identifier is not None
        assert identifier.kind == "source"
        (outcome,) = connector.erase([identifier])
        # THEN the tool erased it, and confirms it gone when asked again
        assert outcome.found, outcome.detail
        (again,) = connector.erase([identifier])
        assert again.absent


def _is_stranger(profile: Profile) -> bool:
    """A profile made only from the contract's own ``elsewhere`` records (see ``_with_strangers``)."""
    return bool(profile.sources) and all(ref.source == "elsewhere" for ref in profile.sources)
