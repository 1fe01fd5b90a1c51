"""attack7: a person erased while Stripe still holds her (asked of no tool), or once Stripe redacted
her customer and charges (``[redacted]`` where her values were), then full refreshes (``sync
--full``) of Stripe: cut short and resumed, with her renamed (when not redacted) and a charge of hers
refunded at Stripe in between, into the in-memory and SQLite stores. Her
customer and charges are listed again and their events read again; none comes back: no owner of
her address or of any of her records, no profile holding one, no quarantined record of hers, and
the pulls count what they dropped (a redacted object of hers, a deletion since fix16, as a record
found retired already).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors._http import RetryPolicy
from connectors.stripe import DECLARATION, StripeConnector, make_sandbox
from core.pipeline import IngestSettings
from core.privacy import erase_person, identifier_for
from core.suppression import SuppressionCheck
from core.sync import pull_into_store
from tests.integration.test_erasure_attacks import SALT, STORES, Stores

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
SETTINGS = IngestSettings(sleep=lambda _: None)
UNPACED = dataclasses.replace(DECLARATION, account_limits=())
#: The redaction job's poll (connectors.stripe._erase._wait) not waited for: the sandbox validates a
#: job when it is read, and the first poll's real second was each redacted case's time.
NO_WAIT = RetryPolicy(sleep=lambda _: None)


@pytest.fixture(params=["memory", "sqlite"])
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    opened: Callable[[], AbstractContextManager[Stores]] = STORES[request.param]
    with opened() as found:
        yield found


def _quarantined(stores: Stores) -> list[Any]:
    held = stores.sync_state.quarantined
    return list(held("stripe")) if callable(held) else [q for q in held if q.connector == "stripe"]


@pytest.mark.parametrize("asked", [False, True], ids=["stripe-not-asked", "stripe-redacted"])
@pytest.mark.parametrize("pages", [None, 1, 2])
def test_a_full_refresh_after_her_erasure_brings_back_nothing_of_hers(
    stores: Stores, pages: int | None, asked: bool
) -> None:
    sandbox = make_sandbox(people=12, seed=5, requests_per_second=10_000)
    sandbox.clock.set(AT)
    paid = {c["customer"] for c in sandbox.charges.values() if c.get("customer")}
    her = sorted(c for c, v in sandbox.customers.items() if v.get("email") and c in paid)[0]
    address = sandbox.customers[her]["email"]
    charges = sorted(k for k, c in sandbox.charges.items() if c.get("customer") == her)
    keys = [f"source#stripe:customer:{her}", *(f"source#stripe:charge:{c}" for c in charges)]
    check = SuppressionCheck(stores.suppression, SALT)
    dropped = 0
    with StripeConnector(UNPACED, dataclasses.replace(sandbox.settings(), retry=NO_WAIT)) as connector:

        def pull(cursor: Any = ..., max_pages: int | None = None) -> None:
            nonlocal dropped
            extra = {} if cursor is ... else {"cursor": cursor}
            report = pull_into_store(
                connector,
                stores.profiles,
                stores.sync_state,
                settings=SETTINGS,
                erasure=stores.erasure,
                suppression=check,
                max_pages=max_pages,
                **extra,
            )
            dropped += report.suppressed
            # a redacted object of hers is read as a deletion of its record (connectors/stripe/
            # _redacted.py): met, and found retired already
            dropped += report.retired.absent if asked and report.retired is not None else 0

        pull()
        assert stores.profiles.get_owners(keys[:1])
        # GIVEN her erasure (Stripe not asked: its redaction has not run), then a rename and a
        # refund of hers at Stripe, on a later second
        report = erase_person(
            identifier_for(email=address),
            profiles=stores.profiles,
            erasure=stores.erasure,
            tools={"stripe": connector} if asked else {},
            salt=SALT,
            request_id="req-1",
            sync_state=stores.sync_state,
            suppression=stores.suppression,
        )
        assert report.outcome == "erased", report
        sandbox.clock.set(AT + timedelta(seconds=2))
        renamed = set() if asked else {f"customer:{her}"}  # a redacted customer is not renamed
        sandbox.touch(renamed | {f"charge:{c}" for c in charges[:1]})
        # WHEN a full refresh runs (cut after ``pages`` pages and resumed), then an incremental sync
        pull(cursor=None, max_pages=pages)
        pull()
        pull()
    # THEN nothing of hers is stored again, and the pulls said they met her
    assert stores.profiles.get_owners([f"email#{address}", *keys]) == {}
    held = {r.key for p in stores.profiles.iter_profiles() for r in p.sources}
    assert not held & {k.removeprefix("source#") for k in keys}
    assert dropped >= 1
    # AND a redacted object of hers (``[redacted]`` where her address was) is dropped, not quarantined
    ids = {her, *charges}
    assert not [q for q in _quarantined(stores) if any(i in str(q) for i in ids)]
