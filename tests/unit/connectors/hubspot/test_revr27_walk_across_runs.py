"""revR27: a HubSpot walk by id that one run leaves half done loses no change made before the next.

fix20b walks the watermark's query by ``hs_object_id`` when its pages cannot move the watermark
(connectors/hubspot/_pull.py ``_walked``). Its cursor (``k``, ``n``) is stored after every page, so
a run that ends mid-walk (the Lambda's time, a kill) hands the walk on to the next run. A contact
the walk had passed that changes before that next run is not read again by the walk (its id is
behind ``k``); the walk promises the next run "asks from" its change's time. But the watermark the
walk hands on is the newest time it read, capped only at the *last* run's start: a contact not yet
reached that changed later than the passed one moves the watermark past the passed one's change,
which no run then asks for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from core.time_bound import use_clock

from .conftest import connect, fast_sandbox
from .test_pull_junk_pages import JunkStamped, T, _start


@contextmanager
def _our_clock_at(moment: datetime) -> Iterator[None]:
    """Our clock (every run's bound) stopped at ``moment``: a run made then."""
    previous = use_clock(lambda: moment)
    try:
        yield
    finally:
        use_clock(previous)


def test_a_change_behind_a_walk_handed_on_between_runs_still_arrives() -> None:
    # GIVEN 450 undated contacts at the watermark (a walk by id) and a run, 10 minutes after them,
    # that stops after its first page walked by id (its cursor stored, as a run cut short leaves it)
    sandbox = fast_sandbox(people=6)
    checked = JunkStamped(sandbox, set())
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        bulk = sorted(sandbox.add_records(450, at=T), key=lambda key: int(key.split(":", 1)[1]))
        checked.ids = {key.split(":", 1)[1] for key in bulk}
        first: list[str] = []
        with _our_clock_at(T + timedelta(minutes=10)):
            for page in hubspot.pull(cursor):
                assert page.cursor is not None
                first.append(page.cursor)
                if json.loads(page.cursor).get("k"):
                    break
        walk = json.loads(first[-1])["k"]
        passed = next(key for key in bulk if int(key.split(":", 1)[1]) <= walk)
        ahead = next(key for key in reversed(bulk) if int(key.split(":", 1)[1]) > walk)
        # AND, after that run, a contact the walk passed changes, then one it has not reached
        for key, minutes in ((passed, 20), (ahead, 30)):
            checked.ids.discard(key.split(":", 1)[1])
            sandbox.touch({key}, at=T + timedelta(minutes=minutes))
        # WHEN the next run, an hour later, takes the walk on, and one more run follows
        with _our_clock_at(T + timedelta(hours=1)):
            second = list(hubspot.pull(first[-1]))
            third = list(hubspot.pull(second[-1].cursor))
    # THEN the passed contact's change arrives (before: the walk handed on the time of the contact
    # it had not reached, 10 minutes after the passed one's change, and no run asked for it again)
    delivered = [r for page in second + third for r in page.records]
    titles = [r["properties"].get("jobtitle") for r in delivered if f"contact:{r['id']}" == passed]
    assert titles, "the change of a contact the walk had passed was never pulled"
    assert titles[-1] == sandbox._contacts[passed.split(":", 1)[1]].properties["jobtitle"]
