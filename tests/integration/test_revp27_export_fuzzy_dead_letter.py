"""revP27: her export lists the dead letter her erasure takes out because only a fuzzy link makes
it hers.

With probabilistic identity her erasure matches the dead-letter queue's records against her
records' fingerprints too (core.privacy: ``fingerprint_matcher``; attack6's
``test_her_record_in_the_dead_letter_queue_that_only_a_fuzzy_link_makes_hers_goes_with_her``):
her shop record under a private address goes, her namesake's stays. Her export (core.privacy_export,
"everything held about her, from the scope an erasure would delete") matched exact identifiers and
record ids only: it did not list the shop record her erasure then deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from core.privacy import PrivacyStores, erase_person, export_person
from core.schema import SourceRecord
from tests.integration.test_attack6_erased_and_fuzzy import (
    CRM,
    HER,
    NAMESAKE,
    SHOP,
    _import,
    _normalised,
    _settings,
)
from tests.integration.test_erasure_attacks import SALT, STORES, Stores


class _DeadLetters:
    """A dead-letter queue of one message per record (core.privacy_store.DeadLetterQueue)."""

    def __init__(self, records: list[SourceRecord]) -> None:
        self.held = records

    def records(self) -> list[SourceRecord]:
        return list(self.held)

    def remove(self, matches: Callable[[SourceRecord], bool]) -> int:
        kept = [r for r in self.held if not matches(r)]
        removed, self.held = len(self.held) - len(kept), kept
        return removed


def test_her_export_lists_the_dead_letter_only_a_fuzzy_link_makes_hers() -> None:
    stores_of: Callable[[], AbstractContextManager[Stores]] = STORES["memory"]
    with stores_of() as stores:
        # GIVEN Hana's CRM record stored, and in the dead-letter queue her shop record (a private
        # address: only the model links it to her) and her namesake's
        _import(stores, [CRM])
        queue = _DeadLetters([_normalised(SHOP), _normalised(NAMESAKE)])
        privacy = PrivacyStores(stores.profiles, stores.erasure, stores.sync_state, stores.suppression, queue)
        # WHEN she asks for her data, and then is erased
        found = export_person(stores.profiles, HER, stores=privacy, salt=SALT, identity=_settings(stores))
        report = erase_person(
            HER,
            profiles=stores.profiles,
            erasure=stores.erasure,
            tools={},
            salt=SALT,
            request_id="req-hana",
            sync_state=stores.sync_state,
            suppression=stores.suppression,
            dead_letters=queue,
            identity=_settings(stores),
        )
        # THEN her export listed the shop record her erasure took out, and not her namesake's
        assert report.counts["dead_letter_records"] == 1
        assert found is not None
        assert [r.key for r in found.dead_letters] == ["shop:contact:2"]
