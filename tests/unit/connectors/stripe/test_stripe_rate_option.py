"""Stripe's ``requests_per_second`` option: a live-mode account allows 100 reads a second, test mode
25 (https://docs.stripe.com/rate-limits); the connector paced every account at test mode's figure."""

from __future__ import annotations

import pytest

from connectors.sdk import Window
from connectors.stripe import PLUGIN, make_sandbox
from connectors.stripe._declaration import CREDENTIAL
from core.connector import ConnectorSettings
from core.errors import ConnectorConfigError
from profilesync.syncrun import settings_from_environment


def test_an_instance_paces_at_the_rate_its_option_gives_and_at_test_modes_without_it() -> None:
    # GIVEN an instance on a live-mode key, through the CLI's option parsing, and one without it
    env = {f"PROFILESYNC_{CREDENTIAL.upper()}": "sk_live_123"}
    live = settings_from_environment(PLUGIN, options={"requests_per_second": "100"}, env=env)
    without = ConnectorSettings(credentials={CREDENTIAL: "sk_test_123"})
    with PLUGIN.build(live) as paced, PLUGIN.build(without) as default:
        # THEN each paces at its account's window
        assert paced.declaration.account_limits == (Window(100, 1.0),)
        assert default.declaration.account_limits == (Window(25, 1.0),)


@pytest.mark.parametrize("rate", ["0", "fast", "-3", "2.5", "²"])
def test_a_rate_that_is_not_a_whole_number_of_requests_is_refused(rate: str) -> None:
    with pytest.raises(ConnectorConfigError, match="requests_per_second must be a whole number"):
        PLUGIN.build(ConnectorSettings(options={"requests_per_second": rate}))


def test_a_sandbox_serving_more_than_test_mode_is_paced_at_its_own_rate() -> None:
    assert make_sandbox(people=2, requests_per_second=10_000).settings().options == {
        "requests_per_second": "10000"
    }
    assert make_sandbox(people=2).settings().options == {}
