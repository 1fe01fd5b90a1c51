"""attack22: a ``segments`` threshold of absurd magnitude in profilesync.yaml gets a clear error.

Fixed by the lead: core/segment_rules.py ``Threshold`` (above 0, at most 10**15, to the millionth).

``SegmentsSection`` (core/segment_rules.py) takes any finite Decimal above 0: YAML reads ``1e999999999``
(no dot) as a string, and ``Decimal("1e999999999")`` is finite, so the document parses without a
word. Every ingest then fingerprints the rules (core/grow_mark.py ``rules_fingerprint``:
``format(threshold.normalize(), "f")``), and ``normalize`` in the default decimal context (Emax
999999) raises ``decimal.Overflow``: ``profilesync resolve`` with that document stops with
"unexpected error (Overflow: [<class 'decimal.Overflow'>]) ... report it if it persists", naming
neither the document nor the setting. (``1e-999999999`` normalises to 0 silently: two different
tiny thresholds get one fingerprint.) A threshold of 10**15 major units is past any real customer.
"""

from __future__ import annotations

import pytest

from core.config import parse_config
from core.errors import ConfigurationError
from core.grow_mark import rules_fingerprint


@pytest.mark.parametrize("threshold", ["1e999999999", "1e-999999999", '"1E+400000000"'])
def test_a_threshold_of_absurd_magnitude_is_a_clear_error(threshold: str) -> None:
    # GIVEN a segments section whose EUR threshold has an exponent of hundreds of millions
    document = f"version: 1\nsegments:\n  vip_lifetime_value:\n    EUR: {threshold}\n"
    # WHEN it is read THEN it is refused by name, before any ingest fingerprints it
    with pytest.raises(ConfigurationError, match="vip_lifetime_value"):
        parse_config(document, "profilesync.yaml")


def test_equal_thresholds_spelt_otherwise_have_one_fingerprint() -> None:
    # The promise a bound must keep (a fix must not break it): 1E+3, 1000 and 1000.00 are one
    # threshold, so one fingerprint (core.grow_mark leaves add-only customers alone under it).
    # Catches rules_fingerprint without .normalize() or without format "f" (str gives "1E+3").
    spelt = [f"segments:\n  vip_lifetime_value:\n    EUR: {t}\n" for t in ("1E+3", "1000", "1000.00")]
    prints = {rules_fingerprint(parse_config(text, "p.yaml").segments.rules()) for text in spelt}
    assert len(prints) == 1


def test_a_currency_named_twice_is_a_clear_error() -> None:
    # GIVEN a segments section that names EUR twice, 1000 then 5
    document = "version: 1\nsegments:\n  vip_lifetime_value:\n    EUR: 1000\n    USD: 1200\n    EUR: 5\n"
    # WHEN it is read THEN it is refused, naming the key, not read as a 5 EUR threshold
    with pytest.raises(ConfigurationError, match="EUR"):
        parse_config(document, "profilesync.yaml")


@pytest.mark.parametrize(
    ("document", "source"),
    [
        ('{"segments": {"vip_lifetime_value": {"EUR": 1000, "EUR": 5}}}', "profilesync.json"),
        ("version: 1\nconnectors:\n  hubspot: {}\nconnectors:\n  stripe: {}\n", "profilesync.yaml"),
    ],
)
def test_a_key_written_twice_is_an_error_in_json_and_in_every_section(document: str, source: str) -> None:
    # lead (core/documents.py): json.loads keeps the last of two keys too, and any section may repeat one
    with pytest.raises(ConfigurationError, match="twice"):
        parse_config(document, source)


def test_a_merge_key_is_no_repeat() -> None:
    # YAML's merge key (<<) brings keys the mapping then overrides: that is no key written twice
    document = (
        "version: 1\nbase: &b {EUR: 1000}\nsegments:\n  vip_lifetime_value:\n    <<: *b\n    EUR: 900\n"
    )
    with pytest.raises(ConfigurationError, match="base"):  # an unknown section, not a repeat
        parse_config(document, "profilesync.yaml")
