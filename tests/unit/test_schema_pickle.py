"""Schema models pickle through ``_Frozen.__reduce__`` and come back as they were.

Records cross from the normalising worker to ``resolve`` pickled, in bulk, so the schema's models
pickle as their values and fields set (``core.schema_base._reassemble``) rather than through pydantic's
``__setstate__``. What comes back must be the same model: fields, the fields set (whether shared by
assembled models or a model's own), kept entries (a memoised key or hash), dumps and ``==``.
"""

from __future__ import annotations

import copy as copying
import pickle

from connectors.jsonl import draft_from_flat
from core.merge import build_profile, record_hash
from core.normalise import normalise_record
from core.schema import _ALL_FIELDS, ConsentState, Identifier, Profile, Quarantined, SourceRecord
from core.testing.population import population


def test_records_profiles_and_quarantine_entries_come_back_as_they_were() -> None:
    # GIVEN normalised records (keys and hashes kept), profiles built from them, quarantine entries
    records, quarantined = [], []
    for _, flat in population(120, seed=13):
        outcome = normalise_record(draft_from_flat(flat))
        (records if isinstance(outcome, SourceRecord) else quarantined).append(outcome)
    for record in records[::2]:
        record_hash(record)
        _ = record.key
    profiles = [build_profile(f"cus_{n}", [r], version=n) for n, r in enumerate(records[:40])]
    models = [*records, *quarantined, *profiles]
    assert quarantined
    # WHEN pickled and read back
    copies = pickle.loads(pickle.dumps(models))
    # THEN each is the same model of the same class, with the same kept entries and fields set
    for original, copy in zip(models, copies, strict=True):
        assert type(copy) is type(original)
        assert copy == original
        assert copy.__dict__ == original.__dict__
        assert copy.model_dump_json() == original.model_dump_json()
        assert copy.__pydantic_fields_set__ == original.__pydantic_fields_set__
        if original.__pydantic_fields_set__ is _ALL_FIELDS.get(type(original)):
            assert copy.__pydantic_fields_set__ is original.__pydantic_fields_set__  # still shared
        assert copy.__pydantic_extra__ is None
        assert copy.__pydantic_private__ is None


def test_a_validated_model_keeps_its_own_fields_set() -> None:
    # GIVEN models validated with defaults left out (their fields set is their own, not all fields)
    profile = Profile(customer_id="cus_1", identifiers=(Identifier(kind="email", value="a@example.com"),))
    consent = ConsentState.model_validate({"granted": True, "changed_at": "2026-01-01T00:00:00Z"})
    entry = Quarantined(source="crm", source_id="1", reason="no identifier")
    for model in (profile, consent, entry):
        # WHEN pickled and read back THEN the fields set is the model's own, and not shared
        copy = pickle.loads(pickle.dumps(model))
        assert copy.__pydantic_fields_set__ == model.__pydantic_fields_set__
        assert copy.__pydantic_fields_set__ is not _ALL_FIELDS.get(type(model))
        assert copy.model_dump_json(exclude_unset=True) == model.model_dump_json(exclude_unset=True)
        assert copy == model


def test_copies_never_share_the_original_values() -> None:
    # GIVEN a record with a memoised key (an entry _reassemble takes over as the copy's __dict__)
    record = normalise_record(draft_from_flat(dict(population(1, seed=3)[0][1])))
    assert isinstance(record, SourceRecord)
    _ = record.key
    # WHEN it is copied every way Python copies an object
    copies = [copying.copy(record), copying.deepcopy(record), pickle.loads(pickle.dumps(record))]
    # THEN each copy is equal and holds a __dict__ of its own: changing one changes no other
    for duplicate in copies:
        assert duplicate == record
        assert duplicate.__dict__ is not record.__dict__
        duplicate.__dict__["_probe"] = 1
        assert "_probe" not in record.__dict__
