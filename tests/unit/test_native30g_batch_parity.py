"""One compiled call a batch (native/src/batch.rs) writes every row core.ingest_fresh's ``_rows`` writes.

``core.ingest_fresh.found_fresh`` asks the extension once per slice of a batch for each group's
rows (``FreshRows.groups``: the group sorted by key, the identifier loop, the customer id, the
SOURCE rows and events, the IDENT and HOLDER rows, the profile and its ``attrs`` with the add-only
mark, the size checks), and runs the Python ``_rows`` for a group the call declines. The oracle is
``_rows`` with the extension off. The generators are the earlier parity tests': groups that share
addresses and phones under five policies (tests/unit/test_native28r_rows_parity.py), records of
every shape the schema allows (tests/unit/test_rust27_native_parity.py: any Unicode, orders and
summaries, consent, records read before their stamp), and the profile's tie-breaks and rules
(tests/unit/test_native29b_profile_parity.py). Each compares the rows, the guardrail hits, the
blocklist's answers kept for the batch and the memos left on the records, in order.

Mutations of native/src/batch*.rs these tests catch (each built into the extension and run against
them): the IDENT row's ``isoformat`` writing a negative offset's sign as ``+`` (batch_items.rs: the
add-only cases, whose records are stamped at -05:00, the batch of shared keys and the rules' test
fail), and an amount of exactly its currency's minor units taken as coarse (``exponent <
-places`` in batch_marks.rs: no mark written where Python writes one; the add-only cases "0 and 3
places", "an order of another record" and "a payment reference", the rules' test and the test of
records of every shape fail).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.ingest_native as native_module
from core.identity import IdentityPolicy
from core.ingest_fresh import _Arrival, _compiled_rows, _rows
from core.ingest_native import Declined, NativeRows
from core.ingest_settings import IngestSettings
from core.merge import MergeRules
from core.schema import SourceRecord
from tests.native_support import NATIVE, needs_native
from tests.unit.test_ingest_profile import _RULES, _record
from tests.unit.test_native28r_rows_parity import _POLICY, _copies, _group, _memos
from tests.unit.test_native28r_rows_parity import _RECORD as _SHARING
from tests.unit.test_rust27_native_parity import _RECORD as _ANY_SHAPE

pytestmark = needs_native

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)


def _both_ways(
    groups: list[list[SourceRecord]],
    ingest_settings: IngestSettings,
    scratch: bool,
    monkeypatch: pytest.MonkeyPatch,
    limit: int = 10_000,
) -> tuple[
    list[Any], list[Any], dict[str, bool], dict[str, bool], list[list[SourceRecord]], list[list[SourceRecord]]
]:
    """Each group's ``_rows`` with the extension off, and the compiled batch's answers for copies
    of the same groups (fed in reverse key order, so the call sorts them as ``_rows`` does)."""
    python_groups = [_copies(group, False) for group in groups]
    native_groups = [list(reversed(_copies(group, False))) for group in groups]
    python_blocked: dict[str, bool] = {}
    native_blocked: dict[str, bool] = {}
    arrival = _Arrival(AT, ingest_settings.actor)
    with monkeypatch.context() as patch:
        patch.setattr(native_module, "ROWS", None)
        expected = [_rows(g, ingest_settings, arrival, limit, python_blocked, scratch) for g in python_groups]
    assert NATIVE is not None
    with monkeypatch.context() as patch:
        patch.setattr(native_module, "ROWS", NativeRows(NATIVE))
        got = _compiled_rows(native_groups, ingest_settings, arrival, limit, native_blocked, scratch)
    assert got is not None
    return expected, got, python_blocked, native_blocked, python_groups, native_groups


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    people=st.lists(st.lists(_SHARING, min_size=1, max_size=8), min_size=1, max_size=4),
    observed=st.lists(st.booleans(), max_size=8),
    policy=_POLICY,
    actor=st.one_of(st.just("ingest"), st.text(max_size=5)),
    scratch=st.booleans(),
)
def test_one_call_a_batch_writes_every_row_hit_and_answer_of_the_python_path(
    people: list[list[SourceRecord]],
    observed: list[bool],
    policy: IdentityPolicy,
    actor: str,
    scratch: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a batch of groups sharing addresses and phones (limits reached), under a policy with a
    # blocklist, some records standing for several versions
    groups = [_group(records, observed) for records in people]
    ingest_settings = IngestSettings(clock=lambda: AT, actor=actor, policy=policy)
    # WHEN _rows writes each group in Python, and the compiled call writes the batch
    expected, got, python_blocked, native_blocked, python_groups, native_groups = _both_ways(
        groups, ingest_settings, scratch, monkeypatch
    )
    # THEN it took every group, with the same rows and hits (or the same refusal), the groups sorted
    # in place, the same answers kept in the same order, and the same memos
    assert Declined.DECLINED not in got
    assert got == expected
    assert [[r.key for r in g] for g in native_groups] == [[r.key for r in g] for g in python_groups]
    assert list(native_blocked.items()) == list(python_blocked.items())
    assert [_memos(g) for g in native_groups] == [_memos(g) for g in python_groups]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    people=st.lists(st.lists(_ANY_SHAPE, min_size=1, max_size=4), min_size=1, max_size=3),
    scratch=st.booleans(),
)
def test_records_of_every_shape_are_written_as_the_python_path_writes_them(
    people: list[list[SourceRecord]], scratch: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN records of any text, orders and summaries, consent, children, undated or read early
    groups = [list({r.key: r for r in records}.values()) for records in people]
    ingest_settings = IngestSettings(clock=lambda: AT)
    # WHEN both paths write them
    expected, got, python_blocked, native_blocked, python_groups, native_groups = _both_ways(
        groups, ingest_settings, scratch, monkeypatch
    )
    # THEN the same rows (a profile or mark the compiled code does not write is Python's, called
    # back: the group is never declined), the same answers and memos
    assert Declined.DECLINED not in got
    assert got == expected
    assert native_blocked == python_blocked
    assert [_memos(g) for g in native_groups] == [_memos(g) for g in python_groups]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.integers(1, 4).flatmap(lambda n: st.tuples(*[_record(i) for i in range(n)])),
    rules=_RULES,
)
def test_the_profile_and_its_mark_follow_the_rules_as_the_python_path_does(
    records: tuple[SourceRecord, ...], rules: MergeRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a new customer's records with odd texts, zones, orders in three currencies, under rules
    # of two fingerprints and thresholds
    ingest_settings = IngestSettings(clock=lambda: AT, rules=rules)
    # WHEN both paths write it
    expected, got, *_ = _both_ways([list(records)], ingest_settings, True, monkeypatch)
    # THEN the same rows, the profile and its add-only mark included
    assert got == expected


def _buyer(number: int, orders: list[dict[str, Any]], **fields: Any) -> SourceRecord:
    return SourceRecord.model_validate(
        {
            "source": "shop",
            "object_type": "customer",
            "source_id": str(number),
            "updated_at": datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=-5))),
            "identifiers": [{"kind": "source", "value": f"shop:customer:{number}"}],
            "orders": orders,
            **fields,
        }
    )


def _order(order_id: str, total: str, currency: str = "EUR", **fields: Any) -> dict[str, Any]:
    at = datetime(2024, 2, 1, tzinfo=UTC)
    return {"id": order_id, "total": Decimal(total), "currency": currency, "created_at": at, **fields}


@pytest.mark.parametrize(
    "records",
    [
        pytest.param([_buyer(1, [_order("1", "5")])], id="an amount coarser than its minor units: no mark"),
        pytest.param(
            [_buyer(1, [_order("1", "5", "JPY"), _order("2", "1.000", "KWD")])], id="0 and 3 places"
        ),
        pytest.param([_buyer(1, [_order("9", "5.00")]), _buyer(2, [])], id="an order of another record"),
        pytest.param([_buyer(1, [_order("1", "5.00", payment_refs=("pi_1",))])], id="a payment reference"),
        pytest.param([_buyer(1, [_order("1", "1E+2")])], id="an exponent above zero"),
        pytest.param(
            [_buyer(1, [], order_summary={"orders": 2, "totals": {"EUR": Decimal("3.00")}})], id="a summary"
        ),
        pytest.param([_buyer(1, [], traits={"city": 'Kö"ln'})], id="a trait to escape"),
    ],
)
def test_the_add_only_mark_and_owned_keys_are_the_python_paths(
    records: list[SourceRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a new customer whose mark the compiled code writes, or asks Python for
    # WHEN both paths write its rows THEN the PROFILE row's attrs (and every other row) are the same
    expected, got, *_ = _both_ways([records], IngestSettings(clock=lambda: AT), True, monkeypatch)
    assert got == expected
    assert got[0] is not None


def test_a_group_the_extension_cannot_read_is_declined_and_written_by_the_python_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a batch whose second group's key holds a lone surrogate (not UTF-8), between two others
    odd = SourceRecord.model_construct(
        source="crm", object_type="contact", source_id="x\ud800", updated_at=AT, identifiers=()
    )
    plain = [_buyer(1, []), _buyer(2, [])]
    groups = [[plain[0]], [odd], [plain[1]]]
    arrival = _Arrival(AT, "ingest")
    assert NATIVE is not None
    with monkeypatch.context() as patch:
        patch.setattr(native_module, "ROWS", NativeRows(NATIVE))
        got = _compiled_rows(groups, IngestSettings(clock=lambda: AT), arrival, 10_000, {}, True)
    # WHEN the compiled call answers THEN it declines that group alone (found_fresh then runs _rows)
    assert got is not None
    assert [found is Declined.DECLINED for found in got] == [False, True, False]
