"""A record stamped ahead of the clock, within the skew, on every store (issue 11, item 3).

The stamped time stays in the record; the time that orders it is the earlier of the stamp and the
time it was read (``SourceRecord.ordered_at``). These tests drive the paths that compare times: the
stale check and the echo's touch in ingest, survivorship between two tools, and a merge that moves
a snapshot with its identifier item's time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Profile, RecordDraft, SourceRecord
from core.testing.invariants import store_problems
from core.time_bound import read_before
from tests.integration.store_port.conftest import StoreKit

NO_SLEEP = IngestSettings(sleep=lambda _: None)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
FAST = timedelta(hours=10)  # a vendor clock ten hours ahead: within the default day of skew


def version(
    city: str, stamped: datetime, read_at: datetime, *, source: str = "crm", email: str = "ann@example.com"
) -> SourceRecord:
    draft: dict[str, Any] = {
        "source": source,
        "source_id": "1",
        "updated_at": stamped,
        "emails": [email],
        "traits": {"city": city},
    }
    record = normalise_record(RecordDraft(**draft), NormaliseOptions(now=read_at))
    assert isinstance(record, SourceRecord)
    return record


def only_profile(kit: StoreKit) -> Profile:
    profiles = list(kit.profiles.iter_profiles())
    assert len(profiles) == 1, profiles
    assert store_problems(profiles, kit.profiles.ident_owners()) == []
    return profiles[0]


def test_a_fast_clock_record_keeps_its_stamp_and_is_ordered_by_its_read_time(kit: StoreKit) -> None:
    # GIVEN a version stamped ten hours ahead of when it was read
    fast = version("Leeds", NOW + FAST, NOW)
    # THEN it keeps its stamp, is not flagged (within the skew), and is ordered by the read time:
    # just before the second it was read in (core.time_bound.read_before)
    expected = (NOW + FAST, NOW, read_before(NOW), ())
    assert (fast.updated_at, fast.read_at, fast.ordered_at, fast.dropped) == expected
    assert NOW - timedelta(seconds=1) < fast.ordered_at < NOW
    # AND a record stamped at or before its read has no read time (its JSON and hash as before)
    assert version("York", NOW, NOW + HOUR).read_at is None
    # WHEN stored, its snapshot keeps both times
    ingest([fast], kit.profiles, NO_SLEEP)
    customer_id = only_profile(kit).customer_id
    [snapshot] = kit.profiles.get_customers([customer_id])[customer_id].snapshots.values()
    assert (snapshot.updated_at, snapshot.read_at) == (NOW + FAST, NOW)


@pytest.mark.parametrize("order", ["fast first", "correction first"])
def test_a_correction_read_after_a_fast_clock_version_wins_in_either_order(kit: StoreKit, order: str) -> None:
    # GIVEN a version stamped ten hours ahead, read at NOW, and a correction stamped and read an hour later
    fast = version("Leeds", NOW + FAST, NOW)
    correction = version("York", NOW + HOUR, NOW + HOUR)
    batches = [[fast], [correction]] if order == "fast first" else [[correction], [fast]]
    # WHEN they arrive, in either order
    results = [ingest(batch, kit.profiles, NO_SLEEP) for batch in batches]
    # THEN the correction is what the profile holds, and the one arriving last was stale only when
    # it was the fast version
    assert only_profile(kit).traits["city"].value == "York"
    assert results[1].stale == (1 if order == "correction first" else 0)


def test_the_echo_of_a_fast_clock_record_changes_nothing_and_a_later_edit_still_wins(kit: StoreKit) -> None:
    # GIVEN a fast-clock version stored
    ingest([version("Leeds", NOW + FAST, NOW)], kit.profiles, NO_SLEEP)
    before = only_profile(kit)
    # WHEN the tool hands back the same content with its clock's newer stamp, read two hours later
    # (the echo of a push), and then the same content again, read again (a full refresh)
    echo = ingest([version("Leeds", NOW + FAST + 2 * HOUR, NOW + 2 * HOUR)], kit.profiles, NO_SLEEP)
    again = ingest([version("Leeds", NOW + FAST + 2 * HOUR, NOW + 3 * HOUR)], kit.profiles, NO_SLEEP)
    # THEN neither changes the profile (unchanged content; the identifier item's time moves on)
    assert (echo.unchanged, echo.touched, again.unchanged) == (1, 1, 1)
    assert only_profile(kit).version == before.version
    # AND an edit made (and read) after the echo was read still wins over it
    ingest([version("Hull", NOW + 4 * HOUR, NOW + 4 * HOUR)], kit.profiles, NO_SLEEP)
    assert only_profile(kit).traits["city"].value == "Hull"
    # AND an edit read between the fast version and its echo is older than the echo: stale
    late = ingest([version("Ripon", NOW + HOUR, NOW + HOUR)], kit.profiles, NO_SLEEP)
    assert late.stale == 1


def test_survivorship_prefers_the_tool_that_changed_a_value_later_than_a_fast_clock_read(
    kit: StoreKit,
) -> None:
    # GIVEN a CRM whose clock runs ten hours fast sets the city at NOW, and a shop sets it an hour later
    crm = version("Leeds", NOW + FAST, NOW, source="crm")
    shop = version("York", NOW + HOUR, NOW + HOUR, source="shop")
    # WHEN both are resolved into one profile (one batch, then the other order on a fresh person)
    ingest([crm, shop], kit.profiles, NO_SLEEP)
    # THEN the most recent value, by when each change can have been seen, wins: the shop's
    profile = only_profile(kit)
    assert profile.traits["city"].value == "York"
    assert profile.traits["city"].source == shop.key
    # AND the CRM's own record keeps its stamped time in the profile's sources
    [crm_ref] = [s for s in profile.sources if s.source == "crm"]
    assert crm_ref.updated_at == NOW + FAST


def test_a_merge_moves_a_fast_clock_snapshot_with_its_ordering_time(kit: StoreKit) -> None:
    # GIVEN two customers: one from a fast-clock CRM record, one from a shop record with its own email
    ingest([version("Leeds", NOW + FAST, NOW, email="ann@example.com")], kit.profiles, NO_SLEEP)
    ingest([version("York", NOW, NOW, source="shop", email="ann@work.example")], kit.profiles, NO_SLEEP)
    assert len(list(kit.profiles.iter_profiles())) == 2
    # WHEN a third record carries both emails, so the two customers merge (the CRM snapshot moves)
    bridge: dict[str, Any] = {"source": "pos", "source_id": "9", "updated_at": NOW + HOUR}
    record = normalise_record(
        RecordDraft(**bridge, emails=["ann@example.com", "ann@work.example"]),
        NormaliseOptions(now=NOW + HOUR),
    )
    assert isinstance(record, SourceRecord)
    ingest([record], kit.profiles, NO_SLEEP)
    only_profile(kit)
    # THEN a CRM correction read two hours after the fast version still wins after the move
    ingest([version("Hull", NOW + 2 * HOUR, NOW + 2 * HOUR)], kit.profiles, NO_SLEEP)
    profile = only_profile(kit)
    assert profile.traits["city"].value == "Hull"


def test_an_opt_out_made_after_a_fast_clock_opt_in_wins(kit: StoreKit) -> None:
    # GIVEN a CRM whose clock runs ten hours fast records an email opt-in at NOW (stamped NOW + 10 h)
    opt_in = RecordDraft(
        source="crm",
        source_id="1",
        updated_at=NOW + FAST,
        emails=["ann@example.com"],
        consent={"email": True},
    )
    # AND an hour later she unsubscribes at the email tool, whose clock is right
    opt_out = RecordDraft(
        source="mail",
        source_id="9",
        updated_at=NOW + HOUR,
        emails=["ann@example.com"],
        consent={"email": {"granted": False, "changed_at": NOW + HOUR}},
    )
    crm = normalise_record(opt_in, NormaliseOptions(now=NOW))
    mail = normalise_record(opt_out, NormaliseOptions(now=NOW + HOUR))
    assert isinstance(crm, SourceRecord)
    assert isinstance(mail, SourceRecord)
    # WHEN both are resolved, in either order
    ingest([crm], kit.profiles, NO_SLEEP)
    ingest([mail], kit.profiles, NO_SLEEP)
    # THEN she is not to be emailed: the opt-out is the later decision anyone can have seen
    consent = only_profile(kit).consent["email"]
    assert (consent.granted, consent.source) == (False, mail.key)
    # AND a fast-clock decision with a time of its own is ordered by when it was read too
    ahead = opt_in.model_copy(update={"consent": {"email": {"granted": True, "changed_at": NOW + FAST}}})
    record = normalise_record(ahead.model_copy(update={"updated_at": NOW}), NormaliseOptions(now=NOW))
    assert isinstance(record, SourceRecord)
    assert record.read_at == NOW
    assert record.consent["email"].changed_at == NOW + FAST
