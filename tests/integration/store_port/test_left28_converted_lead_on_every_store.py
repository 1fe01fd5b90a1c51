"""left28: a converted lead's own address joins her member of that address, on every store.

The converted lead is a child of the contact it became and, being her own record, keeps its address
(``RecordDraft.same_person_as_owner``): on memory, SQLite and DynamoDB (moto) the member of that
address arriving before or after the lead is in her profile, and an erasure request naming the
address takes her contact, lead and member out.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person
from core.schema import Identifier, RecordDraft, SourceRecord
from core.testing.invariants import store_problems
from tests.integration.store_port.conftest import StoreKit

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORK = "ihalvorsen@fjordtech.example"
NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _records() -> dict[str, SourceRecord]:
    drafts = {
        "contact": RecordDraft(
            source="salesforce",
            object_type="contact",
            source_id="0031",
            updated_at=T,
            emails=["ingrid@example.no"],
        ),
        "lead": RecordDraft(
            source="salesforce",
            object_type="lead",
            source_id="00Q1",
            updated_at=T,
            emails=[WORK],
            owner_type="contact",
            owner_id="0031",
            same_person_as_owner=True,
            consent={"email": {"granted": False, "changed_at": datetime(2026, 3, 1, tzinfo=UTC)}},
        ),
        "member": RecordDraft(
            source="mailchimp",
            object_type="member",
            source_id="m1",
            updated_at=T,
            emails=[WORK],
            consent={"email": {"granted": True, "changed_at": datetime(2026, 2, 1, tzinfo=UTC)}},
        ),
    }
    out = {name: normalise_record(draft) for name, draft in drafts.items()}
    assert all(isinstance(r, SourceRecord) for r in out.values()), out
    return out  # type: ignore[return-value]


@pytest.mark.parametrize(
    "calls",
    [[["member"], ["contact", "lead"]], [["lead"], ["member"], ["contact"]], [["contact", "lead", "member"]]],
)
def test_her_member_joins_the_lead_and_an_erasure_of_the_address_takes_her_out(
    kit: StoreKit, calls: list[list[str]]
) -> None:
    records = _records()
    # GIVEN her contact, her converted lead and her member of the lead's address, ingested in turns
    for names in calls:
        ingest([records[n] for n in names], kit.profiles, NO_SLEEP)
    # THEN she is one profile holding all three, opted out as she said on the lead
    profiles = list(kit.profiles.iter_profiles())
    assert store_problems(profiles, kit.profiles.ident_owners()) == []
    (hers,) = profiles
    assert {s.id for s in hers.sources} == {"0031", "00Q1", "m1"}
    assert hers.consent["email"].granted is False
    # AND an erasure request naming the lead's address takes all three out
    if kit.erasure is None:
        return
    erase_person(
        Identifier(kind="email", value=WORK),
        profiles=kit.profiles,
        erasure=kit.erasure,
        tools={},
        salt="unit-salt",
        request_id="req-1",
        sync_state=kit.sync_state,
        suppression=kit.suppression,
    )
    assert list(kit.profiles.iter_profiles()) == []
