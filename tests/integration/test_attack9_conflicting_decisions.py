"""Two review decisions that cannot both hold, taken in either order, on the in-memory, SQLite and
DynamoDB (moto) stores (core.link_review ``decide``, core.link_review_apply).

Hana's CRM record and her shop record are one customer (a fuzzy link: same name, birth date and
address); her namesake's mail record (same name and address, another birth date) is in review with
each. A reviewer accepts crm~mail and rejects mail~shop: with crm~shop linked, no partition honours
all three. What the store does depends on the order the two decisions are taken in:

* accept, then reject: {crm, mail}, {shop}, as ingest replays the two decisions (the accepted link
  and the refusal hold, the fuzzy crm~shop link gives way) and as later deliveries keep it;
* reject, then accept: the accept merges all three, {crm, mail, shop}, the rejected pair in one
  customer, and the next delivery of the records, changing nothing the matcher reads, makes
  {crm, mail}, {shop}.

And an accept taken again on a pair that is no longer a candidate (her CRM record moved house:
the first decision, on her old address, binds nothing) merges the customers, and the next delivery
of her CRM record with a field the matcher does not read changed splits them: ingest replays a
decision only on a pair the batch scores (docs/identity.md, "Review": a decision applies "whatever
order and batch sizes the records arrive in" while both records hold what it was taken on).

``decide`` makes what ingest makes (it plans the customers of the pair again as ingest does:
core.link_relink ``relink_customers``), and ingest replays an accepted pair its review partners list
(core.link_review_index) when the blocking keys no longer pair it (core.link_scope_graph): the two
were strict xfails of attack9, green since decide16.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from core.link_index import review_pair_id
from core.link_review import decide
from tests.integration.identity_attack_records import Flat, groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack7_unfile_threads import VERSIONS
from tests.integration.test_erasure_attacks import STORES, Stores

CRM, SHOP, MAIL = VERSIONS[0], VERSIONS[3], VERSIONS[5]
ACCEPT = ("crm:contact:1", "mail:contact:3", "accepted")
REJECT = ("mail:contact:3", "shop:contact:2", "rejected")

ON_EACH_STORE = pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))


def _decided(
    stores: Stores, first: tuple[str, str, str], second: tuple[str, str, str]
) -> set[frozenset[str]]:
    resolve_lines([CRM, SHOP, MAIL], stores.profiles, settings=_settings(stores))
    assert groups(stores.profiles) == {frozenset({"crm:1", "shop:2"}), frozenset({"mail:3"})}
    pending = {(p.a, p.b) for p in stores.profiles.pending_reviews()}
    assert pending == {ACCEPT[:2], REJECT[:2]}  # the premise: both pairs wait for review
    for a, b, verdict in (first, second):
        decide(stores.profiles, review_pair_id(a, b), verdict, by="ops", settings=_settings(stores))  # type: ignore[arg-type]
    return groups(stores.profiles)


def _touched(stores: Stores) -> set[frozenset[str]]:
    """The customers after each record is delivered again with a field the matcher does not read."""
    for line in (CRM, SHOP, MAIL):
        later: Flat = {**line, "updated_at": "2026-06-01T00:00:00Z", "job": "vet"}
        resolve_lines([later], stores.profiles, settings=_settings(stores))
    return groups(stores.profiles)


@ON_EACH_STORE
def test_accept_then_reject_leaves_the_customers_later_deliveries_keep(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        decided = _decided(stores, ACCEPT, REJECT)
        assert decided == {frozenset({"crm:1", "mail:3"}), frozenset({"shop:2"})}
        assert _touched(stores) == decided


@ON_EACH_STORE
def test_reject_then_accept_leaves_the_customers_later_deliveries_keep(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        decided = _decided(stores, REJECT, ACCEPT)
        assert _touched(stores) == decided


@ON_EACH_STORE
def test_an_accept_on_a_pair_that_is_no_longer_a_candidate_holds(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN crm~mail accepted, then her CRM record moved house (the pair no longer a candidate: the
    decision, taken on the old address, binds nothing) WHEN the pair is accepted again (on the records
    as they are) THEN crm and mail are one customer, and stay so when her records come again with a
    field the matcher does not read changed. (Not the three: the accepted pair is a must-link, and the
    fuzzy crm~shop link gives way to the conflict of mail's and shop's birth dates, as in
    ``test_accept_then_reject_leaves_the_customers_later_deliveries_keep``; one batch of the three
    records with the decision makes the same.)"""
    moved = VERSIONS[1]
    with stores_of() as stores:
        resolve_lines([CRM, SHOP, MAIL], stores.profiles, settings=_settings(stores))
        pair = review_pair_id(*ACCEPT[:2])
        decide(stores.profiles, pair, "accepted", by="ops", settings=_settings(stores))
        resolve_lines([moved], stores.profiles, settings=_settings(stores))
        assert groups(stores.profiles) == {frozenset({"crm:1", "shop:2"}), frozenset({"mail:3"})}
        decide(stores.profiles, pair, "accepted", by="ops", settings=_settings(stores))
        accepted = {frozenset({"crm:1", "mail:3"}), frozenset({"shop:2"})}
        assert groups(stores.profiles) == accepted
        for line in (moved, SHOP, MAIL):
            later: Flat = {**line, "updated_at": "2026-06-01T00:00:00Z", "job": "vet"}
            resolve_lines([later], stores.profiles, settings=_settings(stores))
            assert groups(stores.profiles) == accepted, line["source"]


@ON_EACH_STORE
def test_once_delivered_again_the_order_of_the_decisions_decides_nothing(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """Ingest replays both decisions the same way whichever came first: {crm, mail}, {shop} (the
    accepted link and the refusal hold, the fuzzy crm~shop link gives way)."""
    ends = []
    for first, second in ((ACCEPT, REJECT), (REJECT, ACCEPT)):
        with stores_of() as stores:
            _decided(stores, first, second)
            ends.append(_touched(stores))
    assert ends[0] == ends[1] == {frozenset({"crm:1", "mail:3"}), frozenset({"shop:2"})}
