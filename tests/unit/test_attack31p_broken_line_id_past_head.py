"""attack31p: an erased person's long broken line is kept when her record id is written past its head.

attack30's fix reads a broken line's ``source``, ``object_type``, ``id``, ``owner_id``, ``owner_type``
and ``country`` members (profilesync/erased_quarantine.py ``_members``), so that her line is found by
her record id as a JSON object's is. It reads them in the entry's ``line``, which connectors/jsonl
``_bad_line`` cuts at 500 characters; past the cut only addresses and phone-like numbers are kept
(``beyond_head``). A record whose keys are written sorted (``jq -S``, ``json.dumps(sort_keys=True)``:
what many export scripts write) puts Shopify's ``addresses`` and ``default_address`` before ``id``: here
Shopify's own example customer (the fixture of Shopify/shopify_python_api, MIT, as its REST docs
show it) in a shop's export, the last line cut short by a full disk. Its ``id``, ``object_type`` and
``source`` members are all past character 500, and the first ``id`` member in the head is her
address's (``_members`` takes the first of each name at any depth: a nested id is read as the
record's, and the address's ``country`` as hers).

Erased by her record id (Shopify's ``customers/redact`` webhook names the customer id alone; with
nobody holding it, the erasure suppresses ``source#shopify:customer:207119551``), her line is not hers:
it stays in ``resolve``'s quarantine file with her street, city, zip and phone in its head. The same
line as a JSON object is hers and dropped (the control), as is the broken line whose ``id`` falls in the
head.

Fix idea: keep the ``_MEMBERS`` found past the head in ``beyond_head`` too (connectors/jsonl
``_bad_line``), and read them at the line's top level only (the depth of braces and brackets before a
member, counted outside string literals), so a nested ``id`` is not taken for the record's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from connectors.jsonl import line_outcome
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined, RecordDraft
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

#: Shopify's example customer (Shopify/shopify_python_api test/fixtures/customer.json, MIT licence),
#: its address given an id of its own (the fixture reuses the customer's; a shop's address ids are
#: their own: Shopify's docs show 207119551's address as 207119551 too, which hid the next finding).
ADDRESS_ID = 1053317287
_ADDRESS = {
    "address1": "Chestnut Street 92",
    "address2": "",
    "city": "Louisville",
    "company": None,
    "country": "United States",
    "first_name": None,
    "id": ADDRESS_ID,
    "last_name": None,
    "phone": "555-625-1199",
    "province": "Kentucky",
    "zip": "40202",
    "name": "",
    "province_code": "KY",
    "country_code": "US",
    "country_name": "United States",
    "default": True,
}
CUSTOMER: dict[str, Any] = {
    "accepts_marketing": False,
    "created_at": "2015-05-27T18:11:24-04:00",
    "email": "bob.norman@hostmail.com",
    "first_name": "Bob",
    "id": 207119551,
    "last_name": "Norman",
    "last_order_id": 450789469,
    "multipass_identifier": None,
    "note": None,
    "orders_count": 1,
    "state": "disabled",
    "tax_exempt": False,
    "total_spent": "41.94",
    "updated_at": "2015-05-27T18:11:24-04:00",
    "verified_email": True,
    "tags": "",
    "last_order_name": "#1001",
    "default_address": _ADDRESS,
    "addresses": [_ADDRESS],
}
RECORD_ID = "source#shopify:customer:207119551"


def _erased(entry: Quarantined) -> bool:
    """Whether ``entry`` is hers, erased by her record id alone (nobody held it)."""
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, "attack31p-id")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(RECORD_ID), "source", "req-redact", at)])
    return erased_check(check, NormaliseOptions(default_region="US"))(entry)


def _line(sort_keys: bool) -> str:
    return json.dumps({"source": "shopify", "object_type": "customer", **CUSTOMER}, sort_keys=sort_keys)


def _cut_short(text: str) -> Quarantined:
    """The line cut short (a full disk ended the export mid-line): quarantined, not valid JSON."""
    short = text[: text.index('"verified_email"')]
    entry = line_outcome(1, short, len(short), "shopify")
    assert isinstance(entry, Quarantined), entry
    return entry


REASON = (
    "profilesync/erased_quarantine.py:87 _members reads a broken line's id in the 500 characters "
    "connectors/jsonl/__init__.py:223 _bad_line keeps, and beyond_head keeps addresses and phones only, "
    "so an id past the head (sorted keys: addresses first) is not read, and a nested id (her address's) "
    "is taken for it; fix idea: keep the _MEMBERS found past the head in beyond_head, read at top level"
)


def test_her_broken_line_with_sorted_keys_is_hers_by_her_record_id() -> None:
    # GIVEN her export line written with sorted keys, cut short, her id past the 500 kept
    entry = _cut_short(_line(sort_keys=True))
    assert _line(sort_keys=True).index('"id": 207119551,') > 500  # the customer's id
    assert _line(sort_keys=True).index(f'"id": {ADDRESS_ID},') < 500  # her address's, read as the record's
    assert "Chestnut Street 92" in json.dumps(entry.raw)  # her address is in the entry
    # WHEN she was erased by her record id (the shop's redact webhook) THEN the line is hers
    assert _erased(entry)


def test_control_her_broken_line_with_the_id_in_its_head_is_hers() -> None:
    """Passes on main (attack30's ``_members``); catches the broken line's id member not read."""
    assert _line(sort_keys=False).index('"id": 207119551') < 500
    assert _erased(_cut_short(_line(sort_keys=False)))


def test_control_her_line_as_a_json_object_is_hers() -> None:
    """Passes on main: a quarantined JSON object (here: its ``updated_at`` in no format read) is read
    for its ``id`` wherever it is written."""
    line = json.loads(_line(sort_keys=True))
    line["updated_at"] = "27/05/2015 18:11"
    text = json.dumps(line, sort_keys=True)
    draft = line_outcome(1, text, len(text), "shopify")
    assert isinstance(draft, RecordDraft), draft
    outcome = normalise_record(draft)
    assert isinstance(outcome, Quarantined), outcome
    assert _erased(outcome)
