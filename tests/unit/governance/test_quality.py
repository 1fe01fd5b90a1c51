"""Data quality per source and run, and the quarantine-share jump between comparable runs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.governance.quality import (
    JUMP_MIN_RECORDS,
    RunQuality,
    dropped_class,
    reason_class,
    resume_quality,
)
from core.identity import GuardrailHit
from core.schema import ConsentState, DroppedValue
from core.testing.records import T0, make_record


def run(
    connector: str, run_id: str, pulled: int, quarantined: int, previous: RunQuality | None = None
) -> RunQuality:
    report = None if previous is None else {"quality": previous.as_dict()}
    quality = resume_quality(connector, run_id, report)
    good = [make_record(connector, str(i), email=f"p{i}@example.com") for i in range(pulled - quarantined)]
    quality.observe(pulled, good, ["updated_at missing or invalid: not a date"] * quarantined)
    return quality


def test_a_run_counts_what_it_pulled_quarantined_dropped_and_consented() -> None:
    # GIVEN a page of four records: one quarantined, one with dropped values, one with email consent
    yes = {"email": ConsentState(granted=True, changed_at=T0)}
    no = {"email": ConsentState(granted=False, changed_at=T0)}
    records = [
        make_record("crm", "1", email="a@example.com", consent=yes),
        make_record("crm", "2", email="b@example.com", consent=no),
        make_record("crm", "3", phone="+442079460018").model_copy(
            update={
                "dropped": (
                    DroppedValue(field="orders[3]", value="x", reason="total: not a number"),
                    DroppedValue(field="orders[7]", value="y", reason="total: not a number"),
                    DroppedValue(
                        field="traits.country", value="Atlantis", reason="unknown country 'Atlantis'"
                    ),
                )
            }
        ),
    ]
    quality = RunQuality("crm", "r1")
    quality.observe(4, records, ["no usable identifier (no valid email or phone); dropped: email 'x': bad"])
    quality.observe_refusals([GuardrailHit("crm:contact:1", "email#noreply@x.com", "blocklisted value")])
    # THEN counts add up by kind, and reasons are classed without the values they quote
    assert quality.pulled == 4
    assert quality.quarantined == {"no usable identifier (no valid email or phone)": 1}
    assert quality.dropped == {"orders[]: total: not a number": 2, "traits.country: unknown country": 1}
    assert quality.refused == {"blocklisted value": 1}
    assert (quality.people, quality.without_email_consent) == (3, 2)
    assert quality.quarantine_share == 25.0
    assert quality.no_email_consent_share == pytest.approx(66.667)
    # AND it survives the trip through the SYNC# report (JSON)
    again = RunQuality.from_dict(json.loads(json.dumps(quality.as_dict())))
    assert again.as_dict() == quality.as_dict()


def test_a_jump_from_one_to_ten_percent_between_runs_is_alarming() -> None:
    first = run("crm", "r1", pulled=1000, quarantined=10)
    assert first.jump is None  # nothing to compare with yet
    second = run("crm", "r2", pulled=1000, quarantined=100, previous=first)
    assert second.baseline_share == 1.0
    assert second.baseline_run == "r1"
    assert second.jump == 9.0
    assert second.alarming
    steady = run("crm", "r3", pulled=1000, quarantined=110, previous=second)
    assert steady.jump == pytest.approx(1.0)
    assert not steady.alarming


def test_small_runs_neither_jump_nor_become_the_baseline() -> None:
    # GIVEN a comparable run at 1%, then an incremental run of 3 records, one of them bad (33%)
    big = run("crm", "r1", pulled=500, quarantined=5)
    small = run("crm", "r2", pulled=3, quarantined=1, previous=big)
    # THEN the small run gets no jump, and the next big run is still compared with 1%
    assert small.pulled < JUMP_MIN_RECORDS
    assert small.jump is None
    after = run("crm", "r3", pulled=500, quarantined=5, previous=small)
    assert (after.baseline_share, after.baseline_run, after.jump) == (1.0, "r1", 0.0)


def test_a_continuation_of_the_same_run_adds_to_it() -> None:
    first_hop = run("crm", "r1", pulled=60, quarantined=6)
    second_hop = resume_quality("crm", "r1", {"quality": first_hop.as_dict()})
    second_hop.observe(40, [], ["missing source id"] * 4)
    assert (second_hop.pulled, second_hop.quarantined_total) == (100, 10)


@given(st.text(min_size=1, max_size=40))
def test_a_reason_class_never_quotes_a_value(value: str) -> None:
    cls = reason_class(f"unknown status '{value}'; the first one is kept")
    assert cls == "unknown status"
    assert dropped_class("orders[12]", f"unknown status '{value}'") == "orders[]: unknown status"


def test_orders_and_charges_are_not_people_without_consent() -> None:
    person = make_record("shop", "1", email="a@example.com")
    order = make_record("shop", "o1", email="a@example.com").model_copy(update={"level": "child"})
    quality = RunQuality("shop", "r")
    quality.observe(2, [person, order], [])
    assert (quality.people, quality.without_email_consent) == (1, 1)
