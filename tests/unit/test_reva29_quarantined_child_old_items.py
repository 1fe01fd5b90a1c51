"""revA29: her erasure and export by her contact's keys find her quarantined children written by the
previous release too.

4d42b27 keys a quarantined child by its owner link (core/quarantine.py ``owner_key``), but only items
written from now on carry that key in their ``subjects``: a converted lead or an order quarantined by
the previous release holds her contact's record id in its raw (``owner_id``/``owner_type``) and no
hash of it, so her erasure by her contact's address leaves it, with her name and address, and her
export does not list it. The raw is read for the owner link as ``owner_key`` reads a draft.
"""

from __future__ import annotations

import pytest

import core.quarantine
from tests.unit.test_attack23_quarantined_child_erasure import HOME, _contact, _lead, _order, _World


@pytest.fixture
def old_world(monkeypatch: pytest.MonkeyPatch) -> _World:
    # GIVEN her contact stored, and her converted lead and her order quarantined by the previous
    # release (its identifier_keys had no owner link)
    world = _World()
    world.ingest(_contact())
    with monkeypatch.context() as patch:
        patch.setattr(core.quarantine, "owner_key", lambda _draft: None)
        assert world.quarantine(_lead(), _order()) == 2
    return world


def test_her_erasure_takes_her_children_quarantined_by_the_previous_release(old_world: _World) -> None:
    # WHEN she is erased by her contact's address
    assert old_world.erase(HOME) == "erased"
    # THEN nothing of hers is left in the quarantine
    assert old_world.left() == []


def test_her_export_lists_her_children_quarantined_by_the_previous_release(old_world: _World) -> None:
    from core.privacy import export_person, identifier_for
    from core.privacy_request import PrivacyStores

    w = old_world
    stores = PrivacyStores(w.profiles, w.erasure, w.state, w.suppression, quarantine_of=["salesforce"])
    found = export_person(w.profiles, identifier_for(email=HOME), stores=stores, salt="attack23-salt")
    assert found is not None
    listed = sorted(q.key.sk.partition("#")[2] for q in found.quarantined)
    assert listed == ["salesforce:lead:00Q1", "salesforce:order:801"]
