"""revL28: ten colleagues' converted leads on the office inbox stay ten people on every store (memory,
SQLite, DynamoDB on moto), in one batch (a new customers' batch: core.ingest_fresh) and one by one
(core.identity.group_records against the stored holders); tests/unit/test_revl28_shared_lead_address.py
says why.
"""

from __future__ import annotations

from core.identity import DEFAULT_LIMITS
from core.pipeline import IngestSettings, ingest
from tests.integration.store_port.conftest import StoreKit
from tests.unit.test_revl28_shared_lead_address import PEOPLE, _colleague

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _people_per_profile(kit: StoreKit) -> list[int]:
    return sorted(sum(s.object_type == "contact" for s in p.sources) for p in kit.profiles.iter_profiles())


def test_colleagues_leads_on_the_office_inbox_are_held_to_the_email_limit(kit: StoreKit) -> None:
    # GIVEN ten colleagues' contacts and converted leads on the office inbox, in one batch
    ingest([r for n in range(len(PEOPLE)) for r in _colleague(n)], kit.profiles, NO_SLEEP)
    # THEN each is her own profile
    assert _people_per_profile(kit) == [1] * len(PEOPLE)


def test_colleagues_leads_one_by_one_join_no_more_than_the_email_limit(kit: StoreKit) -> None:
    for n in range(len(PEOPLE)):
        ingest(_colleague(n), kit.profiles, NO_SLEEP)
    assert max(_people_per_profile(kit)) <= DEFAULT_LIMITS["email"]
