"""revR24: the limit of restarts in HubSpot's walk by offset (``connectors.hubspot._pull.MAX_RESTARTS``).

rob24 pages past search pages that cannot move the watermark by offset, and reads the query again
from its start when a result before the offset moved. Nothing checked that a block that keeps
changing while it is read stops the pull (``PaginationError``) instead of reading it for ever, nor
that the count is of the run, not of restarts in a row (the constant's comment said "in a row": a
count reset by each page that checks out would never stop a block that changes every other page).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors._http import PaginationError
from connectors.hubspot import _pull

from .conftest import connect, fast_sandbox
from .test_pull_junk_pages import JunkStamped, T, _searches, _start


def test_a_block_of_junk_stamped_contacts_changing_while_read_stops_the_pull_after_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN 250 junk-stamped contacts (two search pages), and after every search answer the first
    # of them changes (it moves to the end: every offset shifts by one)
    monkeypatch.setattr(_pull, "MAX_RESTARTS", 3)
    sandbox = fast_sandbox(people=6)
    checked = JunkStamped(sandbox, set())
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        junk = sorted(sandbox.add_records(250, at=T), key=lambda key: int(key.split(":", 1)[1]))
        moves: list[str] = []

        def change_the_first() -> None:
            key = junk[len(moves) % len(junk)]
            moves.append(key)
            sandbox.touch({key}, at=T + timedelta(seconds=len(moves)))

        checked.ids, checked.after_answer = {key.split(":", 1)[1] for key in junk}, change_the_first
        searches = len(_searches(checked))
        # WHEN pulling incrementally THEN the pull stops, naming the changes, after the limit of restarts
        # (a page from the start, then its next page found shifted: two searches a restart)
        with pytest.raises(PaginationError, match="kept changing"):
            list(hubspot.pull(cursor))
        assert len(_searches(checked)) - searches == 2 * (3 + 1)
