"""The in-memory store refuses what the SQLite store refuses: DynamoDB's 400 KB item, 2,048-byte
partition key, 1,024-byte sort key and 4 MB transaction (core.storage.memory_sizes).

The in-memory store weighs a changeset from the bytes ``profile_hash`` and ``record_hash`` hashed,
or a record's JSON a resolve worker kept, and sizes it exactly only when that may pass a limit.
Hypothesis draws changesets around each limit (profiles of records whose traits add up to about
400 KB, snapshots that add up to about 4 MB, keys of about 2 KB), in text of one to four bytes a
character, with those serialisations kept or not; the two stores must take or refuse each alike,
and a refused one writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import RecordRejectedError
from core.governance.history import HistoryEvent
from core.link_index import match_document
from core.merge import build_profile, profile_hash, record_hash
from core.ports import Changeset, Operation, PutHistory, PutHolder, PutIdent, PutProfile, PutSource, Tombstone
from core.record_json import record_json
from core.schema import ConsentState, OrderSummary, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.storage.memory_sizes import _BOUNDS
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_commit import _item_bytes, row_of
from core.storage.sqlite_database import SQLiteDatabase
from core.testing.records import T0, make_record
from tests.integration.store_port.test_profile_store import _new_customer

#: Characters of one, two, three and four bytes in UTF-8.
CHARS = {"ascii": "x", "latin": "é", "cjk": "漢", "emoji": "😀"}
KB = 1024


def _sqlite() -> SQLiteProfileStore:
    return SQLiteProfileStore(SQLiteDatabase(":memory:"))


def _outcome(store: object, changeset: Changeset) -> str:
    try:
        failed = store.commit([changeset])  # type: ignore[attr-defined]
    except RecordRejectedError:
        return "refused"
    return "failed" if failed else "written"


def _records(count: int, chars: int, char: str, memo: str, prefix: str = "r") -> list[SourceRecord]:
    """``count`` records of one person (one email), each with a trait of ``chars`` characters; their
    hash and JSON worked out beforehand as ``memo`` says (``none``, ``hash``, ``json``)."""
    records = [
        make_record("crm", f"{prefix}{i}", email="one@example.com", traits={f"note{i}": char * chars})
        for i in range(count)
    ]
    for record in records:
        if memo in ("hash", "both"):
            record_hash(record)
        if memo in ("json", "both"):
            record_json(record)
    return records


def _same_outcome(changeset: Changeset) -> str:
    memory, sqlite = InMemoryProfileStore(), _sqlite()
    outcome = _outcome(memory, changeset)
    assert _outcome(sqlite, changeset) == outcome, changeset.label
    if outcome == "refused":
        assert memory.ident_owners() == {}
        assert list(memory.iter_profiles()) == []
        assert memory.get_customers(["cus_a"]) == {}
    return outcome


MEMOS = st.sampled_from(["none", "hash", "json", "both"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(1, 12),
    kilobytes=st.integers(370, 430),
    char=st.sampled_from(sorted(CHARS)),
    memo=MEMOS,
    hashed=st.booleans(),
)
def test_a_profile_around_400_kb_is_taken_or_refused_as_on_sqlite(
    count: int, kilobytes: int, char: str, memo: str, hashed: bool
) -> None:
    # GIVEN one customer whose records' traits add up to about ``kilobytes`` KB in UTF-8
    width = len(CHARS[char].encode())
    records = _records(count, kilobytes * KB // count // width, CHARS[char], memo)
    changeset = _new_customer("cus_a", *records)
    if not hashed:  # a profile whose hash was not worked out from this very object
        ops = [
            replace(op, profile=op.profile.model_copy()) if isinstance(op, PutProfile) else op
            for op in changeset.operations
        ]
        changeset = Changeset(changeset.label, tuple(ops))
    # WHEN it is committed THEN both stores take it, or both refuse it
    _same_outcome(changeset)


def test_the_profile_test_straddles_the_limit() -> None:
    # The draws above reach both sides of 400 KB (else they would prove nothing).
    outcomes = {
        _same_outcome(_new_customer("cus_a", *_records(4, kb * KB // 4, "x", "hash"))) for kb in (380, 420)
    }
    assert outcomes == {"written", "refused"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(40, 60),
    kilobytes=st.integers(3_700, 4_300),
    char=st.sampled_from(sorted(CHARS)),
    memo=MEMOS,
)
def test_snapshots_around_4_mb_are_taken_or_refused_as_on_sqlite(
    count: int, kilobytes: int, char: str, memo: str
) -> None:
    # GIVEN a changeset that writes ``count`` snapshots adding up to about ``kilobytes`` KB
    width = len(CHARS[char].encode())
    records = _records(count, kilobytes * KB // count // width, CHARS[char], memo)
    ops: list[Operation] = [PutSource("cus_h", r, record_hash(r)) for r in records]
    # THEN both stores take it, or both refuse it
    _same_outcome(Changeset("heavy", tuple(ops)))


@settings(max_examples=60, deadline=None)
@given(
    chars=st.integers(300, 2100),
    char=st.sampled_from(sorted(CHARS)),
    kind=st.sampled_from(["ident", "holder", "source"]),
)
def test_keys_around_dynamodb_s_limits_are_taken_or_refused_as_on_sqlite(
    chars: int, char: str, kind: str
) -> None:
    # GIVEN an item whose partition or sort key is about ``chars`` bytes, in characters of one to four
    text = CHARS[char] * (chars // len(CHARS[char].encode()) + 1)
    if kind == "ident":
        ops: list[Operation] = [PutIdent("email#" + text + "@example.com", "cus_a", None)]
    elif kind == "holder":
        ops = [PutHolder("email#" + text + "@example.com", "cus_a")]
    else:  # the snapshot's sort key: SOURCE#crm:contact:<id>
        record = make_record("crm", text, email="k@example.com")
        ops = [PutSource("cus_a", record, record_hash(record))]
    # THEN both stores take it, or both refuse it
    _same_outcome(Changeset(f"key-{kind}", tuple(ops)))


def test_the_key_test_straddles_the_limits() -> None:
    ident = [PutIdent("email#" + "é" * n + "@example.com", "cus_a", None) for n in (1000, 1100)]
    outcomes = [_same_outcome(Changeset("key", (op,))) for op in ident]
    assert outcomes == ["written", "refused"]


def test_a_history_event_naming_many_records_is_sized() -> None:
    # GIVEN an event naming 9,000 records of 50 characters (a merge of a huge customer): 450 KB
    keys = tuple(f"crm:contact:{i:038d}" for i in range(9000))
    record = make_record("crm", "1", email="k@example.com")
    event = HistoryEvent(
        customer_id="cus_a",
        event_id="e1",
        at=record.updated_at,
        kind="merge",
        actor="run:t",
        source_keys=keys,
    )
    # THEN it is refused on both stores; with a tenth of them, taken on both
    assert _same_outcome(Changeset("event", (PutHistory(event),))) == "refused"
    smaller = event.model_copy(update={"source_keys": keys[:900]})
    assert _same_outcome(Changeset("event", (PutHistory(smaller),))) == "written"


@pytest.mark.parametrize("position", ["first", "last"])
def test_a_refused_changeset_names_what_the_commit_wrote_before_it(position: str) -> None:
    # GIVEN a commit of a small changeset and one with a profile over 400 KB
    small = _new_customer("cus_s", make_record("crm", "s", email="s@example.com"))
    huge = _new_customer("cus_h", *_records(4, 110 * KB, "x", "none", prefix="h"))
    commit = [small, huge] if position == "last" else [huge, small]
    store = InMemoryProfileStore()
    # WHEN it is committed THEN it is refused, naming what it wrote (the changesets before)
    with pytest.raises(RecordRejectedError, match="new:cus_h") as refused:
        store.commit(commit)
    assert refused.value.written == ({"new:cus_s"} if position == "last" else set())
    stored = {"cus_s"} if position == "last" else set()
    assert set(store.get_customers(["cus_s", "cus_h"])) == stored
    assert [p.customer_id for p in store.iter_profiles()] == sorted(stored)
    # AND the store takes the next commit
    assert store.commit([_new_customer("cus_t", make_record("crm", "t", email="t@example.com"))]) == []


# -- the weights are bounds ---------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@st.composite
def records(draw: st.DrawFn) -> SourceRecord:
    """A record with any text in its traits, consent decisions at its own time or another, a
    ``read_at``, a child's owner and summary; its hash or JSON worked out, or not."""
    day = draw(st.integers(0, 30))
    record = make_record(
        "crm",
        draw(st.text(st.characters(codec="utf-8", exclude_characters=":"), min_size=1, max_size=30)),
        email=draw(st.lists(st.emails(), max_size=3)),
        day=day,
        traits=draw(st.dictionaries(TEXT, TEXT, max_size=8)),
        consent={
            channel: ConsentState(granted=granted, changed_at=T0 + timedelta(days=day if own else day - 1))
            for channel, (granted, own) in draw(
                st.dictionaries(TEXT, st.tuples(st.booleans(), st.booleans()), max_size=20)
            ).items()
        },
    )
    update: dict[str, object] = {}
    if draw(st.booleans()):
        update["read_at"] = record.updated_at - timedelta(hours=1)
    if draw(st.booleans()):
        update |= {"level": "child", "owner": "crm:customer:9", "order_summary": OrderSummary(orders=3)}
    record = record.model_copy(update=update) if update else record
    memo = draw(MEMOS)
    if memo in ("hash", "both"):
        record_hash(record)
    if memo in ("json", "both"):
        record_json(record)
    return record


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=st.lists(records(), min_size=1, max_size=4),
    key=st.text(st.characters(codec="utf-8"), max_size=300),
    reason=st.text(st.characters(codec="utf-8", exclude_characters="#"), max_size=200),
    names=st.lists(st.text(st.characters(codec="utf-8"), max_size=60), max_size=20),
)
def test_what_an_item_is_weighed_at_is_at_least_what_it_weighs(
    drawn: list[SourceRecord], key: str, reason: str, names: list[str]
) -> None:
    """The weights ``check_changeset`` goes by without serialising are never below the exact size
    (else a changeset over a limit could pass): for snapshots, profiles, identifier and holder
    items, and history events, in any text."""
    unique = list({r.key: r for r in drawn}.values())
    profile = build_profile("cus_a", unique, version=1)
    profile_hash(profile)
    event = HistoryEvent(
        customer_id="cus_a",
        event_id="e1",
        at=T0,
        kind="merge",
        actor="run:t",
        reason="",
        source_keys=tuple(names),
    )
    ops: list[Operation] = [
        *(PutSource("cus_a", r, record_hash(r)) for r in unique),
        *(
            PutIdent(f"source#{r.key}", "cus_a", None, record_hash(r), r.updated_at, match_document(r))
            for r in unique
        ),
        PutIdent("email#" + key, "cus_a", None),
        PutHolder("email#" + key, "cus_a"),
        PutProfile("cus_a", profile, profile_hash(profile), frozenset(names), None, frozenset(names[:3])),
        PutHistory(event),
        Tombstone("cus_b", "cus_a", 3),
    ]
    for op in ops:
        weighed = _BOUNDS[type(op)](op)
        row = row_of(op)
        if weighed is not None:
            assert weighed >= _item_bytes(Changeset("c", ()), row), op
