"""attack7: random programs in which Hana's records, that only her name, birth date and address join
(fuzzy links), meet her erasures in odd orders, beside her namesake, her sister and a stranger.

Hana has three records in three tools, each with its own email: her CRM record, her shop account
(her name in capitals, her street abbreviated) and a newsletter sign-up (her birth date's day and
month digits swapped); the shipped model links each pair. Her namesake at her address (another birth
date), her sister (another first name) and a stranger of her name elsewhere (another birth date)
are linked to none of them. A program is a list of steps drawn by hypothesis: a delivery of some
records in one batch, in a drawn order, or an erasure of Hana named by a record of hers that is
stored (by her CRM address when none is: nobody is found, the address is suppressed).

After every step, on the in-memory, SQLite and DynamoDB (moto) stores:

* no stranger is lost: each of the others' records delivered so far is stored, as on a store that
  never saw Hana;
* erased stays erased: once an erasure found a record of hers, no record of hers is stored again,
  whichever of them it found and whichever comes after (core.suppression_fuzzy: her fingerprint);
  and no item but the erasure's bookkeeping holds her emails, record ids or birth date.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.link_nodes import graph_node
from core.linkage import decide
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck
from tests.hypothesis_profiles import examples
from tests.integration.identity_attack_records import HANA, Flat, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import BOOKKEEPING, SALT, STORES, Stores

#: Programs a run tries per store (``ATTACK7_EXAMPLES=300`` to hunt).
EXAMPLES = int(os.environ.get("ATTACK7_EXAMPLES", examples(ci=10, deep=25)))

HOME = {**HANA, "city": "Manchester"}
HERS = {
    "crm:1": flat("crm", "1", **HOME, email="hana.sato@corp.jp"),
    "shop:2": flat(
        "shop", "2", **{**HOME, "first_name": "HANA", "address": "8 Mill Ln"}, email="hanasato92@icloud.com"
    ),
    "news:5": flat("news", "5", **{**HOME, "date_of_birth": "1992-11-03"}, email="hs.mcr@example.net"),
}
OTHERS = {
    "mail:3": flat("mail", "3", **{**HOME, "date_of_birth": "1990-02-14"}, email="hana.s@example.com"),
    "mail:4": flat(
        "mail", "4", **{**HOME, "first_name": "Yuki", "date_of_birth": "1990-02-14"}, email="yuki@example.com"
    ),
    "web:6": flat(
        "web",
        "6",
        **{**HANA, "date_of_birth": "1988-04-02", "address": "1 Quay Street", "postcode": "BS1 1AA"},
        city="Bristol",
        email="hana.sato@example.org",
    ),
}
#: What of Hana an item may not hold once she is erased.
HER_VALUES = (
    "hana.sato@corp.jp",
    "hanasato92",
    "hs.mcr",
    "crm:contact:1",
    "shop:contact:2",
    "news:contact:5",
)
HER_BIRTH = ("19921130", "1992-11-30", "19921103", "1992-11-03")


def _record(line: Flat) -> SourceRecord:
    record = normalise_record(draft_from_flat(line))
    assert isinstance(record, SourceRecord)
    return record


def _outcome(a: Flat, b: Flat) -> str:
    policy = IdentityPolicy()
    model = ingest_settings().linkage.model  # type: ignore[union-attr]
    assert model is not None
    return decide(graph_node(_record(a), policy).record, graph_node(_record(b), policy).record, model).outcome


def test_the_personas_are_what_the_programs_take_them_for() -> None:
    """Each two records of Hana's link; no other record links to one of hers."""
    assert {_outcome(a, b) for a in HERS.values() for b in HERS.values() if a is not b} == {"link"}
    assert "link" not in {_outcome(a, b) for a in HERS.values() for b in OTHERS.values()}


def _settings(stores: Stores) -> IngestSettings:
    return replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))


step = st.one_of(
    st.lists(st.sampled_from(sorted({*HERS, *OTHERS})), min_size=1, max_size=4, unique=True),
    st.just("erase"),
)


def _program(stores: Stores, fresh: Stores, steps: list[list[str] | str]) -> None:
    delivered: set[str] = set()
    erased = False  # an erasure found a record of hers
    for n, action in enumerate(steps):
        if action == "erase":
            stored = {k for c in groups(stores.profiles) for k in c} & set(HERS)
            named = (
                Identifier.assemble(kind="source", value=min(stored).replace(":", ":contact:"))
                if stored
                else Identifier.assemble(kind="email", value="hana.sato@corp.jp")
            )
            report = stores.erase(named, f"req-{n}", IdentityPolicy(), _settings(stores))
            assert report.outcome == ("erased" if stored else "not_found"), report
            erased = erased or bool(stored)
        else:
            lines = [{**HERS, **OTHERS}[k] for k in action]
            resolve_lines(lines, stores.profiles, settings=_settings(stores))
            theirs = [line for k, line in zip(action, lines, strict=True) if k in OTHERS]
            if theirs:
                resolve_lines(theirs, fresh.profiles, settings=_settings(fresh))
            delivered |= {k for k in action if k in OTHERS}
        held = {k for c in groups(stores.profiles) for k in c}
        assert held & set(OTHERS) == delivered, (n, action)  # no stranger lost
        assert {c for c in groups(stores.profiles) if not c & set(HERS)} == groups(fresh.profiles), (
            n,
            action,
        )
        if erased:
            assert not held & set(HERS), (n, action)  # erased stays erased
            left = [row for row in stores.rows() if not row[0].startswith(BOOKKEEPING)]
            assert not [r for r in left if any(v in str(r).lower() for v in HER_VALUES)], (n, action)
            assert not [r for r in left if any(v in str(r) for v in HER_BIRTH)], (n, action)


@pytest.mark.parametrize("name", ["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=10))
def test_hers_in_any_order_with_her_erasures_never_come_back_and_nobody_else_is_lost(
    name: str, steps: list[list[str] | str]
) -> None:
    with STORES[name]() as stores, STORES["memory"]() as fresh:
        _program(stores, fresh, steps)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=6))
def test_the_same_on_dynamodb(steps: list[list[str] | str]) -> None:
    with STORES["dynamodb"]() as stores, STORES["memory"]() as fresh:
        _program(stores, fresh, steps)


def test_her_shop_account_then_her_erasure_by_it_then_her_other_records() -> None:
    """The order a program found worth keeping: her shop account alone, her erasure by it, then her
    CRM record and her newsletter sign-up with her namesake in one batch."""
    with STORES["sqlite"]() as stores, STORES["memory"]() as fresh:
        _program(stores, fresh, [["shop:2"], "erase", ["crm:1", "mail:3", "news:5"]])
