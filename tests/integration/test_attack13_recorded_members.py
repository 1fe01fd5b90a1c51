"""attack13: Mailchimp list members recorded from Mailchimp's live API, served by the sandbox, through
``pull_into_store`` (what ``profilesync sync`` runs) and through Mailchimp's own SDK.

The members (``tests/fixtures/attack13/``, recorded by another project, see its README) were all
changed on one second (an import), carry numbers in text merge fields (``USERID``, ``LTV``) and, as
Mailchimp answered in 2020, no ``contact_id``, the key the connector files members under
(connectors/mailchimp/_mapping.py: a member without one is quarantined, never keyed by its address's
hash). Promises: the run goes on around them, each is counted as quarantined with its reason, and
nothing is pulled again; given the ``contact_id`` today's API answers, each is in a profile, with its
name, and a change to one of them is pulled; the SDK reads the sandbox's answer that holds them, and
the answer is as Mailchimp's published spec documents it.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.mailchimp import MailchimpSandbox
from core.connector import Connector
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS, _held
from tests.integration.test_attack13_hostile_values_on_the_wire import tool
from tests.unit.connectors.mailchimp.test_official_sdk import _check
from tests.unit.connectors.served import served

RECORDED: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "attack13" / "mailchimp_members_recorded.json").read_text()
)


def _sandbox(*, contact_ids: bool) -> tuple[MailchimpSandbox, Connector]:
    """The sandbox's audience with the recorded members in it (with a ``contact_id`` each, as
    today's API answers, if ``contact_ids``), and a connector to it."""
    sandbox, connector = tool("mailchimp", people=6)
    with sandbox.lock:
        for recorded in RECORDED:
            member = copy.deepcopy(recorded)
            if contact_ids:
                member["contact_id"] = uuid.uuid5(uuid.NAMESPACE_URL, member["id"]).hex
            sandbox.members[member["id"]] = member
        sandbox._index = None  # (the sandbox's own index of members by last_changed, made again)
        sandbox._json_cache.clear()
    return sandbox, connector


def _emails(profile: Any) -> set[str]:
    return {i.value for i in profile.identifiers if i.kind == "email"}


def _keys(sandbox: MailchimpSandbox) -> set[str]:
    """The record key of every listed member that has a ``contact_id``."""
    with sandbox.lock:
        members = list(sandbox.members.values())
    return {f"member:{m['contact_id']}" for m in members if "contact_id" in m and m["status"] != "archived"}


def test_recorded_members_without_contact_id_are_quarantined_and_the_run_goes_on() -> None:
    sandbox, connector = _sandbox(contact_ids=False)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # WHEN the audience is synced, twice
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        again = pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    # THEN each recorded member is counted as quarantined, with its reason
    assert run.quarantined == len(RECORDED)
    assert run.quarantine_reasons == {"missing source id": len(RECORDED)}
    # AND every other member is in a profile, and the next run pulls nothing
    assert {k.split(":", 1)[1] for k in _held(store)} == _keys(sandbox)
    assert not {e for p in store.iter_profiles() for e in _emails(p)} & {m["email_address"] for m in RECORDED}
    assert (again.pulled, again.ingest.written) == (0, 0)


def test_recorded_members_with_contact_id_are_in_profiles_and_a_change_is_pulled() -> None:
    sandbox, connector = _sandbox(contact_ids=True)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # WHEN the audience is synced
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        # THEN every member is in a profile, the recorded ones with their names
        assert (run.quarantined, run.normalised) == (0, run.pulled)
        assert {k.split(":", 1)[1] for k in _held(store)} == _keys(sandbox) == sandbox.record_keys()
        names = {
            (p.traits["first_name"].value, p.traits["last_name"].value)
            for p in store.iter_profiles()
            if _emails(p) & {m["email_address"] for m in RECORDED}
        }
        assert names == {(m["merge_fields"]["FNAME"], m["merge_fields"]["LNAME"]) for m in RECORDED}
        # AND a run with nothing changed writes nothing
        quiet = pull_into_store(connector, store, state, settings=SETTINGS)
        assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)
        # AND when one of them changes (on the tool's clock), the next run brings the change
        key = f"member:{uuid.uuid5(uuid.NAMESPACE_URL, RECORDED[0]['id']).hex}"
        sandbox.touch({key}, at=T_CHANGES + timedelta(seconds=5))
        changed = pull_into_store(connector, store, state, settings=SETTINGS)
        assert changed.ingest.written >= 1
    finally:
        connector.close()


def test_the_sdk_reads_the_recorded_members_as_the_spec_documents_them() -> None:
    mailchimp_marketing = pytest.importorskip("mailchimp_marketing")
    sandbox, connector = _sandbox(contact_ids=False)
    connector.close()  # (the SDK reads the sandbox, not the connector)
    with served(sandbox, _check) as server:
        client = mailchimp_marketing.Client()
        client.set_config({"api_key": sandbox.token, "server": sandbox.dc})
        client.api_client.host = f"{server.url}/3.0"
        # GIVEN the audience's merge fields the recorded members fill (Mailchimp answers a member's
        # values of the audience's merge fields only), added through the SDK
        for tag in ("USERID", "LTV"):
            client.lists.add_list_merge_field(sandbox.list_id, {"name": tag, "tag": tag, "type": "number"})
        # WHEN Mailchimp's SDK lists the audience's members
        answer = client.lists.get_list_members_info(sandbox.list_id, count=1000)
        # THEN it reads the recorded members as recorded, and every answer is as the spec says
        read = {m["email_address"]: m for m in answer["members"]}
        for recorded in RECORDED:
            fields = read[recorded["email_address"]]["merge_fields"]
            assert {k: fields[k] for k in recorded["merge_fields"]} == recorded["merge_fields"]
            assert read[recorded["email_address"]]["last_changed"] == recorded["last_changed"]
        server.assert_clean()
