"""The household case in odd orders, on the three stores (core.privacy_refused): her record under a
household member's customer by their shared phone, her address refused into its dropped values.

* a record naming two people in one refused field (hers and another's address): kept under its
  customer without that field, never deleted; the profile and the other records stay;
* a contact of the kept person with an address of its own naming her in a second, refused field
  (Anne's contact naming Bob as her assistant): kept with its own address, without her value;
* the record updated before her erasure with the refused value gone: nothing of it names her, it
  stays as it is (no stale lead from her address to it acts);
* her erasure before the record arrives: her suppression drops it at merge (a guard);
* the kept person's history no longer names her retired record (redacted as a retirement's);
* her address refused in another spelling of her Gmail mailbox: found by the mailbox;
* the kept person's customer frozen by a large merge in flight: nothing written over, the erasure
  answers retry (ConflictError), as for her own customer.

Red before the fix (core/privacy.py calling core.privacy_refused.take_out_refused): the first two
kept her address in the stored record's dropped values.
"""

from __future__ import annotations

import pytest

from core.errors import ConflictError
from core.governance.history import whole_history
from core.ports import Changeset, MarkMerging
from core.privacy import identifier_for
from core.schema import DroppedValue, SourceRecord
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_privacy22_on_every_store import _erase, _erasure, _stored

HER = "zephyrine.q@example.org"
HOUSEHOLD = "+44 20 7946 0555"
OLU = make_record("crm", "1", email="olu.adeyemi@example.com", phone=HOUSEHOLD, traits={"first_name": "Olu"})


def _refusing(source_id: str, value: str, day: int = 1, email: str | None = None) -> SourceRecord:
    record = make_record("crm", source_id, email=email, phone=HOUSEHOLD, day=day)
    return record.model_copy(update={"dropped": (DroppedValue(field="email", value=value, reason="x"),)})


def _customer(kit: StoreKit) -> dict[str, SourceRecord]:
    (profile,) = list(kit.profiles.iter_profiles())
    return kit.profiles.get_customers([profile.customer_id])[profile.customer_id].snapshots


def _names_her(record: SourceRecord) -> bool:
    return any(HER in d.value for d in record.dropped)


def test_a_record_naming_two_people_in_one_refused_field_is_kept_without_it(kit: StoreKit) -> None:
    # GIVEN a record whose refused email field holds her address and another person's
    both = _refusing("2", f"Zéphyrine <{HER}>, Ade <ade.b@example.net>")
    _stored(kit, OLU, both)
    # WHEN she is erased by her address
    report = _erase(kit, _erasure(kit), identifier_for(email=HER), "req-two")
    # THEN the record stays under the household's customer, without the field naming her
    kept = _customer(kit)
    assert set(kept) == {OLU.key, both.key}
    assert not _names_her(kept[both.key])
    assert kept[OLU.key] == OLU
    assert report.counts["refused_scrubbed"] == 1


def test_a_contact_with_its_own_address_keeps_it_without_her_value(kit: StoreKit) -> None:
    # GIVEN the kept person's contact naming her (his assistant) in a second, refused field
    own = _refusing("2", f"assistant: Zéphyrine <{HER}>", email="olu.work@example.com")
    _stored(kit, OLU, own)
    # WHEN she is erased
    _erase(kit, _erasure(kit), identifier_for(email=HER), "req-assistant")
    # THEN the contact and its own address stay; her value is gone
    kept = _customer(kit)
    assert kept[own.key].identifiers == own.identifiers
    assert not _names_her(kept[own.key])


def test_a_record_updated_without_the_refused_value_before_her_erasure_stays(kit: StoreKit) -> None:
    # GIVEN her record stored, then updated at the tool with the refused value gone
    _stored(kit, OLU, _refusing("2", f"Zéphyrine <{HER}>"))
    updated = make_record("crm", "2", phone=HOUSEHOLD, day=3, traits={"first_name": "Ola"})
    _stored(kit, updated)
    # WHEN she is erased by her address
    report = _erase(kit, _erasure(kit), identifier_for(email=HER), "req-updated")
    # THEN nothing names her, and the record stays as it is
    assert _customer(kit)[updated.key] == updated
    assert report.counts["refused_retired"] == report.counts["refused_scrubbed"] == 0


def test_her_record_arriving_after_her_erasure_is_dropped(kit: StoreKit) -> None:
    # GIVEN the household member stored, and her erasure by her address
    _stored(kit, OLU)
    _erase(kit, _erasure(kit), identifier_for(email=HER), "req-before")
    # WHEN her record arrives on the household's phone, her address refused
    _stored(kit, _refusing("2", f"Zéphyrine Quillfeather <{HER}>"))
    # THEN it is dropped as hers
    assert set(_customer(kit)) == {OLU.key}


def test_her_retired_record_leaves_the_kept_customers_history(kit: StoreKit) -> None:
    # GIVEN her record joined to the household's customer
    hers = _refusing("2", f"Zéphyrine Quillfeather <{HER}>")
    _stored(kit, OLU, hers)
    (profile,) = list(kit.profiles.iter_profiles())
    history = getattr(kit.profiles, "history", None)
    assert history is not None
    assert any(hers.key in e.source_keys for e in whole_history(history, profile.customer_id))
    # WHEN she is erased
    report = _erase(kit, _erasure(kit), identifier_for(email=HER), "req-history")
    # THEN her record is gone from the customer and from its history
    assert set(_customer(kit)) == {OLU.key}
    assert report.counts["refused_retired"] == 1
    assert not any(hers.key in e.source_keys for e in whole_history(history, profile.customer_id))


def test_her_record_refusing_another_spelling_of_her_mailbox_goes_with_her(kit: StoreKit) -> None:
    # GIVEN her record on the household's phone, her Gmail address refused in another spelling
    gmail = "zephyrine.quillfeather@gmail.com"
    hers = _refusing("2", "Zéphyrine <ZephyrineQuillfeather+shop@googlemail.com>")
    _stored(kit, OLU, hers)
    # WHEN she is erased by her address as she writes it
    report = _erase(kit, _erasure(kit), identifier_for(email=gmail), "req-mailbox")
    # THEN the record delivered to her mailbox goes with her
    assert set(_customer(kit)) == {OLU.key}
    assert report.counts["refused_retired"] == 1


def test_a_record_of_a_customer_being_merged_is_left_and_the_erasure_answers_retry(kit: StoreKit) -> None:
    # GIVEN the kept person's contact naming her in a second field, its customer marked as merging
    own = _refusing("2", f"assistant: Zéphyrine <{HER}>", email="olu.work@example.com")
    _stored(kit, OLU, own)
    (profile,) = list(kit.profiles.iter_profiles())
    state = kit.profiles.get_customers([profile.customer_id])[profile.customer_id]
    mark = MarkMerging(profile.customer_id, "c-elsewhere", state.version)
    assert kit.profiles.commit([Changeset("mark", (mark,))]) == []
    # WHEN she is erased
    with pytest.raises(ConflictError):
        _erase(kit, _erasure(kit), identifier_for(email=HER), "req-merging")
    # THEN nothing of the customer was written over: the request is sent again once the merge is done
    after = kit.profiles.get_customers([profile.customer_id])[profile.customer_id]
    assert after.snapshots[own.key] == own
