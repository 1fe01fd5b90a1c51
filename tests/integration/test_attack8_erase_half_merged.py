"""attack8: an erasure meets a merge in steps stopped half-way.

A merge too large for one transaction, or the merge a reviewer's accept makes, runs in steps
(core.merge_steps.complete_merge): freeze the absorbed customer, copy its snapshots to the
survivor, hand its identifiers over, delete its snapshots, write the survivor's profile and the
tombstone. A process killed between two steps (a Lambda timeout) leaves the absorbed customer
frozen, for the next writer to finish.

Hana's CRM record and her namesake's mail record are accepted as one person; the merge is killed
before one of its steps. Her erasure by her CRM address then found the customer holding it (the
survivor once the identifiers were handed over), erased it and returned: the frozen customer's
profile item, which still holds her name and email (its snapshots copied away), was left, listed
with the profiles, and pointing at a customer that no longer exists. On the in-memory, SQLite and
DynamoDB (moto) stores, and whichever step the merge stopped before, the erasure finishes the merge
first and leaves what it leaves when the merge was not killed: nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import pytest

from core.identity import IdentityPolicy
from core.link_review import decide
from core.ports import Changeset
from core.schema import Identifier
from tests.integration.identity_attack_records import groups, ingest_settings, resolve_lines
from tests.integration.test_attack8_review_sizes import CRM, HER_EMAIL, NAMESAKE
from tests.integration.test_erasure_attacks import STORES, Stores


class KilledError(Exception):
    """The process ended as the merge committed this step."""


def _accept_killed_before(stores: Stores, step: str | None) -> None:
    """Accept the pair of Hana's CRM record and her namesake's, the merge killed as it commits the
    changesets labelled ``step`` (None: not killed)."""
    settings = ingest_settings()
    resolve_lines([CRM, NAMESAKE], stores.profiles, settings=settings)
    (item,) = stores.profiles.pending_reviews()
    real = stores.profiles.commit

    def commit(changesets: Sequence[Changeset], *args: Any, **kwargs: Any) -> Any:
        if step is not None and any(c.label.startswith(step) for c in changesets):
            raise KilledError(step)
        return real(changesets, *args, **kwargs)

    stores.profiles.commit = commit
    try:
        decide(stores.profiles, item.pair_id, "accepted", by="ops", settings=settings)
    except KilledError:
        pass
    finally:
        stores.profiles.commit = real


def _left(stores: Stores) -> list[tuple[str, str | None]]:
    """Every customer item left: profiles, and customers frozen half-merged."""
    ids = [p.customer_id for p in stores.profiles.iter_profiles()]
    return sorted((cid, s.merging_into) for cid, s in stores.profiles.get_customers(ids).items())


@pytest.mark.parametrize("step", ["copy:", "idents:", "drop:", "final:"])
@pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))
def test_her_erasure_after_a_merge_killed_half_way_leaves_nothing_of_hers(
    stores_of: Callable[[], AbstractContextManager[Stores]], step: str
) -> None:
    with stores_of() as stores, STORES["memory"]() as whole:
        # GIVEN the accepted merge killed before ``step`` (and, beside, one that was not killed)
        _accept_killed_before(stores, step)
        _accept_killed_before(whole, None)
        assert groups(whole.profiles) == {frozenset({"crm:1", "mail:3"})}
        # WHEN Hana is erased by her CRM address
        for erased in (stores, whole):
            report = erased.erase(
                Identifier.assemble(kind="email", value=HER_EMAIL),
                "req-h",
                IdentityPolicy(),
                ingest_settings(),
            )
            assert report.outcome == "erased"
        # THEN nothing of hers is left, as when the merge was not killed
        assert not [p for p in stores.profiles.iter_profiles() if HER_EMAIL in p.model_dump_json()]
        assert _left(stores) == _left(whole) == []
