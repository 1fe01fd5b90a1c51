"""``core.content_hash.profile_json`` writes exactly what ``Profile.model_dump_json`` writes.

The stores write a profile right after ``profile_hash`` serialised it for its hash; ``profile_json``
puts the customer id and the version around that body instead of serialising the profile again.
These tests pin the text to ``model_dump_json`` on the profiles of a generated population, on
arbitrary customer ids and versions, and on the paths where the kept body cannot be used.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.content_hash
from connectors.jsonl import draft_from_flat
from core.merge import build_profile, profile_hash, profile_json
from core.normalise import normalise_record
from core.schema import Profile, SourceRecord
from core.testing.population import population

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _groups() -> list[list[SourceRecord]]:
    by_person: dict[str, list[SourceRecord]] = {}
    for _, flat in population(200, seed=9):
        record = normalise_record(draft_from_flat(flat))
        if isinstance(record, SourceRecord):
            by_person.setdefault(record.source_id[1:], []).append(record)
    return list(by_person.values())


GROUPS = _groups()


def test_every_profile_of_a_population_is_written_as_model_dump_json_writes_it() -> None:
    """GIVEN the profiles of a population, hashed as ingest hashes them WHEN written THEN the text
    is model_dump_json's, and the body kept for it was used (not a second serialisation)."""
    assert any(len(group) > 1 for group in GROUPS)
    for number, group in enumerate(GROUPS):
        profile = build_profile(f"cus_{number:04d}", group, version=number % 7 + 1)
        profile_hash(profile)
        assert id(profile) in core.content_hash._RECENT_BODIES
        assert profile_json(profile) == profile.model_dump_json()
        assert id(profile) not in core.content_hash._RECENT_BODIES  # taken once, not kept


@SETTINGS
@given(
    customer_id=st.text(min_size=1, max_size=30),
    version=st.integers(min_value=0, max_value=2**62),
    which=st.integers(min_value=0, max_value=len(GROUPS) - 1),
    hashed=st.booleans(),
)
def test_any_customer_id_and_version_give_model_dump_json(
    customer_id: str, version: int, which: int, hashed: bool
) -> None:
    """GIVEN a profile with any customer id (quotes, controls, non-ASCII) and version, hashed first
    or not WHEN written THEN the text is model_dump_json's."""
    profile = build_profile(customer_id, GROUPS[which], version=version)
    if hashed:
        profile_hash(profile)
    assert profile_json(profile) == profile.model_dump_json()


def test_a_body_kept_for_another_profile_is_never_used() -> None:
    """GIVEN two equal-looking profiles of different content WHEN the first is hashed and dropped
    and many others are hashed after it THEN each is written from its own content."""
    first = build_profile("cus_a", GROUPS[0], version=1)
    profile_hash(first)
    for number in range(core.content_hash._RECENT_BODIES_KEPT + 5):  # pushes the first body out
        profile_hash(build_profile(f"cus_{number}", GROUPS[1], version=1))
    assert id(first) not in core.content_hash._RECENT_BODIES
    assert profile_json(first) == first.model_dump_json()
    second = Profile.model_validate_json(first.model_dump_json())
    assert profile_json(second) == first.model_dump_json()
    assert len(core.content_hash._RECENT_BODIES) <= core.content_hash._RECENT_BODIES_KEPT
