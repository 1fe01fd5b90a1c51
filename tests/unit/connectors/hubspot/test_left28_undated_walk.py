"""left28 (fix20b's leftover): a HubSpot walk by id that reads no dated contact is not walked again
by every run after it.

When a search page cannot move the watermark (no readable ``lastmodifieddate`` on it), the pull
walks the watermark's query by ``hs_object_id`` (connectors/hubspot/_pull.py ``_walked``). A walk
that read no readable time handed on the watermark it began at, so the next run asked the same query,
met the same undated page and walked every contact again, each run. It now hands on the hand-off of
the run that began it (``began``), as a walk whose newest time is past it does: a contact the walk
passed that changes later has a time after that, which the next run asks for.
"""

from __future__ import annotations

from datetime import timedelta

from .conftest import connect, fast_sandbox
from .test_pull_junk_pages import JunkStamped, T, _start
from .test_revr27_walk_across_runs import _our_clock_at


def test_a_walk_of_undated_contacts_is_not_walked_again_and_a_later_change_arrives() -> None:
    # GIVEN 450 contacts whose modification time HubSpot answers as junk, after a first full pull
    sandbox = fast_sandbox(people=6)
    searches: list[int] = []
    checked = JunkStamped(sandbox, set(), after_answer=lambda: searches.append(1))
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        keys = sandbox.add_records(450, at=T)
        checked.ids = {key.split(":", 1)[1] for key in keys}
        # WHEN a run 10 minutes later walks them (by id: no page moves the watermark)
        with _our_clock_at(T + timedelta(minutes=10)):
            first = list(hubspot.pull(cursor))
        assert {f"contact:{r['id']}" for page in first for r in page.records} >= set(keys)
        # AND the next run, an hour later, with nothing changed
        searches.clear()
        with _our_clock_at(T + timedelta(hours=1)):
            second = list(hubspot.pull(first[-1].cursor))
        # THEN it searches once, and walks none of them again (before: three pages of 200 by id,
        # every run, the contacts left out as versions already met)
        assert len(searches) == 1
        assert [r["id"] for page in second for r in page.records] == []
        # AND one of them changed after that run is pulled by the run after
        changed = sorted(keys)[7]
        checked.ids.discard(changed.split(":", 1)[1])
        sandbox.touch({changed}, at=T + timedelta(hours=2))
        with _our_clock_at(T + timedelta(hours=3)):
            third = list(hubspot.pull(second[-1].cursor))
    assert changed in {f"contact:{r['id']}" for page in third for r in page.records}
