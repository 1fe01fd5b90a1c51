"""An erasure with probabilistic identity fingerprints the records of every customer of the person,
her split-off customers' too (core.privacy_traces, core.privacy_export.scope_records).

Kim's address has more holders than its guardrail allows (8: nine records that name nobody count
one each), so her later records found customers of their own (core.scope_splinters); only those
later records carry her name, birth date and street. Erased
by her address, she leaves fingerprints (core.suppression_fuzzy) of them as well: her record coming
back from another tool under a private address, joined to hers by name, birth date and street alone,
is dropped at merge, and a namesake born another year at another address is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace

import pytest

from core.identity import IdentityPolicy
from core.schema import Identifier
from core.suppression import SuppressionCheck
from core.testing.records import make_record
from tests.integration.identity_attack_records import flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import SALT, STORES, Stores

EMAIL = "kim.ito@example.com"
NAME = {"first_name": "Kim", "last_name": "Ito"}
#: What only her records past the guardrail carry.
LATER = {"date_of_birth": "1988-04-02", "address": "8 Mill Lane", "city": "Manchester"}

ON_EACH_STORE = pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))


def _kim_past_her_guardrail(stores: Stores) -> None:
    kim = [
        make_record(
            ("crm", "shop", "mail")[n % 3],
            f"kim-{n}",
            email=EMAIL,
            day=n % 20 + 1,
            # the first nine name nobody, so each counts as a holder of the address
            # (core.identity_holders: a named person counts once, however many records she has)
            traits={**NAME, **LATER} if n >= 9 else {},
        )
        for n in range(12)
    ]
    for start in range(0, len(kim), 3):
        stores.ingest(kim[start : start + 3], IdentityPolicy())


@ON_EACH_STORE
def test_her_record_known_only_to_a_split_off_customer_of_hers_stays_erased(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        # GIVEN Kim's 12 records on her address: past its guardrail, the later ones are customers
        # of their own, and only they hold her birth date and street
        _kim_past_her_guardrail(stores)
        customers = groups(stores.profiles)
        assert len(customers) > 1
        settings = replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))
        # WHEN she is erased by her address, with probabilistic identity
        report = stores.erase(
            Identifier.assemble(kind="email", value=EMAIL), "req-kim", IdentityPolicy(), settings
        )
        assert report.outcome == "erased"
        assert report.counts["profile"] == len(customers)
        assert groups(stores.profiles) == set()
        # THEN her record from another tool, under a private address, is dropped at merge
        hers = flat("pos", "kim-new", day=20, email="kimito@private.example", **NAME, **LATER)
        again, _ = resolve_lines([hers], stores.profiles, settings=settings)
        assert (again.ingest.suppressed, again.ingest.written) == (1, 0)
        # AND a namesake born another year at another address is stored
        namesake = {**NAME, "date_of_birth": "1975-09-17", "address": "40 Quay Street", "city": "Leeds"}
        other = flat("pos", "kim-other", day=21, email="kim.ito@elsewhere.example", **namesake)
        stored, _ = resolve_lines([other], stores.profiles, settings=settings)
        assert (stored.ingest.suppressed, stored.ingest.written) == (0, 1)
