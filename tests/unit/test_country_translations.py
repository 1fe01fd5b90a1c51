"""Country names in other languages (core/normalise/_country_translations.py): read from pycountry's
gettext catalogues, folded as the English names are, and refused when they name two countries.

Red first on main (c822216): every name below raised ``not a known country code or name``.
"""

from __future__ import annotations

import pytest

from core.errors import NormalisationError
from core.normalise import normalise_country


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Italie", "IT"),  # fr
        ("ITALIEN", "IT"),  # de, any case
        ("Países Bajos", "NL"),  # es, accents
        ("paises bajos", "NL"),  # and without them
        ("Vereinigte Staaten", "US"),  # de
        ("Wielka Brytania", "GB"),  # pl
        ("Германия", "DE"),  # ru
        ("ドイツ", "DE"),  # ja
        ("Fas", "MA"),  # tr: three letters, yet no code
    ],
)
def test_a_country_named_in_a_common_language_is_read(written: str, code: str) -> None:
    assert normalise_country(written) == code


@pytest.mark.parametrize("written", ["Sveti Martin", "Saint-Martin", "Jomfruøyene"])
def test_a_name_that_names_two_countries_is_refused_not_guessed(written: str) -> None:
    # GIVEN a name that two catalogues (or one) give to two countries: the French and the Dutch part
    # of Saint Martin, the British and the American Virgin Islands
    # WHEN it is read THEN it is refused, saying it is ambiguous, rather than one of them picked
    with pytest.raises(NormalisationError, match="ambiguous"):
        normalise_country(written)


@pytest.mark.parametrize(("written", "code"), [("MY", "MY"), ("ao", "AO"), ("BI", "BI")])
def test_codes_win_over_translated_names(written: str, code: str) -> None:
    """Vietnamese ``Mỹ`` (the United States), ``Áo`` (Austria), ``Bỉ`` (Belgium) fold to other
    countries' codes: a code stays the country it is."""
    assert normalise_country(written) == code


@pytest.mark.parametrize("written", ["Úc", "Ý", "Narnia"])
def test_short_folded_names_and_unknown_names_stay_no_country(written: str) -> None:
    """``Úc`` and ``Ý`` (Vietnamese for Australia and Italy) fold into the code space (``uc``, ``y``):
    a one- or two-letter value is a code or nothing."""
    with pytest.raises(NormalisationError, match="not a known country"):
        normalise_country(written)


def test_slovakia_in_its_own_language_is_slovakia() -> None:
    """pycountry's Slovak catalogue also names Gambia ``Slovenská republika``: the endonym wins."""
    assert normalise_country("Slovenská republika") == "SK"
