"""A second reviewer deciding a pair while the first reviewer's decision is written again
(core.link_review_apply ``apply_decision``), on the in-memory, SQLite and DynamoDB (moto) stores.

Reviewer A accepts Hana's CRM~shop pair; before it applies, her shop record is stored at another
address (the decision lost: ``settle`` finds other evidence), and by the time A looks again it is
back at the first one (a later version undoing the move: the decision's evidence again), so A
writes its decision again and applies it. Between A's look and A's write, reviewer B rejects the
pair (applied at once: they stay apart, B's answer says so, B's event is written). A's write went
over the pair whatever it held: B's rejection was erased and the customers merged, though B was
told it applied. A decision taken again meanwhile stays, as ``requeue_review`` keeps it: A writes
only over its own decision (or its own pending item), and else reports it lost the race.
"""

from __future__ import annotations

from typing import Any

import pytest

from core import link_review_apply
from core.link_review import ReviewOutdatedError, decide
from core.pipeline import ingest
from tests.integration.test_attack7_review_races import CRM, SHOP
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_race8_decide_interleavings import PAIR, VERSIONS, _settings


@pytest.mark.parametrize("name", sorted(STORES))
def test_a_decision_written_again_leaves_another_reviewers_decision_taken_meanwhile(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with STORES[name]() as stores:
        settings = _settings(stores)
        ingest([CRM, SHOP], stores.profiles, settings)
        assert PAIR in {i.pair_id for i in stores.profiles.pending_reviews()}
        real_settle, real_requeue = link_review_apply.settle, link_review_apply.requeue
        moves = ["elsewhere"]
        raced: list[Any] = []

        def settle(*args: Any, **kwargs: Any) -> Any:
            if moves:  # her shop record stored elsewhere as A's decision is applied
                ingest([VERSIONS[moves.pop()]], stores.profiles, settings)
            return real_settle(*args, **kwargs)

        def requeue(*args: Any, **kwargs: Any) -> Any:
            if not raced:  # and back again (the decision's evidence) by the time A looks
                ingest([VERSIONS["back"]], stores.profiles, settings)
            found = real_requeue(*args, **kwargs)
            if not raced:  # B rejects the pair before A writes its decision again
                raced.append(decide(stores.profiles, PAIR, "rejected", by="ops-b", settings=settings))
            return found

        monkeypatch.setattr(link_review_apply, "settle", settle)
        monkeypatch.setattr(link_review_apply, "requeue", requeue)
        with pytest.raises(ReviewOutdatedError):
            decide(stores.profiles, PAIR, "accepted", by="ops-a", settings=settings)
        assert raced  # B decided in between, and was told it applied
        held = stores.profiles.review_by_id(PAIR)
        assert held is not None
        assert (held.status, held.decided_by) == ("rejected", "ops-b")
        owners = stores.profiles.get_owners([f"source#{CRM.key}", f"source#{SHOP.key}"])
        assert owners[f"source#{CRM.key}"].customer_id != owners[f"source#{SHOP.key}"].customer_id
