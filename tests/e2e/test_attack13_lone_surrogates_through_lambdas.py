"""attack13: HubSpot contacts holding lone UTF-16 surrogates, through the deployed path (pull Lambda ->
SQS -> merge Lambda on the local runtime), lose nothing and stop nothing.

A JSON answer may carry ``"\\ud800"`` (JavaScript's ``JSON.stringify`` writes one for a string cut
inside an emoji); Python reads it as a lone surrogate, which strict UTF-8 cannot encode. robust4's
junk contacts draw text that UTF-8 can encode only, so none reached the pull. Found and fixed: the
pull Lambda raised at the first page holding one, on every run (connectors/cursor_tags.py
``content_digest``; see tests/integration/test_attack13_hostile_values_on_the_wire.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from profilesync.demo import make_sandboxes
from profilesync.local import LocalRuntime
from tests.e2e.test_robust4_junk_through_lambdas import held_once_or_quarantined

pytestmark = pytest.mark.slow

ODD = [
    {"email": "ann\ud800@example.com", "firstname": "Ann"},
    {"email": "bob@example.com", "firstname": "B\udc00ob"},
    {"email": "cy@example.com", "company": "Acme \ud83d", "lastname": "\ud83d\ude00\ud83d"},
]


def test_contacts_with_lone_surrogates_through_pull_and_merge_are_stored_or_quarantined() -> None:
    # GIVEN HubSpot with ordinary people and three contacts whose answers carry lone surrogates
    sandboxes = make_sandboxes(6, 3, tools=["hubspot"])
    hubspot = sandboxes["hubspot"]
    at = datetime(2026, 1, 5, tzinfo=UTC)
    ids = [
        hubspot._insert(dict(p), at + timedelta(minutes=n), at + timedelta(minutes=n)).id
        for n, p in enumerate(ODD)
    ]
    with LocalRuntime(sandboxes) as rt:
        # WHEN the pull runs and its messages are merged
        result = rt.pull("hubspot")
        assert result.status == "done"
        rt.settle()
        # THEN every contact is in one profile or quarantined; Bob and Cy (valid emails) in profiles
        held, quarantined, _ = held_once_or_quarantined(rt, hubspot)
        assert set(ids[1:]) <= held
        assert ids[0] in quarantined
        # AND nothing is parked, the cursor is saved, and the next pull runs and changes no records
        assert rt.queue_depth(rt.dlq_url) == 0
        assert rt.wiring.sync_state.get_sync_state("hubspot").cursor is not None
        assert rt.pull("hubspot").status == "done"
        rt.settle()
        assert sorted(s.id for p in rt.wiring.profiles.iter_profiles() for s in p.sources) == sorted(held)
        assert rt.queue_depth(rt.dlq_url) == 0
