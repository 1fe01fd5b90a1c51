"""The compiled identifier loop and IDENT/HOLDER rows (native/src/rows.rs) are the Python path's.

core.ingest_fresh's ``_identifier_loop`` (the guardrail hits, the blocklist's answers kept per
key, the limited keys' holders, the sorted keys a new customer takes, their mailbox markers, the
longest keys) and ``_ident_holder_rows`` (the IDENT rows with each own record's hash and content
run, the HOLDER rows, the characters counted against the limits) are the oracles of
``profilesync_native.identifier_loop`` and ``ident_holder_rows``. Hypothesis builds groups of
``SourceRecord`` that share addresses and phones from small pools (so limits are reached and
passed, by people and by records, a guest child and an owned child), with provider addresses that
have mailbox markers, blocklisted values, any Unicode (non-BMP included), empty and huge texts,
undated records, records read before their stamp and records standing for several versions; the
compiled output, the ``blocked`` answers and the memos left on the records must be the Python
path's, and the compiled path must have taken the group (not declined it).

Mutations of native/src/rows.rs these tests catch (each built and run against them): a key more
records than its limit hold refused without asking ``past_limit`` who holds it (two records of one
named person sharing an address under a limit of one: ``test_the_identifier_loop_is_the_python_paths``),
and ``written`` taking the one-time shortcut whatever the ``_observed`` memo says (a record standing
for an earlier version written at its own time: ``test_the_ident_and_holder_rows_are_the_python_paths``).
Not caught, since it changes no output: ``may_hold`` ignoring ``owner`` (an owned child counted as
a possible holder is then asked of ``past_limit``, which counts no owned child).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.ingest_native as native_module
from core.identity import IdentityPolicy, customer_id_for
from core.ingest_fresh import _Arrival, _ident_holder_rows, _identifier_loop, _past_limit, _rows
from core.ingest_native import Declined, NativeRows
from core.ingest_settings import IngestSettings
from core.record_json import record_json_and_hash
from core.schema import Identifier, SourceRecord
from tests.native_support import NATIVE as _NATIVE
from tests.native_support import needs_native

pytestmark = needs_native

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)

_ANY = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(['"', "\\", "\x00", "#", "@", "é", "İ", "ß", "\U0001f600", "\U00010348", "\ufe0f"]),
    )
)
_TEXT = st.one_of(_ANY, _ANY.map(lambda text: text * 300), st.just(""))
#: Addresses shared across a group's records (limits reached), with markers (gmail's dots and tags,
#: googlemail, a fullwidth letter folded), a blocklisted one, and any text.
_EMAILS = st.one_of(
    st.sampled_from(
        [
            "ann@example.com",
            "ann.smith+shop@gmail.com",
            "annsmith@googlemail.com",
            "annsmith@gmail.com",
            "ｏttoline@example.org",
            "ottoline\ufe0f@example.org",
            "test@test.com",
            "noreply@example.com",
            "\U0001f600@example.com",
        ]
    ),
    _TEXT,
)
_PHONES = st.one_of(st.sampled_from(["+4915112345678", "+15555550100", "0000000000", "+441234"]), _TEXT)
_IDENT = st.one_of(
    st.builds(Identifier, kind=st.just("email"), value=_EMAILS),
    st.builds(Identifier, kind=st.just("phone"), value=_PHONES),
    st.builds(
        Identifier,
        kind=st.just("source"),
        value=st.one_of(st.sampled_from(["crm:contact:1", "shop:order:9"]), _TEXT),
    ),
)
_NAMES = st.one_of(
    st.just({}),
    st.sampled_from(
        [{"first_name": "Ann", "last_name": "Smith"}, {"full_name": "Bob Jones"}, {"first_name": "Ann"}]
    ),
    st.builds(lambda first, last: {"first_name": first, "last_name": last}, _TEXT, _TEXT),
    st.builds(lambda name, born: {"full_name": "Ann Smith", "date_of_birth": born}, _TEXT, _TEXT),
)
_TIME = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
)
_RECORD = st.builds(
    SourceRecord,
    source=st.sampled_from(["crm", "shop", "mail"]),
    object_type=st.sampled_from(["contact", "order"]),
    source_id=st.one_of(_TEXT, st.sampled_from(["1", "2", "new", "a#b"])),
    updated_at=_TIME,
    identifiers=st.lists(_IDENT, max_size=6).map(tuple),
    traits=_NAMES,
    level=st.sampled_from(["person", "child"]),
    owner=st.one_of(st.none(), st.sampled_from(["crm:contact:1", "shop:order:9"]), _TEXT),
    read_at=st.one_of(st.none(), _TIME),
    undated=st.booleans(),
)
_POLICY = st.sampled_from(
    [
        IdentityPolicy(),
        IdentityPolicy(max_records_per_identifier={"email": 1, "phone": 1}),
        IdentityPolicy(max_records_per_identifier={"email": 2}),
        IdentityPolicy(max_records_per_identifier={"email": 0, "phone": 3}),
        IdentityPolicy(
            blocked_values=frozenset({"ann@example.com", "+15555550100"}), blocked_patterns=("*@gmail.com",)
        ),
    ]
)


def _owning(record: SourceRecord) -> SourceRecord:
    """The record with its own ``source#`` key among its identifiers, as normalisation gives it
    (the IDENT row of a record of the group, with its hash and run), unless it has it."""
    own = Identifier(kind="source", value=record.key)
    if own in record.identifiers:
        return record
    return record.model_copy(update={"identifiers": (own, *record.identifiers)})


def _group(records: list[SourceRecord], observed: list[bool]) -> list[SourceRecord]:
    """One record per key, each holding its own key, sorted by key (as core.ingest_fresh receives
    and sorts a group), some standing for several versions (the ``_observed`` memo core.ingest_runs reads)."""
    group = sorted({record.key: _owning(record) for record in records}.values(), key=lambda r: r.key)
    for record, several in zip(group, observed, strict=False):
        if several:
            record.__dict__["_observed"] = (
                record.model_copy(update={"updated_at": record.updated_at - timedelta(1)}),
            )
    return group


def _copies(group: list[SourceRecord], memos: bool) -> list[SourceRecord]:
    """The group again, without the memos a path leaves, but its ``_observed`` versions (and its
    hash and JSON, as the worker sends them, when ``memos``)."""
    copies = []
    for record in group:
        copy = record.model_copy()
        if "_observed" in record.__dict__:
            copy.__dict__["_observed"] = record.__dict__["_observed"]
        if memos:
            record_json_and_hash(copy)
        copies.append(copy)
    return copies


def _memos(group: list[SourceRecord]) -> list[list[str]]:
    return [list(record.__dict__) for record in group] + [
        [list(ident.__dict__) for ident in record.identifiers] for record in group
    ]


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(_RECORD, min_size=1, max_size=12),
    policy=_POLICY,
    known=st.dictionaries(st.sampled_from(["email#test@test.com", "email#ann@example.com"]), st.booleans()),
)
def test_the_identifier_loop_is_the_python_paths(
    records: list[SourceRecord], policy: IdentityPolicy, known: dict[str, bool]
) -> None:
    # GIVEN a group sharing keys, under a policy with its limits and blocklist, some answers known
    assert _NATIVE is not None
    group = _group(records, [])
    python_group, native_group = _copies(group, False), _copies(group, False)
    python_blocked, native_blocked = dict(known), dict(known)
    limits = policy.max_records_per_identifier
    # WHEN the Python loop and the compiled one run over it
    expected = _identifier_loop(python_group, python_blocked, policy.is_blocked, limits)
    got = NativeRows(_NATIVE).identifier_loop(
        native_group, native_blocked, policy.is_blocked, limits, _past_limit
    )
    # THEN the compiled path took it, with the same hits, keys, markers, lengths (or the same refusal)
    assert got is not Declined.DECLINED
    assert got == expected
    assert list(native_blocked.items()) == list(python_blocked.items())
    assert _memos(native_group) == _memos(python_group)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(_RECORD, min_size=1, max_size=8),
    observed=st.lists(st.booleans(), max_size=8),
    memos=st.booleans(),
    scratch=st.booleans(),
)
def test_the_ident_and_holder_rows_are_the_python_paths(
    records: list[SourceRecord], observed: list[bool], memos: bool, scratch: bool
) -> None:
    # GIVEN a group's keys and markers as the loop finds them, its records by key (hashed or not)
    assert _NATIVE is not None
    group = _group(records, observed)
    found = _identifier_loop(_copies(group, False), {}, IdentityPolicy().is_blocked, {})
    assert found is not None
    _, desired, markers, _, _ = found
    python_group, native_group = _copies(group, memos), _copies(group, memos)
    survivor = customer_id_for(group[0].key)
    # WHEN the Python path and the compiled one write the IDENT and HOLDER rows
    expected = _ident_holder_rows(desired, markers, {r.key: r for r in python_group}, survivor, scratch)
    got = NativeRows(_NATIVE).ident_holder_rows(
        desired, markers, {r.key: r for r in native_group}, survivor, scratch
    )
    # THEN the same rows and sizes, and the same memos left on the records in the same order
    assert got is not None
    assert got == expected
    assert _memos(native_group) == _memos(python_group)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(_RECORD, min_size=1, max_size=10),
    observed=st.lists(st.booleans(), max_size=10),
    policy=_POLICY,
    actor=st.one_of(st.just("ingest"), _ANY),
    scratch=st.booleans(),
)
def test_every_row_and_hit_of_a_new_customer_is_the_python_paths(
    records: list[SourceRecord],
    observed: list[bool],
    policy: IdentityPolicy,
    actor: str,
    scratch: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a group that may found one new customer (or that the guardrails leave to the planner)
    assert _NATIVE is not None
    group = _group(records, observed)
    ingest_settings = IngestSettings(clock=lambda: AT, actor=actor, policy=policy)

    def rows(native: NativeRows | None, copies: list[SourceRecord], blocked: dict[str, bool]) -> Any:
        with monkeypatch.context() as patch:
            patch.setattr(native_module, "ROWS", native)
            return _rows(copies, ingest_settings, _Arrival(AT, actor), 10_000, blocked, scratch)

    # WHEN core.ingest_fresh builds its rows without the extension and with it
    python_group, native_group = _copies(group, False), _copies(group, False)
    python_blocked: dict[str, bool] = {}
    native_blocked: dict[str, bool] = {}
    expected = rows(None, python_group, python_blocked)
    got = rows(NativeRows(_NATIVE), native_group, native_blocked)
    # THEN every row, hit and answer is the same (or both leave the group), and the same memos
    assert got == expected
    assert native_blocked == python_blocked
    assert _memos(native_group) == _memos(python_group)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    value=st.text(alphabet=st.characters(), min_size=1).filter(
        lambda t: any(0xD800 <= ord(c) <= 0xDFFF for c in t)
    )
)
def test_an_identifier_the_extension_cannot_read_goes_to_the_python_path(value: str) -> None:
    # GIVEN a record whose identifier holds a lone surrogate (not UTF-8: the extension cannot read it)
    assert _NATIVE is not None
    record = SourceRecord.model_construct(
        source="crm",
        object_type="contact",
        source_id="1",
        updated_at=AT,
        identifiers=(Identifier.model_construct(kind="email", value=value),),
        traits={},
        level="person",
        owner=None,
    )
    # WHEN the compiled loop is asked THEN it declines, never raises nor answers otherwise
    native = NativeRows(_NATIVE)
    assert (
        native.identifier_loop([record], {}, IdentityPolicy().is_blocked, {}, _past_limit)
        is Declined.DECLINED
    )
    desired = ["IDENT", value]
    assert native.ident_holder_rows(desired, [], {}, "cus_x", True) is None
