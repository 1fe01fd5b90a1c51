"""Attack (attack4): an erasure handled while a sync's pull holds a page of hers not yet ingested.

The connector has fetched the page (her HubSpot contact is on it); before the sync ingests it, an
erasure request for her is handled (suppressed, HubSpot asked to delete her, nothing stored yet to
delete). The pull then commits the page, and the sync pushes what it pulled. She must not come back:
no profile, no quarantined copy, nothing pushed to HubSpot, and the cursor moves past the page.
(Holds: the ingest drops her record as suppressed.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.hubspot import HubSpotConnector
from core.connector import RawPage
from core.pipeline import IngestSettings
from profilesync.syncrun import run_sync
from tests.integration.test_attack4_erasure_during_push import world

SALT = "attack4-salt"


class ErasingBeforeIngest:
    """HubSpot's connector; the second page it fetches names someone who is erased before the
    page is handed on to be ingested."""

    def __init__(self, inner: HubSpotConnector, erase: Any) -> None:
        self.inner = inner
        self.spec = inner.spec
        self._erase = erase
        self.victim = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        for number, page in enumerate(self.inner.pull(cursor)):
            if number == 1:
                drafts = self.inner.to_records(page)
                self.victim = next(str(d.emails[0]) for d in drafts if d.emails)
                self._erase(self.victim)
            yield page


def test_a_person_erased_while_her_page_waits_to_be_ingested_does_not_come_back() -> None:
    w = world(300)
    sandbox, hubspot, store, state = w.sandbox, w.hubspot, w.store, w.state

    def erase(email: str) -> None:
        w.erase(email)

    tool = ErasingBeforeIngest(hubspot, erase)
    try:
        # WHEN a first sync runs (pull then push) and she is erased between a fetch and its ingest
        outcome = run_sync(
            tool,  # type: ignore[arg-type]
            store,
            state,
            suppression=w.check,
            erasure=w.erasure,
            settings=IngestSettings(sleep=lambda _: None),
        )
    finally:
        hubspot.close()
    victim = tool.victim
    assert victim
    # THEN her record was dropped as suppressed, and no profile, quarantine entry or tool holds her
    assert outcome.pull.suppressed >= 1
    assert not [p for p in store.iter_profiles() if any(i.value == victim for i in p.identifiers)]
    assert not [q for q in state.quarantined if victim in q.raw]
    assert not sandbox.holds(victim)
    # AND the pull finished and its cursor moved past her page
    assert outcome.pull.pages > 2
    assert state.get_sync_state("hubspot").cursor == outcome.pull.cursor_after
