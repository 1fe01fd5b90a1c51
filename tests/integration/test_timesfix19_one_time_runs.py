"""A content run of one time is stored as ``ONE_TIME`` ("1"): the item's own ``updated_at``.

Almost every new record's identifier item holds a run of one time and no other content; it is
written as a constant (no time formatting, no JSON) and read back as ``ContentRun(hash,
(updated_at,))``. Items written by the release before hold the same run in its JSON form, which
still reads the same. Both must let an older copy of the same content join the run (unlike an item
with no run at all, ``ContentRun.legacy``), on all three stores.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.batch_ingest import ingest_batch
from core.content_run import ONE_TIME, RUN_KEPT, ContentRun, stored_run
from core.pipeline import ingest
from tests.integration.store_port.conftest import KITS, StoreKit
from tests.integration.test_frozen_merge_repair_interleavings import _kit
from tests.integration.test_times19_content_runs import SETTINGS, _contact, _day

KEY = "source#crm:contact:1"


def _set_runs(kit: StoreKit, run_of: dict[str, str]) -> None:
    """Give the identifier items ``run_of[key]`` as their ``run``: items as another release wrote them."""
    profiles = kit.profiles
    if kit.name == "memory":
        for key, run in run_of.items():
            profiles._idents[key] = (*profiles._idents[key][:4], run)
    elif kit.name == "sqlite":
        with profiles.database.writing() as conn:
            for key, run in run_of.items():
                conn.execute(
                    "UPDATE items SET attrs = ? WHERE pk = ? AND sk = 'IDENT'", (run, "IDENT#" + key)
                )
    else:
        client, table = profiles._client, profiles.table_name
        for key, run in run_of.items():
            item_key = {"PK": {"S": "IDENT#" + key}, "SK": {"S": "IDENT"}}
            client.update_item(
                TableName=table,
                Key=item_key,
                UpdateExpression="SET run = :r",
                ExpressionAttributeValues={":r": {"S": run}},
            )


def _first_name(kit: StoreKit) -> tuple[str, datetime]:
    (profile,) = kit.profiles.iter_profiles()
    return str(profile.traits["first_name"].value), profile.traits["first_name"].updated_at


def test_one_time_encodes_as_the_constant_and_reads_back_as_the_item_s_time() -> None:
    run = ContentRun("h", (_day(3),))
    assert run.encode() == ONE_TIME
    assert ContentRun.decode("h", ONE_TIME, _day(3)) == run
    assert stored_run("h", _day(3), ONE_TIME) == run
    # The JSON form the release before wrote for the same run reads the same.
    assert ContentRun.decode("h", f'[["{_day(3).isoformat()}"],null]') == run
    # Anything more than one time, or another content before it, keeps the JSON form.
    for longer in (ContentRun("h", (_day(1), _day(3))), ContentRun("h", (_day(3),), (_day(2), "g"))):
        assert longer.encode() != ONE_TIME
        assert ContentRun.decode("h", longer.encode()) == longer
    with pytest.raises(ValueError, match="updated_at"):
        ContentRun.decode("h", ONE_TIME)


#: How new records are written: one by one (sync) or as resolve's fresh groups (core.ingest_fresh).
WRITERS = {"ingest": ingest, "ingest_batch": ingest_batch}


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("form", ["written", "json of the release before"])
@pytest.mark.parametrize("store", sorted(KITS))
def test_a_new_record_s_run_of_one_time_lets_an_older_copy_join(store: str, form: str, writer: str) -> None:
    with _kit(store) as kit:
        # GIVEN Ann's CRM contact of day 3 and the newsletter's Mel of day 2, new to the store
        new = [_contact("crm", "Ann", True, 3), _contact("mail", "Mel", True, 2)]
        WRITERS[writer](new, kit.profiles, SETTINGS)
        owner = kit.profiles.get_owners([KEY])[KEY]
        # THEN the CRM contact's item holds the run of one time as the constant, its time day 3
        assert (owner.run, owner.updated_at) == (ONE_TIME, _day(3))
        if form != "written":
            _set_runs(kit, {KEY: f'[["{_day(3).isoformat()}"],null]'})
        assert _first_name(kit) == ("Ann", _day(3))
        # WHEN the contact's copy of day 1 (the same content) arrives late
        assert ingest([_contact("crm", "Ann", True, 1)], kit.profiles, SETTINGS).unchanged == 1
        # THEN it joins the run: Ann counts from day 1 and Mel's day 2 wins; the watermark stays day 3
        assert _first_name(kit) == ("Mel", _day(2))
        owner = kit.profiles.get_owners([KEY])[KEY]
        assert owner.updated_at == _day(3)
        assert owner.run is not None
        assert ContentRun.decode("h", owner.run, owner.updated_at).times == (_day(1), _day(3))
        # AND a version of other content between them (day 2, Bo) cuts the run back to day 3
        assert ingest([_contact("crm", "Bo", True, 2)], kit.profiles, SETTINGS).stale == 1
        assert _first_name(kit) == ("Ann", _day(3))


def test_a_contact_echoed_on_every_sync_fills_the_run_after_16_echoes_and_then_reads_late_cuts_late() -> None:
    # GIVEN a contact's own version (day 0) and the echo of a push on each sync after it (days 1..)
    run = ContentRun("h", (_day(0),))
    for sync in range(1, RUN_KEPT + 1):
        run = run.observe(_day(sync), "h")
    # THEN after 16 echoes the run holds all 17 times (docs/architecture.md, "content runs")
    assert run.times == tuple(_day(d) for d in range(RUN_KEPT + 1))
    # WHEN the 17th echo arrives, the 16th echo's time is the one dropped: 16 earliest and the newest
    run = run.observe(_day(RUN_KEPT + 1), "h")
    assert run.times == (*(_day(d) for d in range(RUN_KEPT)), _day(RUN_KEPT + 1))
    # AND a late version of other content after the 16th kept time (between the dropped echo and the
    # newest) makes the content start at the newest time, later than the truth (the dropped echo)
    cut = run.observe(_day(RUN_KEPT) - timedelta(hours=1), "g")
    assert cut.first == _day(RUN_KEPT + 1)
    # AND one before it cuts exactly (the next kept time)
    assert run.observe(_day(RUN_KEPT - 1) - timedelta(hours=1), "g").first == _day(RUN_KEPT - 1)
