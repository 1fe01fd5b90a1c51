"""fix19b: ``ingest_batch``'s fresh path counts a value's holders as ``ingest`` does.

``core.batch_ingest`` promises the rows ``ingest`` writes of the same batch. Its fast path
(``core.ingest_fresh``) founded a group as one customer unless more *people-level records* than the
limit held a key, while the planner's ``group_records`` counts ``limit_holder``s: guest children (no
owner) as the person they name, and records naming one person in full as one. Twelve strangers'
guest orders on a shop's address were one customer through ``profilesync resolve`` and twelve
through a sync. The property below feeds the same generated records (people with and without full
names, birth dates, guest orders naming or not naming their buyer, orders with an owner) to the fast
path, to ``ingest_batch`` without it and to ``ingest``, and compares every SQLite row and report
(``tests.unit.test_ingest_fresh.assert_same``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings
from tests.unit.test_ingest_fresh import AT, assert_same, normalised

#: Few values, so that records share them; limits a handful of holders pass.
_EMAILS = ["shop@example.com", "ann@example.com", "lee.family@example.net"]
_PHONES = ["+14155550100", "+442079460000"]
_NAMES = [
    {},
    {"first_name": "Ann"},
    {"first_name": "Ann", "last_name": "Lee"},
    {"full_name": "ANN LEE"},
    {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-02-03"},
    {"first_name": "Bob", "last_name": "Lee"},
    {"full_name": "Cara Wu"},
    {"full_name": "Dev Rao"},
]
_KINDS = ["contact", "customer", "order", "order with owner"]


def _line(n: int, kind: str, name: dict[str, str], email: str | None, phone: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"source": "shop", "id": str(n), "updated_at": "2026-03-01T00:00:00Z", **name}
    line["object_type"] = "order" if kind.startswith("order") else kind
    if kind == "order with owner":
        line["owner_id"], line["owner_type"] = str(n % 3), "customer"
    if kind.startswith("order"):
        line["orders"] = [{"id": f"o{n}", "total": "9.50", "currency": "EUR", "created_at": "2026-02-01"}]
    if email is not None:
        line["email"] = email
    if phone is not None:
        line["phone"] = phone
    return line


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(_KINDS),
            st.sampled_from(_NAMES),
            st.sampled_from([None, *_EMAILS]),
            st.sampled_from([None, *_PHONES]),
        ),
        min_size=1,
        max_size=30,
    ),
    limits=st.sampled_from([{"email": 2, "phone": 2}, {"email": 3, "phone": 1}, {"email": 8, "phone": 5}]),
    batch_size=st.sampled_from([1, 4, 100]),
)
def test_both_paths_store_the_same_rows_of_people_and_guest_orders_sharing_values(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, dict[str, str], str | None, str | None]],
    limits: dict[str, int],
    batch_size: int,
) -> None:
    # GIVEN people and orders (guest or owned) sharing a few emails and phones, named or not
    lines = [_line(n, *row) for n, row in enumerate(rows)]
    ingest_settings = IngestSettings(
        policy=IdentityPolicy(max_records_per_identifier=limits), clock=lambda: AT
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        # WHEN ingested by the fast path, ingest_batch without it, and ingest THEN every row is the same
        assert_same(
            normalised(lines), tmp_path_factory.mktemp("fix19b"), batch_size, monkeypatch, ingest_settings
        )


def test_strangers_guest_orders_past_the_limit_are_left_to_the_planner(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # GIVEN nine strangers' guest orders on the shop's address (limit 8 people), one batch
    lines = [_line(n, "order", {"full_name": f"Buyer{n} Lee"}, _EMAILS[0], None) for n in range(9)]
    with pytest.MonkeyPatch.context() as monkeypatch:
        # WHEN ingested the three ways THEN the same rows: nine customers, none founded by the fast path
        rows, taken = assert_same(
            normalised(lines),
            tmp_path_factory.mktemp("fix19b"),
            100,
            monkeypatch,
            IngestSettings(clock=lambda: AT),
        )
    assert sum(1 for row in rows if row[1] == "PROFILE") == 9
    assert taken.taken == 0
