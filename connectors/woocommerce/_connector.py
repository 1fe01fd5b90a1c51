"""``WooCommerceConnector``: the SDK's ``RestConnector`` with what the declaration cannot say.

* Per instance: the customer role to read (``customer_role``) and the store's request budget
  (``requests_per_10s``) become the customers stream's ``role`` parameter and the store-wide window.
* Who is a customer (``customer_role`` ``auto``, the default): the walk lists every WordPress user,
  and keeps the users WooCommerce itself holds as customers (``is_customer``): the roles its REST API
  manages as customers (``customer``, ``subscriber``) and anyone it marked a paying customer. An
  order names its owner by user id whatever her role (WooCommerce Subscriptions makes a subscriber of
  whoever subscribes, and staff buy too), so a walk of ``role=customer`` alone left her orders apart
  from her, and lost a customer whose role changed. Staff and other users who never paid are left
  out: they are not customers. A role named in the option (``all`` too) is walked as asked, with
  nothing left out.
* Records are mapped by code (``_mapping``): fallbacks, guest orders, money and refunds.
* Only people with a WooCommerce customer account are pushed to: a guest's orders alone have no
  customer to hold meta data (the SDK's ``only_known`` would count the orders).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from connectors.cursor_seconds import dated
from connectors.option_numbers import whole_number
from connectors.sdk import RestConnector
from core.connector import ConnectorPlugin, ConnectorSettings, Payload, RawPage
from core.errors import ConnectorConfigError
from core.schema import Profile, RecordDraft

from ._declaration import (
    ALL_ROLES,
    AUTO_ROLE,
    DECLARATION,
    DEFAULT_REQUESTS_PER_10S,
    RATE_OPTION,
    ROLE_OPTION,
    limits,
)
from ._erase import DELETABLE_ROLES, ERASE_ORDERS_OPTION
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


def is_customer(user: Any) -> bool:
    """Whether WooCommerce holds this user (from ``GET /customers?role=all``) as a customer: a role its
    REST API manages as a customer's (``woocommerce_rest_customer_allowed_roles``) or a paying
    customer (``is_paying_customer``, set by ``wc_paying_customer`` when an order of hers is paid).
    An element that is not an object is kept: the pull quarantines it, never drops it."""
    if not isinstance(user, Mapping):
        return True
    return user.get("role") in DELETABLE_ROLES or user.get("is_paying_customer") is True


class WooCommerceConnector(RestConnector):
    """The declared WooCommerce connector (see the module docstring for what it adds)."""

    def __init__(self, settings: ConnectorSettings) -> None:
        erase_orders = settings.options.get(ERASE_ORDERS_OPTION, "anonymise")
        if erase_orders not in ("anonymise", "retain"):
            raise ConnectorConfigError(
                f"woocommerce: option {ERASE_ORDERS_OPTION} is anonymise or retain, got {erase_orders!r}"
            )
        role = str(settings.options.get(ROLE_OPTION) or AUTO_ROLE).strip()
        self._only_customers = role == AUTO_ROLE
        asked = ALL_ROLES if self._only_customers else role
        streams = tuple(
            replace(s, params={**s.params, "role": asked}) if s.object_type == CUSTOMER else s
            for s in DECLARATION.streams
        )
        declaration = replace(DECLARATION, streams=streams, account_limits=limits(_rate(settings)))
        super().__init__(declaration, settings)

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        for page in super().pull(cursor):
            if self._only_customers and page.object_type == CUSTOMER:
                page = replace(page, records=[user for user in page.records if is_customer(user)])
            yield page

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


__all__ = ["WooCommerceConnector", "build", "is_customer", "make_plugin"]
