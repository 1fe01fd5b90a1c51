"""A ``fuzzy`` suppression entry in a form this version does not read (written by a later version),
on the three stores: ingest of a record filed under its look-up key stores nothing and says why (a
``StoreLayoutError``, which ``ingest_isolating`` raises rather than quarantine: the records wait in
their queue), and an erasure or a lift meeting it leaves it as it is. Without the check, the reader weighed
the record against what it could make of the entry: with the fields renamed it stored her record
(an erased person's), the other forms it quarantined with a ``TypeError`` or ``AttributeError``."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.errors import StoreLayoutError
from core.identity import IdentityPolicy
from core.isolation import ingest_isolating
from core.storage import dynamodb_suppression, memory_privacy, sqlite_privacy
from core.suppression_fuzzy import _PRESENT, _VALUES, fingerprint_entries
from core.suppression_prints import FIELDS, UnknownFingerprintsError, prints_by_erasure
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_fuzzy_suppression_on_every_store import HANA, SALT, _settings

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
CRM = make_record("crm", "1", email="hana.sato@corp.jp", traits={**HANA, "postcode": "M4 5JD"})
SHOP = make_record("shop", "2", email="hanasato92@icloud.com", traits={**HANA, "address": "8 Mill Ln"})


def _future_forms() -> dict[str, object]:
    (entry, *_) = fingerprint_entries([CRM], IdentityPolicy(), SALT, "req-hana", AT)
    mine = json.loads(entry.fingerprint)
    return {
        "versioned object": {"format": 3, "erasures": {"req-hana": mine}},
        "renamed fields": [{f"v3.{k}": v for k, v in mine[0].items()}],
        "tagged, renamed field": {"req-hana": [{**mine[0], "dob_v2": "x"}], "req-ann": mine},
        "hash list": list(mine[0].values()),
        "number value": {"req-hana": 3},
    }


FORMS = _future_forms()


@pytest.mark.parametrize("form", sorted(FORMS))
def test_ingest_meeting_fingerprints_it_cannot_read_stores_nothing_and_says_why(
    kit: StoreKit, form: str
) -> None:
    assert kit.suppression is not None
    entries = fingerprint_entries([CRM], IdentityPolicy(), SALT, "req-hana", AT)
    future = [replace(e, fingerprint=json.dumps(FORMS[form])) for e in entries]
    with pytest.MonkeyPatch.context() as later_version:  # writes the entries as they are
        for module in (memory_privacy, sqlite_privacy, dynamodb_suppression):
            later_version.setattr(module, "merged", lambda _stored, new: new)
        kit.suppression.suppress(future)
    # WHEN her shop record, filed under the same look-up keys, is ingested
    with pytest.raises(UnknownFingerprintsError, match="later version") as raised:
        ingest_isolating([SHOP], kit.profiles, _settings(kit))
    # THEN it is not stored, not quarantined (a layout error, not the record's), and the entry stays
    assert isinstance(raised.value, StoreLayoutError)
    assert kit.profiles.get_owners(["source#shop:contact:2"]) == {}
    assert [kit.suppression.entry(e.hash) for e in future] == future
    # AND an erasure adding fingerprints under that key fails, leaving the entry as it is
    ann = fingerprint_entries([CRM], IdentityPolicy(), SALT, "req-ann", AT)
    with pytest.raises(UnknownFingerprintsError):
        kit.suppression.suppress(ann)
    assert [kit.suppression.entry(e.hash) for e in future] == future
    # AND so does lifting her erasure (she signed up again)
    with pytest.raises(UnknownFingerprintsError):
        kit.suppression.lift(future[0].hash)
    assert [kit.suppression.entry(e.hash) for e in future] == future


def test_the_fields_a_reader_knows_are_those_a_fingerprint_is_made_of() -> None:
    assert frozenset({*_VALUES, *_PRESENT}) == FIELDS
    (entry,) = fingerprint_entries([CRM], IdentityPolicy(), SALT, "req-hana", AT)[:1]
    assert prints_by_erasure(entry) == {"req-hana": json.loads(entry.fingerprint)}
