"""The Lambda layer keeps the country-name catalogues core/normalise/_country_translations.py reads
(and nothing else of pycountry's 22 MB of translations): without them ``Italie`` is no country in
Lambda while it is one on a laptop."""

from __future__ import annotations

import gettext
import shutil
import sys
from pathlib import Path

import pycountry

from core.normalise._country_translations import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_lambda  # noqa: E402


def test_the_layer_keeps_the_catalogues_of_the_languages_the_lookup_reads() -> None:
    # The build script needs only the standard library, so it names the languages itself.
    assert tuple(build_lambda.KEPT_LOCALES) == tuple(LANGUAGES)


def test_trimming_keeps_each_languages_country_names_and_drops_the_rest(tmp_path: Path) -> None:
    # GIVEN an installed pycountry with two languages' catalogues, French read by the lookup and
    # Abkhaz not
    source = Path(pycountry.LOCALES_DIR)
    locales = tmp_path / "pycountry" / "locales"
    for lang in ("fr", "ab"):
        shutil.copytree(source / lang, locales / lang)
    assert (locales / "fr" / "LC_MESSAGES" / "iso639-3.mo").is_file()
    # WHEN the layer is trimmed
    build_lambda._trim(tmp_path)
    # THEN only French country names are left, and they still translate
    left = sorted(p.relative_to(locales).as_posix() for p in locales.rglob("*") if p.is_file())
    assert left == ["fr/LC_MESSAGES/iso3166-1.mo"]
    french = gettext.translation("iso3166-1", str(locales), languages=["fr"])
    assert french.gettext("Italy") == "Italie"
