"""``WooCommerceConnector``: the SDK's ``RestConnector`` with what the declaration cannot say.

* Per instance: the customer role to read (``customer_role``) and the store's request budget
  (``requests_per_10s``) become the customers stream's ``role`` parameter and the store-wide window.
* Records are mapped by code (``_mapping``): fallbacks, guest orders, money and refunds.
* Only people with a WooCommerce customer account are pushed to: a guest's orders alone have no
  customer to hold meta data (the SDK's ``only_known`` would count the orders).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.cursor_seconds import dated
from connectors.option_numbers import whole_number
from connectors.sdk import RestConnector
from core.connector import ConnectorPlugin, ConnectorSettings, Payload, RawPage
from core.errors import ConnectorConfigError
from core.schema import Profile, RecordDraft

from ._declaration import DECLARATION, DEFAULT_REQUESTS_PER_10S, RATE_OPTION, ROLE_OPTION, limits
from ._erase import ERASE_ORDERS_OPTION
from ._mapping import CUSTOMER, customer_draft, order_draft
from ._push import customer_ids


def _rate(settings: ConnectorSettings) -> int:
    return whole_number(
        settings.options,
        RATE_OPTION,
        connector="woocommerce",
        default=DEFAULT_REQUESTS_PER_10S,
        low=1,
        meaning="requests per 10 seconds",
    )


class WooCommerceConnector(RestConnector):
    """The declared WooCommerce connector (see the module docstring for what it adds)."""

    def __init__(self, settings: ConnectorSettings) -> None:
        erase_orders = settings.options.get(ERASE_ORDERS_OPTION, "anonymise")
        if erase_orders not in ("anonymise", "retain"):
            raise ConnectorConfigError(
                f"woocommerce: option {ERASE_ORDERS_OPTION} is anonymise or retain, got {erase_orders!r}"
            )
        role = str(settings.options.get(ROLE_OPTION) or "customer").strip()
        streams = tuple(
            replace(s, params={**s.params, "role": role}) if s.object_type == CUSTOMER else s
            for s in DECLARATION.streams
        )
        declaration = replace(DECLARATION, streams=streams, account_limits=limits(_rate(settings)))
        super().__init__(declaration, settings)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        mapper = customer_draft if page.object_type == CUSTOMER else order_draft
        # A record the cursor marked is dated after the versions delivered on its second.
        return dated([mapper(record) for record in page.records], page.records)

    def from_profile(self, profile: Profile) -> Payload | None:
        if not customer_ids(profile):
            return None
        return super().from_profile(profile)


def build(settings: ConnectorSettings) -> WooCommerceConnector:
    return WooCommerceConnector(settings)


def make_plugin(sandbox: Any) -> ConnectorPlugin:
    return ConnectorPlugin(spec=DECLARATION.connector_spec(), build=build, sandbox=sandbox)


__all__ = ["WooCommerceConnector", "build", "make_plugin"]
