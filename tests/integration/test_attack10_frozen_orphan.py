"""attack10: a customer an older version froze into a survivor that an older version's erasure then
deleted (the upgrade's leftover the repair does not take).

core/merge_undo.py says what the versions before it left: a merge in steps stopped at its last step
(the absorbed customer frozen, ``merging_into``), and "an erasure found the survivor through the
handed-over identifiers and left the frozen customer's profile". Such a store holds a frozen customer
whose survivor is gone. Here that store is made as they made it (``old_accept`` stops the merge where
it stopped; the erasure of either person runs with the step that settles a merge first switched off,
as before it existed), on the in-memory, SQLite and DynamoDB (moto) stores. Then, on this version,
``profilesync repair`` runs and both people are erased. The promise: nothing frozen is left and no
profile names either person.

What happens: ``find_frozen`` reports the customer ``unrepairable`` (its survivor is gone) and
``repair`` leaves it; no identifier item leads to it any more (the old erasure deleted those handed
over), so each new erasure answers ``not_found``; the frozen profile, with her name and email, stays
for good, and its ``source#`` keys are owned by nobody (store_problems: "not owned by its profile").
"""

from __future__ import annotations

from unittest import mock

import pytest

from core.merge_undo import repair_frozen
from tests.integration.store_port.test_frozen_merge_repair import _broken, _frozen
from tests.integration.test_attack8_review_sizes import HER_EMAIL
from tests.integration.test_attack10_repair_programs import NAMESAKE_EMAIL, _erase, _names_nobody_erased
from tests.integration.test_frozen_merge_repair_interleavings import _kit

CAUSE = (
    "core.merge_undo: a frozen customer whose survivor is gone (an older version's erasure deleted "
    "it) is 'unrepairable': repair_frozen leaves it and no identifier item leads an erasure to it, so "
    "its profile (her name, email) stays for good. Fix: repair it from what it holds (its profile "
    "rebuilt from the snapshots it still has, the mark cleared; none left: its items deleted as an "
    "erasure deletes them, its record ids suppressed), and let erase_person find a profile by its "
    "sources' keys when no identifier item leads to it"
)


@pytest.mark.xfail(strict=True, reason=CAUSE)
@pytest.mark.parametrize("first", [HER_EMAIL, NAMESAKE_EMAIL], ids=["her-first", "namesake-first"])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_a_frozen_customer_whose_survivor_an_older_erasure_deleted_is_repaired_and_erased(
    name: str, first: str
) -> None:
    with _kit(name) as kit:
        # GIVEN the merge an older version froze, and an older version's erasure of one of them
        settings, _ = _broken(kit)
        with (
            mock.patch("core.privacy_customer.finish_merges", return_value=False),
            mock.patch("core.privacy.settle_merges", return_value=False),
        ):
            assert _erase(kit, settings, first) == "erased"
        assert len(_frozen(kit.profiles)) == 1
        # WHEN this version repairs the store and both people ask to be erased
        repair_frozen(kit.profiles, settings)
        for email in (HER_EMAIL, NAMESAKE_EMAIL):
            _erase(kit, settings, email)
        # THEN nothing is frozen and nothing names either of them
        assert _frozen(kit.profiles) == []
        assert _names_nobody_erased(kit.profiles, {HER_EMAIL, NAMESAKE_EMAIL}) == []
        assert list(kit.profiles.iter_profiles()) == []
