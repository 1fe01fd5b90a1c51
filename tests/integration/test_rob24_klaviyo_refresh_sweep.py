"""rob24: a completed full refresh of Klaviyo retires the profiles deleted there (``refresh_lists``).

Klaviyo reports no deletion (a data privacy deletion job leaves no record or event to pull), but its
full refresh lists every profile the account holds (``GET /api/profiles`` with no filter): the stored
profiles it did not list are gone at Klaviyo (core.refresh_sweep), within the sweep's guard.
"""

from __future__ import annotations

import httpx

from connectors.klaviyo import REVISION
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from tests.integration.test_attack13_hostile_values_on_the_wire import tool


def _delete(sandbox: object, profile_id: str) -> None:
    """A data privacy deletion job for one profile, as Klaviyo's API takes it."""
    body = {
        "data": {
            "type": "data-privacy-deletion-job",
            "attributes": {"profile": {"data": {"type": "profile", "id": profile_id}}},
        }
    }
    with httpx.Client(transport=sandbox.transport(), base_url="https://a.klaviyo.com") as client:  # type: ignore[attr-defined]
        answer = client.post(
            "/api/data-privacy-deletion-jobs",
            json=body,
            headers={
                "Authorization": f"Klaviyo-API-Key {sandbox.token}",  # type: ignore[attr-defined]
                "revision": REVISION,
            },
        )
    assert answer.status_code == 202, answer.text


def test_a_full_refresh_retires_the_profiles_deleted_at_klaviyo() -> None:
    # GIVEN Klaviyo synced into the store
    sandbox, connector = tool("klaviyo", people=40)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        pull_into_store(connector, store, state, erasure=erasure)
        held = {ref.id for p in store.iter_profiles() for ref in p.sources}
        # AND two of its stored profiles deleted at Klaviyo for good (a privacy request handled there)
        gone = sorted(held)[:2]
        for profile_id in gone:
            _delete(sandbox, profile_id)
        # WHEN a full refresh completes
        run = pull_into_store(connector, store, state, cursor=None, erasure=erasure)
    finally:
        connector.close()
    # THEN exactly those two are retired, and every other profile stays
    assert run.sweep is not None
    assert run.sweep.as_dict()["swept"] == 2
    assert {ref.id for p in store.iter_profiles() for ref in p.sources} == held - set(gone)
