"""Finding a person past her address's guardrail asks the store each question once (core.scope_reads).

Her split-off customers' scopes asked the same reads again, one scope each: on DynamoDB a Query or
a BatchGetItem per question, 27 of the 46 s ``profilesync privacy erase`` took on a person with 60
records after the reads of the live customers were batched (test_attack3_erase_past_guardrail_cli,
cProfile, load 7). The scope found is the same; on the three stores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from core.identity import IdentityPolicy
from core.person_scope import find_scope
from core.schema import Identifier
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import STORES, Stores

EMAIL = "kim.many@example.com"
PHONE = "+14155550123"


class _Counted:
    """A store whose keyed reads are counted per (read, key)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.asked: Counter[tuple[str, str]] = Counter()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name not in ("get_owners", "get_profiles", "get_customers", "holders", "customer_items"):
            return real

        def counted(keys: Sequence[str] | str) -> Any:
            self.asked.update((name, k) for k in ([keys] if isinstance(keys, str) else keys))
            return real(keys)

        return counted


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def test_her_scope_past_the_guardrail_asks_each_read_of_each_key_once(stores: Stores) -> None:
    # GIVEN Kim's 16 records on her one address (some with her phone), ingested a few at a time:
    # past the guardrail, the later ones found customers of their own
    kim = [
        make_record(
            ("crm", "shop", "mail")[n % 3],
            f"kim-{n}",
            email=EMAIL,
            phone=PHONE if n % 4 == 0 else None,
            day=n % 20 + 1,
        )
        for n in range(16)
    ]
    for start in range(0, len(kim), 2):
        stores.ingest(kim[start : start + 2], IdentityPolicy())
    holding = {
        p.customer_id
        for p in stores.profiles.iter_profiles()
        if f"email#{EMAIL}" in {i.key for i in p.identifiers}
    }
    assert len(holding) > 3
    # WHEN her scope is found by her address
    profiles, erasure = _Counted(stores.profiles), _Counted(stores.erasure)
    identifier = Identifier.from_key(f"email#{EMAIL}")
    scope = find_scope(identifier, profiles=profiles, erasure=erasure)  # type: ignore[arg-type]
    # THEN it is every customer holding her address, and no read asked about one key twice
    assert {scope.customer_id, *(s.customer_id for s in scope.splinters)} == holding
    twice = {k: n for k, n in (profiles.asked + erasure.asked).items() if n > 1}
    assert twice == {}
    # AND it is the scope found on the stores read directly
    direct = find_scope(identifier, profiles=stores.profiles, erasure=stores.erasure)
    assert scope == direct


def test_a_record_written_between_two_scopes_is_seen_by_the_second(stores: Stores) -> None:
    # GIVEN Kim past the guardrail on her one address, and her scope found once
    kim = [
        make_record(("crm", "shop", "mail")[n % 3], f"kim-{n}", email=EMAIL, day=n % 20 + 1)
        for n in range(18)
    ]
    for start in range(0, 16, 2):
        stores.ingest(kim[start : start + 2], IdentityPolicy())
    identifier = Identifier.from_key(f"email#{EMAIL}")
    first = find_scope(identifier, profiles=stores.profiles, erasure=stores.erasure)
    # WHEN two more of her records arrive, and her scope is found again on the same stores
    stores.ingest(kim[16:], IdentityPolicy())
    second = find_scope(identifier, profiles=stores.profiles, erasure=stores.erasure)
    # THEN the second scope holds them: the reads are memoised within one scope, never across two (a
    # memo outliving one would leave a record written since out of an erasure)
    holding = {
        p.customer_id
        for p in stores.profiles.iter_profiles()
        if f"email#{EMAIL}" in {i.key for i in p.identifiers}
    }
    found = [{scope.customer_id, *(s.customer_id for s in scope.splinters)} for scope in (first, second)]
    assert found[0] < found[1] == holding
    sources = {key.rsplit(":", 1)[-1] for scope in (second, *second.splinters) for key in scope.sources}
    assert {"kim-16", "kim-17"} <= sources
