"""revR23: stamps at the edges of what a cursor and normalise read, through rob23's harness.

rob23's promise (tests/integration/test_rob23_odd_stamps_move_cursors.py): a record whose stamp
comes oddly is accounted for on the first run (in a profile when the stamp names a moment normalise
reads, else quarantined with its reason) and the next run pulls nothing and counts nothing again.
Here the stamps sit on the edges: before 1970 (a ``0001-01-01`` null-date sentinel), after 2100,
on the 1e11 seconds/milliseconds threshold, negative, with a fraction, nine-digit years.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from tests.integration.test_attack13_hostile_values_on_the_wire import _accounted, tool
from tests.integration.test_rob23_odd_stamps_move_cursors import _SECONDS, HER_TIME, STAMPS, _stamping

EDGES: dict[str, Any] = {
    "a null-date sentinel": "0001-01-01T00:00:00Z",
    "a second before 1970": "1969-12-31T23:59:59Z",
    "after 2100": "2200-01-01T00:00:00Z",
    "negative epoch": -_SECONDS,
    "epoch seconds with a fraction": f"{_SECONDS}.5",
    "epoch seconds as a float": _SECONDS + 0.5,
    "exactly 1e11": 100_000_000_000,
    "a nine-digit year": "+123456789-01-01T00:00:00Z",
}


@pytest.mark.parametrize("edge", sorted(EDGES))
@pytest.mark.parametrize("name", sorted(STAMPS))
def test_a_record_stamped_at_an_edge_is_accounted_once(name: str, edge: str) -> None:
    sandbox, connector = tool(name, people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        _accounted(pull_into_store(connector, store, state, settings=SETTINGS))
        added = sandbox.add_records(1, at=HER_TIME)
        _stamping(sandbox, STAMPS[name], EDGES[edge])
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        _accounted(run)
        assert run.pulled >= len(added), (run.pulled, run.quarantine_reasons)
        assert run.normalised + run.quarantined >= len(added)
        quiet = pull_into_store(connector, store, state, settings=SETTINGS)
        assert (quiet.pulled, quiet.quarantined) == (0, 0), (quiet.pulled, quiet.quarantine_reasons)
    finally:
        connector.close()


from tests.integration.test_attack4_pages_change_while_paged import SETTINGS  # noqa: E402
