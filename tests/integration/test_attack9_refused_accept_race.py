"""A refused accept racing another reviewer's decision on the same pair (core.link_review ``decide``).

Accepting a pair whose two customers do not fit one item together (test_attack8_review_sizes.py's
Hana and namesake, about 230 KB each) is refused before anything is merged, and the pair is put back
as it was read. Meanwhile another reviewer may have decided the same pair (rejected it: the two stay
apart, which is applied at once). Putting the read item back over the pair unconditionally erased
that decision: the pair was pending again, the second reviewer's decision lost though it applied and
its event was written. The pair is put back only while it still holds the refused decision
(``requeue_review``, the conditional write the review races use), on every store.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from core import link_review_apply
from core.link_review import ReviewRefusedError, decide
from tests.integration.identity_attack_records import groups, ingest_settings, resolve_lines
from tests.integration.test_attack8_review_sizes import _lines, _pair
from tests.integration.test_erasure_attacks import STORES, Stores

ON_EACH_STORE = pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))


@ON_EACH_STORE
def test_a_rejection_taken_while_an_accept_is_refused_as_too_large_stays(
    stores_of: Callable[[], AbstractContextManager[Stores]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN two customers too large together, the pair of their first records pending WHEN reviewer
    A accepts it and, after A's decision is written and before its merge is refused, reviewer B
    rejects it THEN A is refused, and the pair holds B's rejection (not pending again); the
    customers are apart."""
    with stores_of() as stores:
        settings = ingest_settings()
        resolve_lines(_lines(32), stores.profiles, settings=settings)
        before = groups(stores.profiles)
        item = _pair(stores)
        real = link_review_apply.check_merge_fits
        raced: list[Any] = []

        def racing(*args: Any, **kwargs: Any) -> None:
            if not raced:
                raced.append(decide(stores.profiles, item.pair_id, "rejected", by="ops-b", settings=settings))
            real(*args, **kwargs)

        monkeypatch.setattr(link_review_apply, "check_merge_fits", racing)
        with pytest.raises(ReviewRefusedError, match="400 KB"):
            decide(stores.profiles, item.pair_id, "accepted", by="ops-a", settings=settings)
        assert raced  # B decided in between
        held = stores.profiles.review_by_id(item.pair_id)
        assert held is not None
        assert (held.status, held.decided_by) == ("rejected", "ops-b")
        assert not [p for p in stores.profiles.pending_reviews() if p.pair_id == item.pair_id]
        assert groups(stores.profiles) == before
