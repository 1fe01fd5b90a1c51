"""A fuzzy suppression entry (core.suppression_fuzzy) on the three stores: its fingerprint is read
back as written, merge drops a record of the erased person that the model links to it and keeps her
namesake's (another birth date), and lifting the erasure lifts the fingerprint with its other entries."""

from __future__ import annotations

from datetime import UTC, datetime

from core.config import IdentitySection
from core.identity import IdentityPolicy
from core.link_scope import LinkageSettings
from core.link_settings import linkage_settings
from core.pipeline import IngestSettings, ingest
from core.suppression import SuppressionCheck, SuppressionEntry, keyed_hash
from core.suppression_fuzzy import fingerprint_entries
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit

SALT = "port-salt"
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
HANA = {"first_name": "Hana", "last_name": "Sato", "date_of_birth": "1992-11-30", "address": "8 Mill Lane"}


def _settings(kit: StoreKit) -> IngestSettings:
    shipped = linkage_settings(IdentitySection(mode="probabilistic"))
    assert shipped is not None
    assert kit.suppression is not None
    return IngestSettings(
        sleep=lambda _: None,
        linkage=LinkageSettings(model=shipped.model),
        suppression=SuppressionCheck(kit.suppression, SALT),
    )


def test_a_fingerprint_is_kept_checked_at_merge_and_lifted_with_its_erasure(kit: StoreKit) -> None:
    assert kit.suppression is not None
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits={**HANA, "postcode": "M4 5JD"})
    prints = fingerprint_entries([crm], IdentityPolicy(), SALT, "req-hana", AT)
    address = SuppressionEntry(keyed_hash(SALT, "email#hana.sato@corp.jp"), "email", "req-hana", AT)
    kit.suppression.suppress([address, *prints])
    assert [kit.suppression.entry(e.hash) for e in prints] == prints  # the fingerprints read back

    shop = make_record(
        "shop",
        "2",
        email="hanasato92@icloud.com",
        traits={**HANA, "first_name": "HANA", "address": "8 Mill Ln"},
    )
    namesake = make_record(
        "mail", "3", email="hana.s@example.com", traits={**HANA, "date_of_birth": "1990-02-14"}
    )
    result = ingest([shop, namesake], kit.profiles, _settings(kit))
    assert result.suppressed == 1
    assert set(kit.profiles.get_owners(["source#shop:contact:2", "source#mail:contact:3"])) == {
        "source#mail:contact:3"
    }

    lifted = kit.suppression.lift(address.hash)
    assert sorted(e.hash for e in lifted) == sorted([address.hash, *(e.hash for e in prints)])
    assert not kit.suppression.suppressed([e.hash for e in prints])
    again = ingest([shop], kit.profiles, _settings(kit))
    assert again.suppressed == 0
    assert "source#shop:contact:2" in kit.profiles.get_owners(["source#shop:contact:2"])
