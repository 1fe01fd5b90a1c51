"""attack23: a currency written twice through a YAML merge key (``<<``) is read without a word.

Last round (f17363a, attack22's finding) made core/documents.py refuse a key written twice in one
mapping of profilesync.yaml: ``EUR: 1000`` then ``EUR: 5`` silently made every buyer ``vip``.
``NoRepeatsLoader.construct_mapping`` checks a mapping's own keys and skips its merge key (a merged
value may be overridden by the mapping's own, as YAML allows). But PyYAML's ``flatten_mapping``
splices a merged mapping's pairs into the parent without constructing that mapping on its own, so
its keys are never checked: ``<<: {EUR: 1000, EUR: 5}`` (a key written twice in one mapping) reads
as 5. And two merged mappings that both name a currency (``<<: [*eu_defaults, *eu_sale]``) give one
of the two without a word (PyYAML takes the later; YAML's merge spec says the earlier wins), so the
document's reader cannot tell which threshold is in force.
"""

from __future__ import annotations

import pytest

from core.config import parse_config
from core.errors import ConfigurationError

VIP = "segments:\n  vip_lifetime_value:\n"


@pytest.mark.parametrize(
    "body",
    [
        "    <<: {EUR: 1000, EUR: 5}\n",
        "    <<: [{EUR: 1000}, {EUR: 5}]\n",
    ],
    ids=["twice-in-one-merged-mapping", "in-two-merged-mappings"],
)
def test_a_currency_written_twice_through_a_merge_key_is_an_error_naming_it(body: str) -> None:
    # GIVEN the euro threshold written twice, through a merge key
    # WHEN the document is read THEN it is refused, naming the key (as without the merge key)
    with pytest.raises(ConfigurationError, match="EUR"):
        parse_config(VIP + body, "profilesync.yaml")


def test_control_twice_without_a_merge_key_is_an_error_and_an_override_is_not() -> None:
    with pytest.raises(ConfigurationError, match="EUR"):
        parse_config(VIP + "    EUR: 1000\n    EUR: 5\n", "profilesync.yaml")
    # the mapping's own key overrides a merged one: YAML's merge, allowed (the loader's own comment)
    config = parse_config(VIP + "    <<: {EUR: 1000, JPY: 500}\n    EUR: 5\n", "profilesync.yaml")
    assert {k: str(v) for k, v in config.segments.vip_lifetime_value.items()} == {"EUR": "5", "JPY": "500"}
