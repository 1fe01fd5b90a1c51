"""attack17: a HubSpot contact whose country is written in the language of the form she filled in.

HubSpot's default contact property ``country`` ("Country/Region") is a single-line text field: what
the person typed on a form, in the form's language. A French-language form of a shop that sells
across Europe gets ``Italie`` from an Italian customer, a German one ``Italien``; her phone, typed as
Italians write it, is ``320 555 7788`` (ten digits, no trunk ``0``).

core/normalise/_country.py reads English names, ISO codes and a list of countries' own names
(endonyms: ``Italia``, ``Deutschland``), added after "a German shop's 'Deutschland' was no country,
and its customers' phones were read as US numbers". A country's name in a third language (an
exonym: ``Italie``, ``Italien``, ``Allemagne``, ``Estados Unidos``) is still no country: the trait is
dropped, so core/normalise/_record.py ``_phone_reader`` reads her phone in the default region, where
``320 555 7788`` is a valid ``+1 320-555-7788``: an American's number, and the two become one
profile. pycountry, which the lookup is built from, ships these names (its ``iso3166-1`` gettext
catalogues: 163 locales, ``Italie`` for French, ``Italien`` for German).

Promise: one person, one profile; a country a person wrote in her language is read as that country.
(fix17: core/normalise/_country_translations.py reads those catalogues for 30 common languages.)
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.hubspot._mapping import contact_to_draft
from core.normalise import normalise_country, normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore

STAMP = "2026-03-02T09:15:00.000Z"


def _contact(contact_id: str, email: str, first: str, last: str, phone: str, country: str) -> dict[str, Any]:
    """A contact as ``GET /crm/v3/objects/contacts`` lists it (every property a string)."""
    return {
        "id": contact_id,
        "properties": {
            "email": email,
            "firstname": first,
            "lastname": last,
            "phone": phone,
            "country": country,
            "createdate": STAMP,
            "lastmodifieddate": STAMP,
            "hs_object_id": contact_id,
        },
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "archived": False,
    }


def _profiles(her_country: str) -> tuple[Any, Any]:
    giulia = _contact("501", "giulia.ferri@example.it", "Giulia", "Ferri", "320 555 7788", her_country)
    dale = _contact(
        "502", "dale.lindqvist@example.com", "Dale", "Lindqvist", "(320) 555-7788", "United States"
    )
    records = [normalise_record(contact_to_draft(c)) for c in (giulia, dale)]
    assert all(isinstance(r, SourceRecord) for r in records)
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    found = {r.key: p for p in store.iter_profiles() for r in p.sources}
    return found["hubspot:contact:501"], found["hubspot:contact:502"]


@pytest.mark.parametrize("country", ["Italy", "Italia", "IT"])
def test_her_country_in_english_her_language_or_its_code_keeps_the_two_apart(country: str) -> None:
    """The guard (green before and after)."""
    hers, his = _profiles(country)
    assert hers.customer_id != his.customer_id
    assert {i.value for i in hers.identifiers if i.kind == "phone"} == {"+393205557788"}


@pytest.mark.parametrize("country", ["Italie", "Italien"])
def test_her_country_in_a_third_language_is_her_country(country: str) -> None:
    # GIVEN her contact with her country in the form's language and her national mobile, and an
    # American contact whose number has the same ten digits
    # WHEN both are resolved
    hers, his = _profiles(country)
    # THEN they are two people, and her number is the Italian one
    assert hers.customer_id != his.customer_id
    assert {i.value for i in hers.identifiers if i.kind == "phone"} == {"+393205557788"}


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Allemagne", "DE"),
        ("Espagne", "ES"),
        ("Estados Unidos", "US"),
        ("Royaume-Uni", "GB"),
        ("Frankreich", "FR"),
    ],
)
def test_a_country_named_in_another_language_is_read(written: str, code: str) -> None:
    assert normalise_country(written) == code
