"""Erasure attacked end to end, with the real handlers on the local runtime and five sandboxes, by
someone who did not write it: every log line at DEBUG, an erasure in the middle of a sync (records
queued, profile changes waiting to be pushed), the same request sent twice, and a person who signs
up again through Stripe's official SDK before and after their suppression is lifted.

The harness (``World``, the population's people and how they can be written) is
tests/e2e/test_erasure.py's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import stripe

from connectors._sandbox import SandboxServer
from core.normalise import normalise_email
from core.testing.population import Person, people, population
from profilesync.local import LocalRuntime
from tests.e2e.test_erasure import (
    CONNECTORS,
    DPO,
    PEOPLE,
    SEED,
    World,
    first,
    five_sandboxes,
    hubspot_upsert,
    leftovers,
    no_wait,
    phones_in,
    quick_sandboxes,
    synced,
    traces,
)

pytestmark = pytest.mark.slow

_RECORD_START = re.compile(r"^(\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\]\t|\{)")


@contextmanager
def world_at(tmp_path: Path, *, root_level: int | None = None, **parameters: str) -> Iterator[World]:
    """A synced world; ``root_level`` lowers the root logger as Lambda's advanced logging controls
    (an application log level) would, so that library loggers reach the function's log. With
    neither, a copy of test_erasure.py's frozen world (synced once per process); with either, a world
    synced at that level (its log holds the first sync's lines at it)."""
    if root_level is None and not parameters:
        with synced(tmp_path) as world:
            yield world
        return
    root = logging.getLogger()
    previous = root.level
    if root_level is not None:
        root.setLevel(root_level)
    sources: dict[int, set[str]] = defaultdict(set)
    for index, flat in population(PEOPLE, SEED):
        if index is not None:
            sources[index].add(str(flat["source"]))
    sandboxes = five_sandboxes()
    try:
        with LocalRuntime(
            sandboxes, log_path=tmp_path / "handlers.log", parameters=parameters, connector_sleep=no_wait
        ) as rt:
            world = World(rt, sandboxes, people(PEOPLE, SEED), sources)
            world.sync()
            yield world
    finally:
        root.setLevel(previous)


def log_records(text: str) -> list[str]:
    """The log's records: a line that starts no record (a multi-line message) joins the one before."""
    records: list[str] = []
    for line in text.splitlines():
        if _RECORD_START.match(line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


def naming(records: list[str], persons: list[Person]) -> list[str]:
    """The records that name any of ``persons`` by email or phone (the first 200 characters of each)."""
    emails = {traces(p)["email"] for p in persons} | {traces(p)["canonical email"] for p in persons}
    phones = {p.phone_e164 for p in persons}
    found = []
    for record in records:
        lowered = record.lower()
        if any(e in lowered for e in emails) or (phones_in(record, "US") | phones_in(record, "GB")) & phones:
            found.append(record[:200])
    return found


def test_no_log_record_names_a_person_even_with_every_logger_at_debug(tmp_path: Path) -> None:
    # GIVEN the functions at DEBUG, and the root logger too (library loggers reach the log)
    with world_at(tmp_path, root_level=logging.DEBUG, LogLevel="DEBUG") as world:
        # WHEN people are erased and exported, and the tools pulled and pushed again
        erased = first(world.person_in("crm", "shop", "email"), 2)
        for person in erased:
            assert world.erase(person)["outcome"] == "erased"
        assert world.privacy(action="export", email=next(world.person_in("crm", from_end=True)).email)[
            "found"
        ]
        hubspot_upsert(world.sandboxes["hubspot"], [{"email": "new.one@example.com", "firstname": "New"}])
        world.sync()
        log = (tmp_path / "handlers.log").read_text(encoding="utf-8")
    records = log_records(log)
    assert any("HTTP Request" in r for r in records)  # the HTTP library's lines were captured
    # the functions' own DEBUG records were written (Powertools' JSON lines; a library's DEBUG lines,
    # moto's expression parser or pycountry's loader, come only the first time in a process)
    assert any(r.startswith("{") and '"level":"DEBUG"' in r.replace(" ", "") for r in records)
    # THEN no record names anyone of the population, by email or phone, not even the HTTP library's
    # request lines (erasure looks people up by address) nor the AWS SDK's bodies
    assert naming(records, world.persons) == []
    assert "new.one@example.com" not in log


def test_an_erasure_in_the_middle_of_a_sync_brings_nobody_back(tmp_path: Path) -> None:
    with world_at(tmp_path) as world:
        queued, waiting = first(world.person_in("crm", "email"), 2)
        hubspot = world.sandboxes["hubspot"]
        # GIVEN both changed in HubSpot; a pull has queued the change of the first, not merged yet
        hubspot_upsert(
            hubspot,
            [{"email": p.email.lower(), "jobtitle": "Editor"} for p in (queued, waiting)],
        )
        world.rt.pull("hubspot")
        assert world.rt.queue_depth(world.rt.queue_url) > 0
        # WHEN the first is erased while their record waits in the ingest queue
        assert world.erase(queued)["outcome"] == "erased"
        # AND the queue is merged, the second's change waits to be pushed, and they are erased then
        suppressed_before = world.rt.metrics.total("RecordsSuppressed")
        world.rt.drain_queue()
        assert world.rt.metrics.total("RecordsSuppressed") - suppressed_before >= 1
        assert world.erase(waiting)["outcome"] == "erased"
        world.rt.settle()
        world.sync()
        # THEN neither is a live profile, and no tool holds either of them again
        for person in (queued, waiting):
            assert world.customer_of(person) is None
            for name in CONNECTORS:
                assert leftovers(world.sandboxes[name].holdings(), person) == [], (name, person.email)


def test_the_same_erase_sent_twice_and_a_sign_up_through_stripe_before_and_after_the_lift(
    tmp_path: Path,
) -> None:
    with world_at(tmp_path) as world:
        person = next(p for p in world.person_in("shop") if "stripe" in _held_by(world, p))
        stripe_box = world.sandboxes["stripe"]
        server = SandboxServer(stripe_box).start()
        try:
            sdk = stripe.StripeClient(
                stripe_box.token, base_addresses={"api": server.url}, max_network_retries=0
            )
            # GIVEN the person erased
            first = world.erase(person)
            assert (first["ok"], first["outcome"]) == (True, "erased")
            # WHEN they buy again through Stripe (the official SDK), and the tools are pulled
            sdk.v1.customers.create({"email": person.email, "name": f"{person.first} {person.last}"})
            incremental = world.sync()
            full = world.sync(full=True)
            # THEN they are dropped, counted, and not a live profile
            assert incremental["stripe"].suppressed + full["stripe"].suppressed >= 1
            assert world.customer_of(person) is None
            # WHEN the same erase request is sent again (a second ticket)
            second = world.erase(person)
            # THEN it completes: nobody is found, and Stripe is asked by the address and erases the
            # customer the purchase made
            assert (second["ok"], second["outcome"]) == (True, "not_found"), second
            assert second["tools"]["stripe"] == "erased"
            assert leftovers(stripe_box.holdings(), person) == []
            # WHEN they sign up again, the DPO lifts the suppression, and they buy once more
            lifted = world.privacy(action="unsuppress", email=person.email, requested_by=DPO)
            assert (lifted["ok"], lifted["lifted"] >= 1) == (True, True)
            sdk.v1.customers.create({"email": person.email, "name": person.first, "phone": person.phone_e164})
            pulled = world.sync(full=True)
        finally:
            server.stop()
        # THEN they are a live profile again, phone and all: no entry of either erasure drops them
        assert pulled["stripe"].suppressed == 0
        cid = world.customer_of(person)
        assert cid is not None
        profile = world.rt.wiring.profiles.get_customers([cid])[cid].profile
        assert profile is not None
        assert {i.value for i in profile.identifiers} >= {normalise_email(person.email), person.phone_e164}


def _held_by(world: World, person: Person) -> set[str]:
    return {name for name in CONNECTORS if leftovers(world.sandboxes[name].holdings(), person)}


def disguises(value: str) -> dict[str, str]:
    """How a value can be kept without being written out: unsalted hashes, base64."""
    raw = value.encode()
    return {
        "md5": hashlib.md5(raw).hexdigest(),  # Mailchimp's subscriber hash is md5 of the address
        "sha1": hashlib.sha1(raw).hexdigest(),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


def test_no_hashed_or_encoded_copy_of_an_erased_person_is_left(tmp_path: Path) -> None:
    with world_at(tmp_path) as world:
        person = next(world.person_in("crm", "shop", "email"))
        cid = world.customer_of(person)
        assert cid is not None
        snapshots = world.snapshots_of(cid)
        ids = sorted({r.source_id for r in snapshots.values() if len(r.source_id) >= 8})
        assert ids  # Stripe, Klaviyo, Mailchimp and Shopify ids are long enough to search for
        # GIVEN a message of theirs parked in the dead-letter queue: a record holding their address
        record = next(r for r in snapshots.values() if any(i.kind == "email" for i in r.identifiers))
        body = {
            "v": 1,
            "connector": record.source,
            "run_id": "r",
            "records": [json.loads(record.model_dump_json())],
        }
        world.rt.sqs.send_message(QueueUrl=world.rt.dlq_url, MessageBody=json.dumps(body))
        # WHEN they are erased and every tool is pulled and pushed again
        assert world.erase(person)["outcome"] == "erased"
        world.sync()
        # THEN no item of the table (SYNC# reports, quarantine, push records, suppression and audit
        # entries included), no queued message and no log line holds their address, phone or record
        # ids in clear, unsalted-hashed or base64 form
        values = {
            normalise_email(person.email),
            person.email,
            person.phone_e164,
            person.phone_e164.lstrip("+"),
        }
        sought = {f"{how}({v})": form for v in values for how, form in disguises(v).items()}
        # ...and in clear (without it, an erasure that left their parked message in the dead-letter
        # queue passed: the message holds their address in clear, and a record id too short to seek)
        sought |= {f"clear({v})": v for v in values}
        sought |= {f"id {i}": i for i in ids}
        items = world.items()
        table = json.dumps(items, ensure_ascii=False).lower()
        # (every SYNC# item included: the pull cursors keep keyed tags of record ids, never the ids)
        queues = "\n".join(
            world.queue_bodies(world.rt.queue_url) + world.queue_bodies(world.rt.dlq_url)
        ).lower()
        logs = (tmp_path / "handlers.log").read_text(encoding="utf-8").lower()
        for where, text in (("table", table), ("queues", queues), ("logs", logs)):
            found = [what for what, form in sought.items() if form.lower() in text]
            assert found == [], where
        # AND no tool holds them in such a form either, but for HubSpot's blocklist of erased
        # addresses (HubSpot keeps a hash of each GDPR-deleted address so it is not re-imported;
        # docs/privacy.md) and the ids of the objects Stripe and Shopify keep redacted
        for name in CONNECTORS:
            held = world.sandboxes[name].holdings().lower()
            found = [w for w, form in sought.items() if form.lower() in held and not w.startswith("id ")]
            assert found == [] or (
                name == "hubspot" and found == ["sha256(" + normalise_email(person.email) + ")"]
            ), name


def test_no_pull_cursor_keeps_the_record_ids_of_an_erased_person(tmp_path: Path) -> None:
    with LocalRuntime(
        quick_sandboxes(["shopify"]), log_path=tmp_path / "handlers.log", connector_sleep=no_wait
    ) as rt:
        rt.pull("shopify")
        rt.settle()
        buyer = next(
            p for p in people(PEOPLE, SEED) if any(r.object_type == "order" for r in _records_of(rt, p))
        )
        ids = sorted({r.source_id for r in _records_of(rt, buyer)})
        # WHEN the buyer is erased and Shopify pulled again
        answer = rt.invoke("PrivacyFunction", {"action": "erase", "email": buyer.email, "requested_by": DPO})
        assert answer["outcome"] == "erased"
        rt.pull("shopify")
        rt.settle()
        # THEN the cursor names none of their records
        state = rt.dynamodb.get_item(
            TableName=rt.table_name, Key={"PK": {"S": "SYNC#shopify"}, "SK": {"S": "STATE"}}
        )["Item"]
        assert [i for i in ids if i in json.dumps(state)] == []


@pytest.mark.parametrize("tool", ["hubspot", "klaviyo", "mailchimp"])
def test_no_pull_cursor_keeps_the_id_of_an_erased_person_whose_record_is_at_its_watermark(
    tmp_path: Path, tool: str
) -> None:
    # 40 people, as many records at the newest second as before the world shrank to 20
    with LocalRuntime(
        quick_sandboxes([tool], 2 * PEOPLE), log_path=tmp_path / "handlers.log", connector_sleep=no_wait
    ) as rt:
        for _ in range(2):  # a full pull, then an incremental one: the cursor at the newest second
            rt.pull(tool)
            rt.settle()
        # GIVEN the person whose record was modified last: the cursor must recognise it at its
        # watermark (many records share that second)
        profiles = rt.wiring.profiles
        records = [
            r
            for p in profiles.iter_profiles()
            for r in profiles.get_customers([p.customer_id])[p.customer_id].snapshots.values()
            if r.source == tool and any(i.kind == "email" for i in r.identifiers)
        ]
        newest = max(records, key=lambda r: (r.updated_at, r.source_id))
        email = next(i.value for i in newest.identifiers if i.kind == "email")
        # WHEN they are erased and the tool pulled again
        answer = rt.invoke("PrivacyFunction", {"action": "erase", "email": email, "requested_by": DPO})
        assert answer["outcome"] == "erased"
        rt.pull(tool)
        rt.settle()
        # THEN no SYNC# item names their record
        items = rt.dynamodb.scan(TableName=rt.table_name)["Items"]
        synced = json.dumps([i for i in items if i["PK"]["S"].startswith("SYNC#")])
        assert f'\\"{newest.source_id}\\"' not in synced
        assert f":{newest.source_id}," not in synced


def _records_of(rt: LocalRuntime, person: Person) -> list[Any]:
    key = f"email#{normalise_email(person.email)}"
    owner = rt.wiring.profiles.get_owners([key]).get(key)
    if owner is None:
        return []
    return list(rt.wiring.profiles.get_customers([owner.customer_id])[owner.customer_id].snapshots.values())


def test_erasing_one_of_many_buyers_behind_a_company_billing_email_leaves_the_others_contact(
    tmp_path: Path,
) -> None:
    import httpx

    with world_at(tmp_path) as world:
        stripe_box = world.sandboxes["stripe"]
        # GIVEN ten buyers at one company, each a Stripe customer with the company's billing address
        # and a phone of their own: more than the guardrail lets match, so ten customers, and each
        # pushed to HubSpot, which upserts by email: one HubSpot contact stands for all ten
        with httpx.Client(
            transport=stripe_box.transport(),
            base_url="https://api.stripe.com",
            headers={"Authorization": f"Bearer {stripe_box.token}"},
        ) as client:
            for n in range(10):
                buyer = {
                    "email": "billing@acme.example",
                    "name": f"Buyer{n} Acme",
                    "phone": f"+1 202 555 01{n:02d}",
                }
                created = client.post("/v1/customers", data=buyer)
                while created.status_code == 429:  # the sandbox holds Stripe's rate limit
                    time.sleep(float(created.headers.get("Retry-After") or 1))
                    created = client.post("/v1/customers", data=buyer)
                assert created.status_code == 200, created.text
        world.sync()
        hubspot = world.sandboxes["hubspot"]
        assert hubspot.contact("billing@acme.example") is not None
        # WHEN one buyer is erased, named by their own phone
        answer = world.privacy(action="erase", phone="+1 202 555 0100", requested_by=DPO)
        assert answer["outcome"] == "erased"
        # THEN the contact that stands for the other nine is still in HubSpot
        assert hubspot.contact("billing@acme.example") is not None
        # AND the buyer's own Stripe customer is erased, the others' kept
        held = stripe_box.holdings()
        assert "+12025550100" not in held.replace(" ", "")
        assert "+12025550101" in held.replace(" ", "") or "2025550101" in held


def test_erased_people_stay_erased_in_salesforce_and_woocommerce_through_full_refreshes(
    tmp_path: Path,
) -> None:
    tools = ("salesforce", "woocommerce", "hubspot")
    sandboxes = quick_sandboxes(tools)

    def sync(rt: LocalRuntime, *, full: bool = False) -> dict[str, Any]:
        if full:
            for name in tools:
                rt.dynamodb.delete_item(
                    TableName=rt.table_name, Key={"PK": {"S": f"SYNC#{name}"}, "SK": {"S": "STATE"}}
                )
        pulled = {name: rt.pull(name) for name in tools}
        rt.settle()
        return pulled

    with LocalRuntime(sandboxes, log_path=tmp_path / "handlers.log", connector_sleep=no_wait) as rt:
        sync(rt)
        everyone = people(PEOPLE, SEED)
        # GIVEN people Salesforce and WooCommerce both hold (a contact, a lead, a shop account, orders)
        both = [
            p
            for p in everyone
            if leftovers(sandboxes["salesforce"].holdings(), p)
            and leftovers(sandboxes["woocommerce"].holdings(), p)
        ][:3]
        assert len(both) == 3
        # WHEN they are erased
        for person in both:
            answer = rt.invoke(
                "PrivacyFunction", {"action": "erase", "email": person.email, "requested_by": DPO}
            )
            assert (answer["ok"], answer["tools"]["salesforce"], answer["tools"]["woocommerce"]) == (
                True,
                "erased",
                "erased",
            ), answer
        # AND both tools are pulled again, incrementally and from scratch, and pushes run
        incremental, full = sync(rt), sync(rt, full=True)
        # THEN nobody is back in the table or in any tool
        for person in both:
            key = f"email#{normalise_email(person.email)}"
            assert rt.wiring.profiles.get_owners([key]).get(key) is None
            for name in tools:
                assert leftovers(sandboxes[name].holdings(), person) == [], (name, person.email)
        # AND the orders WooCommerce keeps by the shop's policy (anonymised, under their ids) were met
        # and counted as suppressed, incrementally and on the full refresh
        assert incremental["woocommerce"].suppressed > 0
        assert full["woocommerce"].suppressed > 0
