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


@pytest.mark.xfail(
    strict=True,
    reason=(
        "core/config.py:305 reads the document with yaml.safe_load, which keeps the last of two equal "
        "keys without a word: a currency named twice (a threshold pasted below an old one) makes the "
        "second the threshold, here 5 EUR, so every buyer is vip. Fix: a SafeLoader subclass whose "
        "construct_mapping raises on a repeated key, reported as a ConfigurationError naming the key "
        "and its line (it guards every section: connectors, identity, segments)"
    ),
)
def test_a_currency_named_twice_is_a_clear_error() -> None:
    # GIVEN a segments section that names EUR twice, 1000 then 5
    document = "version: 1\nsegments:\n  vip_lifetime_value:\n    EUR: 1000\n    USD: 1200\n    EUR: 5\n"
    # WHEN it is read THEN it is refused, naming the key, not read as a 5 EUR threshold
    with pytest.raises(ConfigurationError, match="EUR"):
        parse_config(document, "profilesync.yaml")
