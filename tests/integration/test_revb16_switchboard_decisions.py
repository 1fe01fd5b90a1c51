"""The contradiction check (core.link_review_rule) and a switchboard phone: Ann's two namesakes and
six colleagues all give the office's number, more people than a phone's limit, so ingest's graph
joins nobody by it (it reads the value's holders through the index). The check joined records by it
(its scope never read the value's holders), so it refused valid decisions. On memory, SQLite and
DynamoDB (moto)."""

from __future__ import annotations

import pytest

from core.link_index import review_pair_id
from core.link_review import decide
from tests.integration.identity_attack_records import Flat, flat, groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import CRM, HOME, NAMESAKE, _settings
from tests.integration.test_erasure_attacks import STORES

SWITCHBOARD = "+441614960000"
MAIL = {**NAMESAKE, "phone": SWITCHBOARD}
NEWS = flat("news", "5", **{**HOME, "date_of_birth": "1988-07-21"}, phone=SWITCHBOARD)
COLLEAGUES: list[Flat] = [
    flat(
        "hr",
        str(i),
        first_name=first,
        last_name=last,
        date_of_birth=f"19{60 + i}-0{1 + i % 9}-1{i}",
        address=f"{i + 20} Quay St",
        postcode="M3 3JE",
        phone=SWITCHBOARD,
    )
    for i, (first, last) in enumerate(
        [
            ("Oliver", "Brown"),
            ("Priya", "Nair"),
            ("Tomasz", "Kowal"),
            ("Grace", "Okafor"),
            ("Liam", "Walsh"),
            ("Mei", "Chen"),
        ]
    )
]
CRM_MAIL = ("crm:contact:1", "mail:contact:3")
CRM_NEWS = ("crm:contact:1", "news:contact:5")


@pytest.mark.parametrize("store", sorted(STORES))
def test_a_reject_is_taken_when_only_a_switchboard_phone_links_the_pair_to_an_accepted_one(
    store: str,
) -> None:
    with STORES[store]() as stores:
        s = _settings(stores)
        resolve_lines([CRM, MAIL, NEWS, *COLLEAGUES], stores.profiles, settings=s)
        assert {CRM_MAIL, CRM_NEWS} <= {(p.a, p.b) for p in stores.profiles.pending_reviews()}
        decide(stores.profiles, review_pair_id(*CRM_MAIL), "accepted", by="ana", settings=s)
        # Ingest keeps the phone's holders apart: crm:1 ~ mail:3 accepted does not bring news:5 in.
        assert not any({"crm:1", "news:5"} <= c for c in groups(stores.profiles))
        # Red before: refused, "those accepted pairs keep crm:contact:1 and news:contact:5 in one
        # customer" (joined through the switchboard the check counted as an identifier).
        outcome = decide(stores.profiles, review_pair_id(*CRM_NEWS), "rejected", by="bob", settings=s)
        assert outcome.status == "rejected"
        assert not outcome.together
        items = stores.profiles.get_reviews([CRM_MAIL, CRM_NEWS])
        assert {p: i.status for p, i in items.items()} == {CRM_MAIL: "accepted", CRM_NEWS: "rejected"}
        assert any({"crm:1", "mail:3"} <= c and "news:5" not in c for c in groups(stores.profiles))


@pytest.mark.parametrize("store", sorted(STORES))
def test_an_accept_is_taken_when_only_a_switchboard_phone_links_it_to_a_rejected_pair(store: str) -> None:
    with STORES[store]() as stores:
        s = _settings(stores)
        resolve_lines([CRM, MAIL, NEWS, *COLLEAGUES], stores.profiles, settings=s)
        decide(stores.profiles, review_pair_id(*CRM_NEWS), "rejected", by="bob", settings=s)
        outcome = decide(stores.profiles, review_pair_id(*CRM_MAIL), "accepted", by="ana", settings=s)
        assert outcome.together
        assert not any({"crm:1", "news:5"} <= c for c in groups(stores.profiles))
