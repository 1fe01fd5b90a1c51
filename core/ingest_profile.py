"""A new customer's profile item, written straight from its records: core.ingest_fresh's profile.

``core.ingest_fresh`` writes the PROFILE item of a new customer as ``profile_json`` and
``profile_hash`` of ``build_profile(survivor, records, rules, 1)``: a ``Profile`` model and a
``SourceRef`` per record (and a ``TraitValue`` per trait), serialised by pydantic for the hash,
with the customer id and version put around that body for the item. ``new_profile`` writes the
same text with fewer models: the profile's fields as one dict, the single record's traits and
every record's source reference as plain dicts, the rest (identifiers, several records' traits by
core.merge's own survivorship, consent, computed traits) as the models core.merge makes; all of it
serialised once by ``pydantic_core.to_json``, which writes a model by its own serializer and a
plain value (a string, a time, a bool) as a model's field of that type is written.
13.9 against 16.6 µs a record (the new customers of the first four batches of bench.resolve_scaling's
250k file, in a loop; load 5 to 7).
tests/unit/test_ingest_profile.py compares the text and the hash with the models' on generated
records; tests/unit/test_ingest_fresh.py compares every stored item with the general path's.
"""

from __future__ import annotations

from pydantic_core import to_json

from core.content_hash import content_digest
from core.merge import MergeRules, _identifiers, _winning_consent, _winning_traits, compute_traits
from core.schema import SourceRecord

__all__ = ["new_profile"]


def new_profile(customer_id: str, records: list[SourceRecord], rules: MergeRules) -> tuple[str, str]:
    """``(profile_json(p), profile_hash(p))`` for ``p = build_profile(customer_id, records, rules,
    1)``; ``records`` sorted by key, each key once (a batch's newest versions)."""
    keyed = [(r.key, r) for r in records]
    body = to_json(
        {
            "identifiers": _identifiers(keyed),
            "traits": _winning_traits(keyed, rules, dict),
            "computed": compute_traits(records, rules),
            "consent": _winning_consent(keyed, dict) if any(r.consent for r in records) else {},
            "sources": [
                {
                    "source": r.source,
                    "object_type": r.object_type,
                    "id": r.source_id,
                    "updated_at": r.updated_at,
                }
                for r in records
            ],
        }
    )
    digest = content_digest(body)
    return f'{{"customer_id":{to_json(customer_id).decode()},{body[1:-1].decode()},"version":1}}', digest
