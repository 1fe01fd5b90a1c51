"""An order's payment references (``Order.payment_refs``): ``<processor>:<id>`` strings.

A connector writes them (``stripe:pi_3Q...``); normalising checks their shape, since two orders that
share one are counted as one purchase (core.purchases): a reference that is not one would either join
two purchases or none. A bad reference drops its order with the reason, as a bad total does.
"""

from __future__ import annotations

import re
from typing import Final

from core.errors import NormalisationError

#: At most this many references an order: a WooCommerce order names one payment, a Stripe charge its
#: own id and its PaymentIntent's.
MAX_PAYMENT_REFS: Final = 8

#: ``<processor>:<id>``: a lower-case processor name and an ASCII id without spaces, 200 at most.
_REF: Final = re.compile(r"[a-z][a-z0-9_]{0,31}:[\x21-\x7e]{1,200}")


def normalise_payment_refs(raw: object) -> tuple[str, ...]:
    """The references ``raw`` lists, sorted and distinct; NormalisationError("order", reason) for
    anything that is not a list of ``<processor>:<id>`` strings."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise NormalisationError("order", "payment_refs must be a list")
    if len(raw) > MAX_PAYMENT_REFS:
        raise NormalisationError("order", f"more than {MAX_PAYMENT_REFS} payment_refs")
    refs: set[str] = set()
    for ref in raw:
        if not isinstance(ref, str) or _REF.fullmatch(ref) is None:
            shown = repr(ref[:40]) if isinstance(ref, str) else type(ref).__name__
            raise NormalisationError("order", f"payment_refs: {shown} is not <processor>:<id>")
        refs.add(ref)
    return tuple(sorted(refs))


__all__ = ["MAX_PAYMENT_REFS", "normalise_payment_refs"]
