"""revB20 item 4: each case of a kit_copies sweep (a kill point, a racing writer's call) starts with
the linkage caches a new process has, not with those ``given`` or an earlier case filled: its
``IngestSettings`` are new (``ingest_settings()`` in ``fresh()``), on every kit."""

from __future__ import annotations

import pytest

from core.ingest_settings import IngestSettings
from tests.integration.store_port.conftest import KITS
from tests.integration.store_port.kit_copies import kit_given_once
from tests.integration.test_repair_requeue_races_ingest import _outcome, _repair


def _caches(settings: IngestSettings) -> tuple[int, int]:
    linkage = settings.linkage
    return len(linkage.decisions.known), len(linkage.candidates.known)


@pytest.mark.parametrize("name", sorted(KITS))
def test_each_case_starts_with_the_caches_of_a_new_process(name: str) -> None:
    with kit_given_once(name, _repair) as fresh:
        kit, settings, write = fresh()
        before = _caches(settings)
        _outcome(kit, settings, write, None)  # the repair, then an ingest: both fill the caches
        assert _caches(settings) != before
        kit, again, write = fresh()
        # Red before: the same settings object, the next case starting with one more candidate node
        assert again is not settings
        assert again.linkage is not settings.linkage
        assert _caches(again) == before
