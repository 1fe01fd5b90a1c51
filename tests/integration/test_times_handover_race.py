"""A merge hands a ``source#`` key over with the content run it read: a touch of the run alone
committed by another writer between the merge's read and its commit must not be undone
(``PutIdent.expected_run`` beside ``expected_at``, as ``TouchSource.checks_run``), on all three stores.

The merge (a bridge record joining crm:1 and shop:1) is interrupted after each of its store calls in
turn by another writer filing an older crm:1 version with other content (day 1): that moves only the
run. A copy from day 0 arrives last. Every interleaving must end as the one-process reference."""

from __future__ import annotations

import pytest

from core.pipeline import ingest
from core.schema import ConsentState
from core.testing.records import make_record
from tests.integration.store_port.conftest import KITS
from tests.integration.test_frozen_merge_repair_interleavings import _kit
from tests.integration.test_times19_content_runs import SETTINGS, _day, decided, reference_profile
from tests.interleave import after_call

NAMES = ("get_owners_and_tombstones", "get_owners", "get_customers", "commit")
PHONE = "+447700900123"


def _crm(name, day):
    r = make_record("crm", "1", email="ann@example.com", day=day, traits={"first_name": name})
    return r.model_copy(update={"consent": {"email": ConsentState(granted=True, changed_at=_day(day))}})


def _run(store, k):
    stored = [
        _crm("Ann", 2),
        _crm("Ann", 6),
        make_record("shop", "1", phone=PHONE, day=1, traits={"first_name": "Mel"}),
    ]
    bridge = make_record("web", "1", email="ann@example.com", phone=PHONE, day=1)
    older_other = _crm("Bo", 1)
    late = _crm("Ann", 0)
    everything = [*stored, bridge, older_other, late]
    with _kit(store) as kit:
        ingest(stored[:2], kit.profiles, SETTINGS)
        ingest(stored[2:], kit.profiles, SETTINGS)
        with after_call(
            kit.profiles, k, lambda: ingest([older_other], kit.profiles, SETTINGS), NAMES
        ) as made:
            ingest([bridge], kit.profiles, SETTINGS)
        ingest([late], kit.profiles, SETTINGS)
        profiles = list(kit.profiles.iter_profiles())
        assert len(profiles) == 1
        return decided(profiles[0]), decided(reference_profile(everything)), list(made)


@pytest.mark.parametrize("store", sorted(KITS))
def test_handover_keeps_a_concurrent_run_touch(store):
    _, _, made = _run(store, None)
    bad = []
    for k in range(1, len(made) + 1):
        got, want, _ = _run(store, k)
        if got != want:
            bad.append((k, made[k - 1], got["traits"]))
    assert not bad, bad
