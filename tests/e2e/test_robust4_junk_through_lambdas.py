"""robust4: junk contacts through the deployed path (pull Lambda -> SQS -> merge Lambda) lose nothing.

Hypothesis writes HubSpot contacts with any text in their email, phone, names, company and country
(control characters, values of 10 KB, numbers, empty strings, upper-case and half addresses) into
the HubSpot sandbox next to 10 ordinary people; the local runtime (profilesync.local: the template's
functions, queues and table on moto) pulls and settles. Every contact is then in exactly one
profile or in the quarantine, no message is parked in a dead-letter queue, the cursor is saved, and
the next pull (the echoes of what was pushed) changes no profile's records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profilesync.demo import make_sandboxes
from profilesync.local import LocalRuntime

pytestmark = pytest.mark.slow

_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12).map(lambda s: s * 900),
    st.sampled_from(["", " ", "null", "0", "-1", "1e309", "NaN", "@", "a@b", "+", "+0000000000000000000"]),
    st.emails().map(lambda e: e.upper()),
    st.from_regex(r"\+?[0-9 ()-]{1,30}", fullmatch=True),
)
_CONTACT = st.fixed_dictionaries(
    {},
    optional={
        "email": _TEXT,
        "phone": _TEXT,
        "firstname": _TEXT,
        "lastname": _TEXT,
        "company": _TEXT,
        "country": _TEXT,
    },
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(junk=st.lists(_CONTACT, min_size=1, max_size=15))
def test_junk_contacts_through_pull_and_merge_are_all_stored_or_quarantined(
    junk: list[dict[str, Any]],
) -> None:
    sandboxes = make_sandboxes(10, 3, tools=["hubspot"])
    hubspot = sandboxes["hubspot"]
    at = datetime(2026, 1, 5, tzinfo=UTC)
    ids = []
    for n, properties in enumerate(junk):
        created = at + timedelta(minutes=n)
        ids.append(hubspot._insert(dict(properties), created, created).id)
    with LocalRuntime(sandboxes) as rt:
        # WHEN the pull runs and its messages are merged
        result = rt.pull("hubspot")
        assert result.status == "done"
        rt.settle()
        # THEN every contact, junk or not, is in one profile or quarantined
        held, _, everyone = held_once_or_quarantined(rt, hubspot)
        assert set(ids) <= everyone
        # AND nothing is parked, and the cursor is saved: the next pull (the echoes of the pushes,
        # touches) changes no profile's records
        assert rt.queue_depth(rt.dlq_url) == 0
        assert rt.wiring.sync_state.get_sync_state("hubspot").cursor is not None
        assert rt.pull("hubspot").status == "done"
        rt.settle()
        after = sorted(s.id for p in rt.wiring.profiles.iter_profiles() for s in p.sources)
        assert after == sorted(held)
        assert rt.queue_depth(rt.dlq_url) == 0


def held_once_or_quarantined(rt: LocalRuntime, hubspot: Any) -> tuple[set[str], set[str], set[str]]:
    """After a pull and its merges: the HubSpot ids in profiles (each in one profile only, asserted),
    those quarantined, and every id the sandbox holds, each of which is one or the other (asserted)."""
    profiles = list(rt.wiring.profiles.iter_profiles())
    held = [s.id for p in profiles for s in p.sources if s.source == "hubspot"]
    assert len(held) == len(set(held))
    quarantined = {q.key.rpartition(":")[2] for q in rt.wiring.sync_state.quarantined("hubspot")}
    everyone = {key.partition(":")[2] for key in hubspot.record_keys()}
    assert everyone <= set(held) | quarantined, sorted(everyone - set(held) - quarantined)
    return set(held), quarantined, everyone
