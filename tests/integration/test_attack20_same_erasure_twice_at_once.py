"""attack20: the same erasure request sent twice at once (a person who clicks twice, a retried
request whose first attempt is still running): the second runs from start to end while the first
is asking the tools, on the in-memory, SQLite and DynamoDB (moto) stores.
"""

from __future__ import annotations

from typing import Any

from core.identity import IdentityPolicy
from core.privacy import erase_person
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import BOOKKEEPING, SALT, SlowTool, Stores, email, stores

__all__ = ["stores"]

ANN = "annika.vasquez@example.com"


def _erase(stores: Stores, request_id: str, tool: Any) -> Any:
    return erase_person(
        email(ANN),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={"crm": tool},
        salt=SALT,
        request_id=request_id,
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        policy=IdentityPolicy(),
    )


def test_the_same_erasure_twice_at_once_erases_her_once_and_answers_both(stores: Stores) -> None:
    """GIVEN Annika's two records and Bob's WHEN her erasure is sent again while the first is asking
    the tools (the second runs to its end meanwhile) THEN none of her items is left, Bob's stay, and
    both answers say she is erased with her items counted once between them. A guard: it holds on
    main (no test before sent one erasure twice at once; tests/e2e/test_erasure_attacks.py sends it
    twice one after the other)."""
    stores.ingest(
        [
            make_record("crm", "1", email=ANN, phone="+15550100007", traits={"first_name": "Annika"}),
            make_record("shop", "2", email=ANN, traits={"last_name": "Vasquez"}),
            make_record("crm", "3", email="bob@example.com", traits={"first_name": "Bob"}),
        ],
        IdentityPolicy(),
    )
    second: list[Any] = []
    first = _erase(
        stores, "req-1", SlowTool(lambda: second.append(_erase(stores, "req-2", SlowTool(lambda: None))))
    )
    [again] = second
    assert stores.owner(f"email#{ANN}") is None
    assert stores.owner("phone#+15550100007") is None
    assert stores.owner("email#bob@example.com") is not None
    left = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
    assert [r for r in left if "annika" in str(r).lower() or "7946" in str(r)] == []
    # both answer that she is erased, and her items are counted once between them (the second
    # deleted them while the first asked the tools; the first found them gone and says nothing more)
    assert (first.found, first.outcome, again.found, again.outcome) == (True, "erased", True, "erased")
    assert first.counts["ident"] + again.counts["ident"] == 4  # her email, phone and two record ids
    assert first.counts["profile"] + again.counts["profile"] == 1
