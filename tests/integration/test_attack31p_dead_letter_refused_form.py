"""attack31p: her dead letter naming her only in a refused email value outlives her erasure, on every store.

Her erasure removes her records from the dead-letter queue by core/privacy_request.py
``record_matcher``: a record whose key is one of her records' or one of whose *identifiers* (or their
mailboxes) is one of her finding keys (with probabilistic identity, the fuzzy matcher too). A record of
hers whose email field holds her address in a form that is no address (``Ann Smith
<ann.smith@gmail.com>``, a display name an export writes) has no email identifier: her address is in
its dropped values. Beside a household's phone, merge drops exactly such a record after her erasure
as hers (docs/privacy.md, "Suppression": of the kind of value that names her it holds nothing else),
and would have joined it to the household otherwise. The dead-letter queue's copy is not matched: the
erasure answers ``erased`` and the queue keeps her name and address for its 14 days (a redrive then
drops it at merge, but the erasure said it took her dead letters).

Fix idea: ``record_matcher`` also reads a record's refused values (core.suppression's
``_refused_by_value``, the rule merge applies) and takes a record that names her there and holds no
other value of that kind.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.normalise import normalise_record
from core.privacy import erase_person
from core.schema import Identifier, RecordDraft, SourceRecord
from core.suppression import SuppressionCheck
from core.testing.records import make_record
from tests.integration.test_attack14_mailbox_copies import HER, _DeadLetters
from tests.integration.test_erasure_attacks import SALT, Stores, stores

__all__ = ["stores"]  # the fixture (every store of test_erasure_attacks), imported for pytest

AT = datetime(2026, 3, 1, tzinfo=UTC)
HOUSEHOLD = "+12015550123"


def _dead_letter(email: str) -> SourceRecord:
    """Her shop record, dead-lettered: her address as the export wrote it, the household's phone."""
    draft = RecordDraft(
        source="shop",
        source_id="ann-9",
        updated_at=AT,
        emails=[email],
        phones=[HOUSEHOLD],
        traits={"first_name": "Ann", "last_name": "Smith"},
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


def _erase(stores: Stores, dead: _DeadLetters) -> dict[str, int]:
    report = erase_person(
        Identifier(kind="email", value=HER),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-31p-dead",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        dead_letters=dead,
    )
    assert (report.found, report.outcome) == (True, "erased")
    return dict(report.counts)


REASON = (
    "core/privacy_request.py:228 record_matcher takes a dead letter by its key or identifiers only, "
    "not by the refused values merge reads (core/suppression.py:218 _refused_by_value): her record "
    "naming her in a display-name email beside a household's phone stays in the queue; fix idea: "
    "match refused values as merge's check does"
)


def test_her_dead_letter_naming_her_in_a_refused_value_goes_with_her_erasure(stores: Stores) -> None:
    # GIVEN her CRM contact stored, and her shop record (her address in a display-name form, the
    # household's phone) in the dead-letter queue
    stores.ingest([make_record("crm", "ann", email=HER, traits={"first_name": "Ann"})])
    record = _dead_letter(f"Ann Smith <{HER}>")
    assert [i.kind for i in record.identifiers] == ["phone", "source"]
    dead = _DeadLetters([record])
    # AND merge's check would drop it as hers once she is erased (the rule the queue must follow)
    _erase(stores, dead)
    _, dropped = SuppressionCheck(stores.suppression, SALT).split([record])
    assert dropped == [record]
    # THEN her erasure took it from the queue
    assert dead.kept == []


def test_control_her_dead_letter_by_her_address_goes(stores: Stores) -> None:
    """Passes on main: the same record with her address as its identifier is taken. Catches
    ``record_matcher`` no longer reading identifiers."""
    stores.ingest([make_record("crm", "ann", email=HER, traits={"first_name": "Ann"})])
    dead = _DeadLetters([_dead_letter(HER)])
    assert _erase(stores, dead)["dead_letter_records"] == 1
    assert dead.kept == []
