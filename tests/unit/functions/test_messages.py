"""The messages: packing records into SQS bodies, the events' validation, the erasure plan's order."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from core.privacy import DeleteItem, ItemKey, plan_erasure
from core.testing.records import make_record
from functions._wiring import Settings, WiringError, parse_connectors
from functions.events import IngestMessage, PrivacyRequest, PullEvent, StreamChange, ingest_envelope
from functions.pull import batch_messages, pack_messages, sqs_safe


def test_packed_records_round_trip_through_the_ingest_message() -> None:
    # GIVEN records with every kind of value (decimals, dates, consent, a non-ASCII name)
    records = [
        make_record(
            "crm", str(i), email=f"p{i}@example.com", phone="+447700900123", traits={"city": "Zürich"}
        )
        for i in range(5)
    ]
    prefix, suffix = ingest_envelope("crm", "run-1")
    # WHEN they are packed as pull packs them
    bodies, oversize = pack_messages([sqs_safe(r.model_dump_json()) for r in records], prefix, suffix, 4096)
    # THEN merge reads back exactly the same records
    read = [r for body in bodies for r in IngestMessage.model_validate_json(body).records]
    assert read == records
    assert oversize == []


def test_packing_fills_each_message_up_to_the_limit_and_sets_aside_what_cannot_fit() -> None:
    # GIVEN parts of 100 bytes, a 1,000-byte limit, and one part larger than any message
    prefix, suffix = '{"records":[', "]}"
    parts = ['"' + "x" * 98 + '"'] * 25
    parts.insert(3, '"' + "y" * 2000 + '"')
    # WHEN packed
    bodies, oversize = pack_messages(parts, prefix, suffix, 1000)
    # THEN no body exceeds the limit, each holds as many parts as fit (9: 14 + 9*100 + 8 commas),
    # the order is kept, and the oversize part is reported by its index
    assert all(len(b.encode()) <= 1000 for b in bodies)
    assert [len(json.loads(b)["records"]) for b in bodies] == [9, 9, 7]
    assert oversize == [3]


def test_batches_hold_at_most_ten_entries_and_the_byte_limit_in_all() -> None:
    assert [len(b) for b in batch_messages(["a"] * 23, max_bytes=1000)] == [10, 10, 3]
    assert [len(b) for b in batch_messages(["x" * 400] * 5, max_bytes=1000)] == [2, 2, 1]


def test_characters_sqs_refuses_are_escaped_and_read_back_unchanged() -> None:
    # GIVEN a value holding U+FFFF, which SQS rejects in a message body
    record = make_record("crm", "1", email="a@example.com", traits={"note": "odd\uffffchar"})
    body = sqs_safe(record.model_dump_json())
    # THEN the body is clean and parses to the same record
    assert "\uffff" not in body
    assert "\\uffff" in body
    assert type(record).model_validate_json(body) == record


def test_a_pull_event_is_validated_and_a_continuation_carries_its_run() -> None:
    assert PullEvent.model_validate({"connector": "hubspot"}).next_hop("r1") == PullEvent(
        connector="hubspot", run_id="r1", continuation=True, hop=1
    )
    with pytest.raises(ValidationError, match="run_id"):
        PullEvent.model_validate({"connector": "hubspot", "continuation": True})
    with pytest.raises(ValidationError):
        PullEvent.model_validate({"conector": "hubspot"})  # a typo fails loudly


def test_a_stream_change_names_the_customer_of_profile_items_only() -> None:
    def change(pk: str, sk: str) -> StreamChange:
        return StreamChange.model_validate(
            {
                "eventName": "MODIFY",
                "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": sk}}, "SequenceNumber": "1"},
            }
        )

    assert change("CUSTOMER#cus_1", "PROFILE").customer_id == "cus_1"
    assert change("CUSTOMER#cus_1", "PUSHED#hubspot").customer_id is None
    assert change("IDENT#email#a@b.c", "IDENT").customer_id is None


def test_a_privacy_request_names_exactly_one_normalised_identifier() -> None:
    assert (
        PrivacyRequest(action="erase", email=" Ann@Example.COM ").identifier().key == "email#ann@example.com"
    )
    request = PrivacyRequest(action="export", phone="020 7946 0018", region="GB")
    assert request.identifier().key == "phone#+442079460018"
    with pytest.raises(ValidationError, match="exactly one"):
        PrivacyRequest(action="erase")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"event_id": "merge:cus_a:0123"}, "split needs requested_by"),
        ({"requested_by": "dpo"}, "split names a merge event"),
        ({"event_id": "merge:cus_a:0123", "requested_by": "dpo", "email": "a@example.com"}, "not a person"),
        ({"event_id": "merge#cus_a", "requested_by": "dpo"}, "pattern"),
    ],
)
def test_a_split_request_names_a_merge_event_and_who_asked(fields: dict[str, str], error: str) -> None:
    assert PrivacyRequest(action="split", event_id="merge:cus_a:0123", requested_by="dpo").event_id
    with pytest.raises(ValidationError, match=error):
        PrivacyRequest(action="split", **fields)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="event_id is for split only"):
        PrivacyRequest(action="erase", email="a@example.com", event_id="merge:cus_a:0123")


def test_connectors_configuration_is_checked_with_a_readable_error() -> None:
    assert (
        parse_connectors('{"mailchimp": {"options": {"list_id": "abc"}, "push": false}}')["mailchimp"].push
        is False
    )
    assert parse_connectors("") == {}
    with pytest.raises(WiringError, match="CONNECTORS must be a JSON object"):
        parse_connectors('{"hubspot": {"option": {}}}')
    with pytest.raises(WiringError, match="TABLE_NAME"):
        Settings.from_environment({})
    with pytest.raises(WiringError, match="PULL_TIME_MARGIN_SECONDS must be a whole number"):
        Settings.from_environment({"TABLE_NAME": "t", "PULL_TIME_MARGIN_SECONDS": "soon"})


def test_the_erasure_plan_deletes_the_profile_and_identifiers_first_and_the_sources_last() -> None:
    # GIVEN a customer's items, two identifiers it owns, and an absorbed customer's tombstone
    cid = "cus_a"
    items = [
        ItemKey(f"CUSTOMER#{cid}", "SOURCE#crm:contact:1"),
        ItemKey(f"CUSTOMER#{cid}", "PUSHED#crm"),
        ItemKey(f"CUSTOMER#{cid}", "PROFILE"),
    ]
    absorbed = {"cus_b": (4, [ItemKey("CUSTOMER#cus_b", "PUSHED#crm"), ItemKey("CUSTOMER#cus_b", "PROFILE")])}
    # WHEN planned in steps of three
    steps = plan_erasure(cid, None, items, ["email#a@b.c", "source#crm:contact:1"], absorbed, limit=3)
    flat = [d for step in steps for d in step]
    # THEN the profile (guarded) and the identifiers (guarded by owner) come first, sources last
    assert [len(s) for s in steps] == [3, 3, 1]
    assert flat[0] == DeleteItem(ItemKey(f"CUSTOMER#{cid}", "PROFILE"), expected_version=0)
    assert flat[1:3] == [
        DeleteItem(ItemKey("IDENT#email#a@b.c", "IDENT"), expected_owner=cid),
        DeleteItem(ItemKey("IDENT#source#crm:contact:1", "IDENT"), expected_owner=cid),
    ]
    assert flat[3] == DeleteItem(ItemKey("CUSTOMER#cus_b", "PROFILE"), expected_version=4)
    assert flat[-1].key.kind == "source"


def test_a_quarantined_record_is_found_by_the_keys_its_values_normalise_to_never_by_its_text() -> None:
    from core.quarantine import identifier_keys, legacy_identifier_keys
    from core.schema import RecordDraft

    # GIVEN Tariq's record with his address in capitals and a national phone, and another person's
    # address that contains his as text
    tariq = RecordDraft(
        source="crm",
        source_id="7",
        emails=[" Tariq.Haddad51@Bücher.Example ", "not-an-address"],
        phones=["020 7946 0018"],
        traits={"country": "GB"},
    )
    other = RecordDraft(source="crm", source_id="8", emails=["jotariq.haddad51@bücher.example"])
    # THEN each is stored under its own exact keys (the IDN domain in its ASCII form), its id too
    assert identifier_keys(tariq) == [
        "source#crm:contact:7",
        "email#tariq.haddad51@xn--bcher-kva.example",
        "phone#+442079460018",
    ]
    assert "email#tariq.haddad51@xn--bcher-kva.example" not in identifier_keys(other)
    # AND an item stored before keys were kept is read the same way from its raw JSON (escaped)
    import json

    raw = json.dumps({"email": "TARIQ.haddad51@bücher.example", "tel": "+44 20 7946 0018"})
    assert "\\u00fc" in raw
    assert legacy_identifier_keys(raw, "GB") == {
        "email#tariq.haddad51@xn--bcher-kva.example",
        "phone#+442079460018",
    }
    assert legacy_identifier_keys(json.dumps({"email": "jotariq.haddad51@bücher.example"})) == {
        "email#jotariq.haddad51@xn--bcher-kva.example"
    }
