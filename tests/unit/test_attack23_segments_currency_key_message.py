"""attack23: a segments currency written in lower case is refused with advice that says the opposite.

``segments.vip_lifetime_value`` takes ISO 4217 codes in capitals (``EUR``) or ``*``
(core/segment_rules.py ``CurrencyKey``). ``eur: 1000`` (the way Stripe writes currencies: "You must
use all lowercase letters") is refused, rightly, but core/config.py ``_problems`` words every key
pattern mismatch outside ``roles`` as a connector instance's: "instance names are lower-case letters,
digits, _ and -, starting with a letter". The operator who wrote ``eur`` in lower case is told to
write lower case; ``EURO`` and ``€`` get the same sentence.
"""

from __future__ import annotations

import pytest

from core.config import parse_config
from core.errors import ConfigurationError


@pytest.mark.parametrize("key", ["eur", "EURO", '"€"'])
def test_a_currency_key_that_is_no_code_is_refused_with_advice_about_currencies(key: str) -> None:
    document = f"segments:\n  vip_lifetime_value:\n    {key}: 1000\n"
    with pytest.raises(ConfigurationError) as refused:
        parse_config(document, "profilesync.yaml")
    message = str(refused.value)
    # THEN the message names the setting and says what a currency key is, not what an instance name is
    assert "vip_lifetime_value" in message
    assert "instance names" not in message
    assert "ISO 4217" in message


def test_control_an_instance_name_in_capitals_gets_the_instance_advice() -> None:
    with pytest.raises(ConfigurationError, match="instance names are lower-case"):
        parse_config("connectors:\n  Shopify-EU: {vendor: shopify}\n", "profilesync.yaml")
