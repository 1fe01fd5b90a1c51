"""attack21: a family's shared inbox keeps Anna and Maria apart, but not Анна and Мария.

Probabilistic identity refuses to join two holders of one email or phone whose first names differ
(``core/linkage/conflicts.py`` ``shared_identifier_conflicts``: "A family inbox or a switchboard phone
is held by several people; their records give different first names"). It compares names as
``core/linkage/fields.py:105`` ``_name`` prepares them: ``fold`` (NFKD, combining marks dropped) and
then every character outside ``a-z`` removed. A name written in Cyrillic, Greek, Japanese, Chinese,
Arabic or Hebrew script folds to the empty string, which reads as no first name at all, so no
conflict: the sisters ``Анна`` and ``Мария Иванова`` who share the family's address, the Greek
``Άννα`` and ``Μαρία``, the Japanese ``美咲`` and ``陽菜`` are each made one profile (their
phones, orders, lifetime value and consent under one customer id, pushed to every tool), while
``Anna`` and ``Maria`` with the same address are kept apart. Klaviyo, Mailchimp, Shopify and
WooCommerce keep names as the person typed them (UTF-8 text), so a shop selling in Russia, Greece or
Japan has them in their own script.

Promise: no stranger joined (one person one profile) in ``identity.mode: probabilistic``.
Fix: compare first names written in the same script in that script (casefolded, accents dropped);
names in two different scripts (``Дмитрий`` in one tool, ``Dmitry`` in another, the same person)
stay no evidence unless a transliteration agrees. The guards below keep that case one person; a fix
by ``unidecode`` alone would read ``美咲`` as ``Mei Xiao`` and split Misaki from her own Latin record.
"""

from __future__ import annotations

import pytest

from core.link_scope import LinkageSettings
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore

SHARED = "semya.family@example.net"


def _record(source: str, number: int, first: str, last: str, phone: str) -> SourceRecord:
    record = normalise_record(
        RecordDraft(
            source=source,
            object_type="profile" if source == "klaviyo" else "contact",
            source_id=f"{source[:2]}{number}",
            updated_at=f"2026-08-0{number}T10:00:00Z",
            emails=[SHARED],
            phones=[phone],
            traits={"first_name": first, "last_name": last},
        )
    )
    assert isinstance(record, SourceRecord), record
    return record


def _profiles(people: list[tuple[str, str, str, str]]) -> list[set[str]]:
    """Each person a (source, first, last, phone) record with the shared email, resolved in
    probabilistic mode: the source keys of each profile."""
    records = [_record(source, n, f, last, ph) for n, (source, f, last, ph) in enumerate(people, 1)]
    store = InMemoryProfileStore()
    ingest(records, store, IngestSettings(linkage=LinkageSettings()))
    return [{f"{s.source}:{s.id}" for s in p.sources} for p in store.iter_profiles()]


def test_latin_sisters_on_one_inbox_are_two_people() -> None:
    """The guard (green before and after): the conflict evidence works for names in Latin script."""
    sisters = [
        ("klaviyo", "Anna", "Ivanova", "+7 916 123-45-67"),
        ("klaviyo", "Maria", "Ivanova", "+7 916 765-43-21"),
    ]
    assert len(_profiles(sisters)) == 2


@pytest.mark.parametrize(
    ("first", "last", "latin_first", "latin_last", "phone"),
    [
        ("Дмитрий", "Соколов", "Dmitry", "Sokolov", "+7 916 555-01-02"),
        ("Γιώργος", "Παπαδόπουλος", "Giorgos", "Papadopoulos", "+30 694 123 4567"),
        ("美咲", "佐藤", "Misaki", "Sato", "+81 90-1234-5678"),
    ],
)
def test_one_person_in_her_script_and_in_latin_is_one_person(
    first: str, last: str, latin_first: str, latin_last: str, phone: str
) -> None:
    """The guard (green before and after): the same person in her own script in Klaviyo and
    transliterated in Salesforce, with one email and one phone, stays one profile."""
    person = [("klaviyo", first, last, phone), ("salesforce", latin_first, latin_last, phone)]
    assert len(_profiles(person)) == 1


@pytest.mark.parametrize(
    ("one", "other", "last"),
    [("Анна", "Мария", "Иванова"), ("Άννα", "Μαρία", "Παπαδοπούλου"), ("美咲", "陽菜", "佐藤")],
    ids=["cyrillic", "greek", "japanese"],
)
def test_sisters_on_one_inbox_named_in_their_own_script_are_two_people(
    one: str, other: str, last: str
) -> None:
    # GIVEN two sisters who signed up at a shop with the family's one address, each her own mobile
    sisters = [("klaviyo", one, last, "+7 916 123-45-67"), ("klaviyo", other, last, "+7 916 765-43-21")]
    # WHEN resolved in probabilistic mode
    profiles = _profiles(sisters)
    # THEN they are two people, as Anna and Maria are (before: one profile of both)
    assert len(profiles) == 2
