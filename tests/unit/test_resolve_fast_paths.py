"""Shortcuts of resolve's hot path give exactly what the general code gives.

* ``core.identity.group_records`` of one record with nothing stored (most new customers of a batch,
  ``core.batch_ingest``) skips the union-find: same components and guardrail hits as the general
  body, which an owner map naming an unrelated key forces; not taken when a limit below one would
  refuse the record its own key.
* ``core.governance.history._sortable_time`` writes with ``isoformat`` what the strftime format
  wrote, in any zone and for any year (a year before 1000 goes through the format).
* ``core.storage.sqlite._item_bytes`` refuses keys longer than DynamoDB takes by their UTF-8 bytes
  (its size of every kind of item against DynamoDB's: tests/unit/test_grow24_item_bytes.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.errors import RecordRejectedError
from core.governance.history import _sortable_time
from core.identity import IdentityPolicy, group_records
from core.ingest_fresh import _owned_json
from core.normalise import normalise_record
from core.ports import Changeset
from core.schema import SourceRecord
from core.storage.sqlite import _item_bytes
from core.testing.population import population, repeat_buyer
from core.testing.records import make_record

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: An owner of a key no record has: ``group_records`` then takes its general path.
UNRELATED_OWNER = {"email#nobody-here@example.invalid": "cus_unrelated"}


def general(record: SourceRecord, policy: IdentityPolicy) -> object:
    return group_records([record], UNRELATED_OWNER, {}, policy)


POLICIES = [
    IdentityPolicy(),
    IdentityPolicy(max_records_per_identifier={"email": 1, "phone": 1}),
    IdentityPolicy(max_records_per_identifier={"email": 0, "phone": 5}),
    IdentityPolicy(max_records_per_identifier={"phone": 0}),
    IdentityPolicy(blocked_values=frozenset({"ann@example.com"}), blocked_patterns=("+1555*",)),
]


def population_records(count: int = 400) -> list[SourceRecord]:
    """A generated population's records, and a repeat buyer's orders (child records on her email)."""
    flats = [flat for _, flat in population(count, seed=11)] + repeat_buyer(4, "bo@x.org")
    return [
        record
        for flat in flats
        if isinstance(record := normalise_record(draft_from_flat(flat)), SourceRecord)
    ]


@pytest.mark.parametrize("policy", POLICIES, ids=range(len(POLICIES)))
def test_one_record_alone_groups_as_the_general_path_on_a_population(policy: IdentityPolicy) -> None:
    """GIVEN each record of a generated population (people, orders, blocklisted and shared values)
    WHEN grouped alone with nothing stored THEN components and hits are the general path's."""
    records = population_records()
    assert any(r.level != "person" for r in records)
    for record in records:
        assert group_records([record], {}, {}, policy) == general(record, policy)


values = st.sampled_from(
    ["ann@example.com", "test@example.com", "noreply@shop.com", "bo@x.org", "+15555550100", "+447700900123"]
)


@SETTINGS
@given(
    emails=st.lists(values.filter(lambda v: "@" in v), max_size=3, unique=True),
    phones=st.lists(values.filter(lambda v: v.startswith("+")), max_size=2, unique=True),
    policy=st.sampled_from(POLICIES),
)
def test_one_record_alone_groups_as_the_general_path(
    emails: list[str], phones: list[str], policy: IdentityPolicy
) -> None:
    """GIVEN a record with any emails and phones (blocklisted, patterned, plain) and any limits
    WHEN grouped alone with nothing stored THEN components and hits are the general path's."""
    record = make_record("crm", "1", email=emails, phone=phones)
    assert group_records([record], {}, {}, policy) == general(record, policy)


def test_a_limit_below_one_refuses_a_lone_record_its_key() -> None:
    """GIVEN a limit of 0 emails WHEN one record is grouped alone THEN its email is refused (a hit)."""
    record = make_record("crm", "1", email="bo@x.org")
    policy = IdentityPolicy(max_records_per_identifier={"email": 0})
    components, hits = group_records([record], {}, {}, policy)
    assert [c.records for c in components] == [(record,)]
    assert [(h.identifier_key, h.reason) for h in hits] == [
        ("email#bo@x.org", "shared by more than 0 records")
    ]


def _strftime(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


@SETTINGS
@given(
    at=st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=11))]
        ),
    )
)
def test_sortable_time_is_the_strftime_format(at: datetime) -> None:
    """GIVEN any aware time (any zone, any year) THEN its sortable text is the strftime format's."""
    assert _sortable_time(at) == _strftime(at)


def test_sortable_time_of_an_early_year_is_the_format_unpadded() -> None:
    """GIVEN a time in the year 999 THEN the format's text (isoformat would pad it to 0999)."""
    at = datetime(999, 5, 1, 12, 0, tzinfo=UTC)
    assert _sortable_time(at) == _strftime(at)


def _dynamodb_count(row: tuple[str, str, None, None, None, None, None, None]) -> int:
    """DynamoDB's size of an item of its keys alone: the names ``PK`` and ``SK`` and their bytes."""
    return 4 + sum(len(v.encode("utf-8", "surrogatepass")) for v in row[:2])


@pytest.mark.parametrize(
    ("pk", "sk", "refused"),
    [
        ("x" * 2048, "IDENT", False),
        ("x" * 2049, "IDENT", True),
        ("é" * 1024, "IDENT", False),  # 2,048 bytes
        ("é" * 1025, "IDENT", True),
        ("\U0001f600" * 512, "IDENT", False),  # 2,048 bytes in 512 characters
        ("\U0001f600" * 513, "IDENT", True),
        ("CUSTOMER#a", "é" * 513, True),  # 1,026 bytes of sort key
        ("CUSTOMER#a", "é" * 512, False),
    ],
)
def test_item_bytes_refuses_keys_over_dynamodbs_by_their_bytes(pk: str, sk: str, refused: bool) -> None:
    """GIVEN keys at DynamoDB's limits (2,048 and 1,024 bytes) in one- to four-byte characters
    THEN one byte over is refused and the limit itself is not."""
    row = (pk, sk, None, None, None, None, None, None)
    if refused:
        with pytest.raises(RecordRejectedError, match="key is longer"):
            _item_bytes(Changeset("c", ()), row)
    else:
        assert _item_bytes(Changeset("c", ()), row) == _dynamodb_count(row)


_KEY_TEXT = st.text(alphabet=st.sampled_from(["a", "Z", "#", "@", '"', "\\", "\n", "\x7f", "é", "字", " "]))


@SETTINGS
@given(keys=st.lists(_KEY_TEXT, max_size=5))
def test_owned_keys_json_is_the_encoders(keys: list[str]) -> None:
    # GIVEN a new customer's owned keys (quotes, backslashes, controls, non-ASCII, none at all)
    # WHEN the profile item's attrs are written without the encoder THEN they are json.dumps's
    assert _owned_json(keys) == json.dumps({"owned": keys})
