"""clock19: versions stamped ahead of their read give one profile in any order and batch size of
``profilesync resolve``.

A time more than a day ahead (2099) is read as the moment it was read (``core.time_bound.read_before``),
and a version within the day ahead is ordered by that moment. ``resolve`` read each line at its own
moment: of two versions of one record stamped 2099, the line read later won, so the order of the
lines chose the profile. A file is read as of one moment, the run's start (``NormaliseOptions.now``):
such versions tie on their time and their content decides, whatever the order and the batch size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.resolve_files import resolved

pytestmark = pytest.mark.slow

FAR = "2099-01-01T00:00:00Z"
VERSIONS = [
    *({"source": "crm", "id": "c1", "updated_at": FAR, "email": "ann@example.com", "city": c} for c in "ABC"),
    {"source": "crm", "id": "c2", "updated_at": FAR, "email": "bob@example.com", "city": "D"},
]


def _city(tmp: Path, lines: list[dict[str, Any]], batch_size: int) -> str:
    profiles = resolved(tmp, lines, batch_size)
    [ann] = [p for p in profiles if any(s["id"] == "c1" for s in p["sources"])]
    return str(ann["traits"]["city"])


def test_versions_stamped_2099_resolve_alike_in_any_order_and_batch_size(tmp_path: Path) -> None:
    # GIVEN three versions of one record stamped 2099 (and another person's line between them)
    orders = [VERSIONS, VERSIONS[::-1], [VERSIONS[1], VERSIONS[3], VERSIONS[2], VERSIONS[0]]]
    # WHEN resolved in three orders at batch sizes 1 and 20000
    cities = {
        _city(tmp_path / f"{i}-{size}", lines, size) for i, lines in enumerate(orders) for size in (1, 20000)
    }
    # THEN every run gives the profile the same city
    assert len(cities) == 1, cities
