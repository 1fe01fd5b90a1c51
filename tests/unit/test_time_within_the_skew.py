"""A record stamped a few hours ahead, within the day of skew normalisation allows a vendor's clock.

Issue 11 read a time more than a day ahead as now, so that a record stamped 2099 cannot make every
later version of itself stale. A time less than a day ahead is kept as stamped: a device clock ten
hours fast, or a local time written as UTC once. It used to order the record too, so the next
version, stamped correctly an hour later, was older than the stored one and dropped as stale. Now a
record is ordered by ``min(stamped, read)`` (``SourceRecord.ordered_at``): nobody can have observed a
change from the future, so the correction read an hour later wins; the stamped time stays in the
record, flagged only beyond the skew.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _version(city: str, stamped: datetime, read_at: datetime) -> SourceRecord:
    draft = RecordDraft(
        source="crm", source_id="1", updated_at=stamped, emails=["ann@example.com"], traits={"city": city}
    )
    record = normalise_record(draft, NormaliseOptions(now=read_at))
    assert isinstance(record, SourceRecord)
    return record


@pytest.mark.parametrize(
    "ahead",
    [
        pytest.param(timedelta(days=2), id="beyond the skew: read as now"),
        pytest.param(
            timedelta(hours=10),
            id="within the skew: kept as stamped",
        ),
    ],
)
def test_a_record_stamped_ahead_does_not_make_its_correction_stale(ahead: timedelta) -> None:
    # GIVEN a version stamped ahead of the clock, then a correction an hour later
    store = InMemoryProfileStore()
    settings = IngestSettings(sleep=lambda _: None)
    ingest([_version("Leeds", NOW + ahead, NOW)], store, settings)
    hour = NOW + timedelta(hours=1)
    ingest([_version("York", hour, hour)], store, settings)
    # THEN the correction is what the profile holds
    [profile] = store.iter_profiles()
    assert profile.traits["city"].value == "York"
