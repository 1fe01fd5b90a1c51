"""One purchase seen by two tools counts once: a shop's order and the payment that paid it.

A shop that connects both its shop (WooCommerce) and its payment processor (Stripe) pulls every
purchase twice: the shop's order, whose ``transaction_id`` names the payment its gateway took, and the
processor's charge. Both carry the payment's reference (``Order.payment_refs``, ``stripe:pi_...``,
``stripe:ch_...``), and the orders of one profile that share a reference, directly or through another
order (a PaymentIntent's two charges and the order that names it), are one purchase.

Which copy counts (a function of the set, so the same whatever order the records arrive in):

1. The shop's order over the payment's view of it. A payment's view is an order from the processor
   itself (its source is its references' processor: ``stripe`` naming ``stripe:...``). The shop's
   order is the purchase the customer made, in the currency she was shown, with its refunds whether
   made through the gateway (which records a refund made in Stripe's dashboard on the order too) or
   by other means; the payment is the evidence that it was paid.
2. A paid copy over one that is not (a PaymentIntent's failed first charge and its paid retry).
3. The smallest ``(source, id)``.

Both records stay stored and shown (``explain`` lists every order with its references); only the
profile's computed traits count the purchase once. A reference joins orders within one profile only:
it is an order-level fact and never an identifier, so it does not merge two people.
"""

from __future__ import annotations

from core.schema import Order

OrderKey = tuple[str, str]
"""An order as the profile's fold keys it: its record's source and its id."""


def purchases(orders: dict[OrderKey, Order]) -> dict[OrderKey, Order]:
    """``orders`` less the copies of a purchase another order already stands for (see the module)."""
    if not any(order.payment_refs for order in orders.values()):
        return orders  # most profiles: nothing to join
    parent: dict[OrderKey, OrderKey] = {key: key for key in orders}

    def root(key: OrderKey) -> OrderKey:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    first_by_ref: dict[str, OrderKey] = {}
    for key in sorted(orders):
        for ref in orders[key].payment_refs:
            other = first_by_ref.setdefault(ref, key)
            if other != key:
                a, b = root(other), root(key)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    winners: dict[OrderKey, OrderKey] = {}
    for key in orders:
        group = root(key)
        best = winners.get(group)
        if best is None or _rank(key, orders[key]) < _rank(best, orders[best]):
            winners[group] = key
    return {key: orders[key] for key in sorted(winners.values())}


def _rank(key: OrderKey, order: Order) -> tuple[bool, bool, OrderKey]:
    """Lower wins: the shop's order, then a paid copy, then the smallest key (see the module)."""
    source = key[0]
    payment_view = any(ref.partition(":")[0] == source for ref in order.payment_refs)
    return payment_view, order.status != "paid", key


__all__ = ["OrderKey", "purchases"]
