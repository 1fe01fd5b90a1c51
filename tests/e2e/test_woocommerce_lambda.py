"""WooCommerce through the real Lambda handlers on the embedded AWS: the scheduled pull, merge, push
of customer meta data, and an erase request reaching the store."""

from __future__ import annotations

import pytest

from connectors.woocommerce import WooCommerceSandbox
from core.push import primary_email
from profilesync.local import LocalRuntime

pytestmark = pytest.mark.slow


def test_a_store_is_pulled_merged_pushed_to_and_erased_from_by_the_functions() -> None:
    # GIVEN a WooCommerce store with registered customers and guests, wired as a connector instance
    store = WooCommerceSandbox(people=60, seed=5, requests_per_10s=5000)
    with LocalRuntime({"woocommerce": store}) as rt:
        # WHEN its schedule fires and the queue and stream settle
        assert rt.pull("woocommerce").status == "done"
        rt.settle()
        profiles = list(rt.wiring.profiles.iter_profiles())
        # THEN every shopper is one profile, guests' orders count, and accounts hold the pushed traits
        guests = {o["billing"]["email"].lower() for o in store.shop.orders.values() if o["customer_id"] == 0}
        spenders = [p for p in profiles if p.computed.order_count and primary_email(p) in guests]
        assert spenders, "guest orders reach lifetime value"
        with_account = [p for p in profiles if any(s.object_type == "customer" for s in p.sources)]
        email = primary_email(with_account[0])
        assert email is not None
        assert store.pushed_traits(email)["profilesync_customer_id"] == with_account[0].customer_id
        # AND an erase request removes the person from the store (the local runtime creates the
        # stack's audit salt secret from the template)
        answer = rt.invoke("PrivacyFunction", {"action": "erase", "email": email})
        assert answer["ok"], answer
        assert answer["tools"] == {"woocommerce": "erased"}
        assert not store.holds(email)
