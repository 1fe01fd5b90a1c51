"""functions.privacy against moto: erase leaves nothing of the person and an anonymous audit; export."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from core.identity import customer_id_for
from core.pipeline import ingest
from core.privacy import DeleteItem, ItemKey
from core.storage.ident_keys import REKEYED_KEY, ident_of
from core.testing.records import make_record
from functions import merge, privacy, pull, push
from tests.integration.functions.conftest import TABLE, Env, FakeContext, StreamReader, make_env

ANN_EMAIL, ANN_PHONE = "ann@example.com", "+44 20 7946 0018"
ROWS = [
    {"id": 1, "email": "Ann@Example.com", "first_name": "Ann"},
    {"id": 2, "phone": ANN_PHONE, "first_name": "Ann", "last_name": "Lee"},
    # This record holds both: the two customers above merge into one (leaving a tombstone).
    {"id": 3, "email": ANN_EMAIL, "phone": ANN_PHONE, "city": "Leeds"},
    {"id": 4, "email": "bob@example.com", "phone": "+44 20 7946 0123", "first_name": "Bob"},
    # Quarantined (its date is unreadable), but its raw form still names Ann; Bob's likewise.
    {"id": 5, "email": "ANN@example.com", "updated_at": "yesterday-ish"},
    {"id": 6, "email": "bob@example.com", "updated_at": "yesterday-ish"},
]


@pytest.fixture
def people(aws: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    """Ann (three records, two customers merged) and Bob, merged and pushed to the tool."""
    env = make_env(monkeypatch, [dict(r) for r in ROWS], page_size=2)
    stream = StreamReader(env.dynamodb)
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():  # one message at a time, so the merge happens in the second
        assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    assert push.handler(stream.event(), FakeContext()) == {"batchItemFailures": []}
    return env


def customer_partitions(env: Env) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in env.items():
        if item["PK"]["S"].startswith("CUSTOMER#"):
            out.setdefault(item["PK"]["S"].removeprefix("CUSTOMER#"), []).append(item)
    return out


def owners(env: Env) -> dict[str, str]:
    # (the table's layout marker, IDENT#layout, which the first merge writes on its empty table, is no owner)
    return {
        ident_of(i): i["customer_id"]["S"]
        for i in env.items()
        if i["PK"]["S"].startswith("IDENT#") and i["PK"] != REKEYED_KEY["PK"]
    }


def test_erase_removes_every_item_of_the_person_and_leaves_an_anonymous_audit(people: Env) -> None:
    env = people
    ann_keys = {
        "email#ann@example.com",
        "phone#+442079460018",
        *(f"source#fake:contact:{i}" for i in (1, 2, 3)),
    }
    ann_ids = {owners(env)[k] for k in ann_keys}
    before = customer_partitions(env)
    assert len(before) == 3  # Ann's survivor, Ann's tombstone, Bob
    assert any(i["SK"]["S"].startswith("PUSHED#") for cid in ann_ids for i in before[cid])
    # WHEN Ann asks to be erased, by her email as she types it
    answer = privacy.handler({"action": "erase", "email": "ANN@example.com"}, FakeContext())
    # THEN the request succeeded everywhere
    assert (answer["ok"], answer["found"], answer["outcome"]) == (True, True, "erased")
    assert answer["tools"] == {"fake": "erased"}
    # AND the tool was asked to erase exactly Ann's records there, by their ids, and the address
    # the push matched on (hers alone), never a value someone else holds; her quarantined record
    # (5) by its id too
    asked = {i.key for i in env.tool.erased[0]}
    assert asked == {f"source#fake:contact:{i}" for i in (1, 2, 3, 5)} | {"email#ann@example.com"}
    # AND nothing of Ann is left in the table: no customer item (tombstone included), no identifier
    after = customer_partitions(env)
    [bob] = after
    assert bob not in ann_ids
    assert after[bob] == before[bob]
    assert not ann_keys & set(owners(env))
    text = json.dumps(env.items()).lower()
    for trace in ("ann@example.com", '"ann"', '"lee"', "leeds", "+442079460018", "7946 0018"):
        assert trace not in text
    # AND the audit item holds counts and a keyed hash, nothing personal
    [audit] = env.wiring.erasure.audit_records("erase")
    assert audit["outcome"]["S"] == "erased"
    assert audit["tools"]["M"] == {"fake": {"S": "erased"}}
    counts = {k: int(v["N"]) for k, v in audit["counts"]["M"].items()}
    assert counts["profile"] == 2
    assert counts["source"] == 3
    assert counts["ident"] == 5
    assert counts["pushed"] >= 1
    # AND her quarantined record is gone too, while Bob's stays
    assert counts["quarantined"] == 1
    assert [q.key for q in env.wiring.sync_state.quarantined("fake")] == ["fake:contact:6"]
    assert len(audit["subject_hash"]["S"]) == 64
    dumped = json.dumps(audit).lower()
    assert "ann" not in dumped
    assert "example.com" not in dumped
    assert "7946" not in dumped


def test_export_returns_the_profile_and_every_source_record(people: Env) -> None:
    # WHEN Ann asks for her data by phone
    answer = privacy.handler({"action": "export", "phone": "020 7946 0018", "region": "GB"}, FakeContext())
    # THEN she gets her merged profile and the three records it was built from
    assert answer["ok"]
    assert answer["found"]
    assert answer["profile"]["customer_id"] == answer["customer_id"]
    assert sorted(s["source_id"] for s in answer["sources"]) == ["1", "2", "3"]
    assert answer["profile"]["traits"]["city"]["value"] == "Leeds"
    # AND the request is audited without her phone number
    [audit] = people.wiring.erasure.audit_records("export")
    assert audit["outcome"]["S"] == "exported"
    assert "7946" not in json.dumps(audit)


def test_a_person_nobody_knows_is_still_erased_from_the_tools_and_audited(people: Env) -> None:
    # GIVEN an address nobody holds: an export finds nothing
    export = {"action": "export", "email": "carol@example.com"}
    assert privacy.handler(export, FakeContext())["found"] is False
    # WHEN it is to be erased
    answer = privacy.handler({"action": "erase", "email": "carol@example.com"}, FakeContext())
    # THEN the tools are still asked by it (a repeated request must reach them), and the audit says so
    assert (answer["ok"], answer["found"], answer["outcome"]) == (True, False, "not_found")
    assert answer["tools"] == {"fake": "not_present"}
    assert [i.key for i in people.tool.erased[0]] == ["email#carol@example.com"]
    assert people.wiring.erasure.audit_records("erase")[0]["outcome"]["S"] == "not_found"
    # AND the address is suppressed from now on, which is all an export then finds
    assert answer["suppressed"] == 1
    found = privacy.handler(export, FakeContext())
    assert (found["found"], found["profile"], found["sources"]) == (True, None, [])
    assert found["suppressed"]["email#carol@example.com"]["erasure"] == "req-0001"


class RaceOnce:
    """An ErasureStore that lets a concurrent writer in just before the first step is applied."""

    def __init__(self, inner: Any, writer: Callable[[], None]) -> None:
        self.inner = inner
        self.writer: Callable[[], None] | None = writer
        self.applied: list[int] = []

    @property
    def max_items_per_step(self) -> int:
        return int(self.inner.max_items_per_step)

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        return list(self.inner.customer_items(customer_id))

    def apply(self, step: Sequence[DeleteItem]) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer()
        self.applied.append(len(step))
        self.inner.apply(step)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # the rest of the ErasureStore, as it is


def test_a_merge_racing_the_erasure_is_seen_and_erased_too(people: Env) -> None:
    env = people
    # GIVEN a new record of Ann merged in between the erasure's read and its first delete
    late = make_record("fake", "7", email=ANN_EMAIL, day=40, traits={"job_title": "Editor"})
    race = RaceOnce(env.wiring.erasure, lambda: ingest([late], env.wiring.profiles).written or None)
    env.wiring.erasure = race  # type: ignore[misc]
    # WHEN the erasure runs
    answer = privacy.handler({"action": "erase", "email": ANN_EMAIL}, FakeContext())
    # THEN its first step lost the race (the profile's version moved), it read Ann again, and the
    # late record is gone with the rest
    assert answer["outcome"] == "erased"
    assert len(race.applied) >= 2
    assert "source#fake:contact:7" not in owners(env)
    assert "Editor" not in json.dumps(env.items())
    assert len(customer_partitions(env)) == 1  # Bob


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"action": "erase"}, "exactly one of email, phone or source"),
        ({"action": "erase", "email": "a@example.com", "phone": "+447700900123"}, "exactly one"),
        ({"action": "forget", "email": "a@example.com"}, "action"),
        ({"action": "erase", "email": "not-an-address"}, "email"),
    ],
)
def test_a_malformed_request_is_refused_without_repeating_the_identifier(
    env: Env, event: dict[str, Any], expected: str
) -> None:
    # WHEN a request cannot be served THEN the answer says why, and never quotes the value given
    answer = privacy.handler(event, FakeContext())
    assert answer["ok"] is False
    assert expected in answer["error"]
    assert "a@example.com" not in answer["error"]
    assert "not-an-address" not in answer["error"]
    assert env.tool.erased == []


def test_erase_finds_a_customer_split_off_and_merged_back(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN Ann's two records joined by a third, split apart when the third dropped one address,
    # and joined again: the part split off had to take an id of its record's series
    env = make_env(monkeypatch, [])
    store = env.wiring.profiles
    both = ["ann@example.com", "ann.lee@example.com"]
    for batch in (
        [make_record("fake", "1", email=both[0])],
        [make_record("fake", "2", email=both[1])],
        [make_record("fake", "3", email=both, day=1)],
        [make_record("fake", "3", email=both[0], day=2)],
        [make_record("fake", "3", email=both, day=3)],
    ):
        ingest(batch, store)
    founders = {customer_id_for(f"fake:contact:{i}") for i in (1, 2, 3)}
    assert set(customer_partitions(env)) - founders  # a series id was given out
    # WHEN Ann is erased
    answer = privacy.handler({"action": "erase", "email": "ann@example.com"}, FakeContext())
    assert (answer["ok"], answer["outcome"]) == (True, "erased")
    # THEN no customer item of hers is left, tombstones of every id she had included
    assert customer_partitions(env) == {}


def test_quarantined_records_are_found_by_identifier_never_by_text(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN quarantined records (their dates are unreadable): Tariq's, written with capitals and
    # the internationalised domain in Unicode (its raw JSON escapes the ü), and another person's
    # whose address contains Tariq's as text
    env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": "tariq.haddad51@bücher.example", "first_name": "Tariq"},
            {"id": 2, "email": "TARIQ.Haddad51@Bücher.example", "updated_at": "yesterday-ish"},
            {"id": 3, "email": "jotariq.haddad51@bücher.example", "updated_at": "yesterday-ish"},
        ],
    )
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():
        merge.handler(env.sqs_event([message]), FakeContext())
    assert sorted(q.key for q in env.wiring.sync_state.quarantined("fake")) == [
        "fake:contact:2",
        "fake:contact:3",
    ]
    assert all(q.subjects for q in env.wiring.sync_state.quarantined("fake"))
    # WHEN Tariq is erased
    answer = privacy.handler(
        {"action": "erase", "email": "tariq.haddad51@xn--bcher-kva.example"}, FakeContext()
    )
    # THEN his quarantined record is gone and the other person's stays
    assert answer["deleted"]["quarantined"] == 1
    assert [q.key for q in env.wiring.sync_state.quarantined("fake")] == ["fake:contact:3"]
    # AND the tool was asked for his quarantined record too, and erased it
    assert [row["id"] for row in env.tool.rows] == [3]
    # AND on the next full pull his malformed record (served again: a restore at the tool), and a new
    # one, are dropped and counted, not quarantined with their content (the other person's is
    # quarantined again, as before)
    env.tool.rows.append({"id": 2, "email": "TARIQ.Haddad51@Bücher.example", "updated_at": "yesterday-ish"})
    env.tool.rows.append({"id": 4, "email": "Tariq.Haddad51@bücher.example", "updated_at": "someday"})
    env.dynamodb.delete_item(TableName=TABLE, Key={"PK": {"S": "SYNC#fake"}, "SK": {"S": "STATE"}})
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    assert (outcome["suppressed"], outcome["quarantined"]) == (2, 1)
    assert [q.key for q in env.wiring.sync_state.quarantined("fake")] == ["fake:contact:3", "fake:contact:3"]
    report = json.loads(env.wiring.sync_state.get_sync_state("fake").report)
    assert report["suppressed"] == 2
    assert "tariq" not in env.wiring.sync_state.get_sync_state("fake").report.lower()
