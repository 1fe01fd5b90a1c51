"""``expand[]`` for the Stripe sandbox: ids in an answer replaced by the objects they name.

Stripe answers related objects as ids unless asked to expand them (https://docs.stripe.com/api/
expanding_objects): ``expand[]=customer`` on a charge, ``expand[]=data.customer`` on a list of
charges, dotted for nested fields (``invoice_settings.default_payment_method``), at most four levels.
Only the fields Stripe marks expandable may be named; any other is 400 "This property cannot be
expanded". A customer that was deleted expands to ``{"id", "object": "customer", "deleted": true}``,
as Stripe's ``x-expansionResources`` allow. Fields whose value is null stay null; fields whose
objects the sandbox does not model (balance transactions, invoices, payment intents) stay ids.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Final

#: object type -> the fields of it Stripe lets ``expand`` name (the spec's ``x-expansionResources``).
EXPANDABLE: Final[Mapping[str, frozenset[str]]] = {
    "charge": frozenset(
        {
            "application",
            "application_fee",
            "balance_transaction",
            "customer",
            "failure_balance_transaction",
            "invoice",
            "on_behalf_of",
            "payment_intent",
            "review",
            "source_transfer",
            "transfer",
        }
    ),
    "customer": frozenset({"default_source", "invoice_settings.default_payment_method", "test_clock"}),
    "event": frozenset(),
}
MAX_DEPTH: Final = 4


class ExpandError(ValueError):
    """An ``expand`` path Stripe would refuse; the message is Stripe's."""


def paths(params: Mapping[str, str]) -> list[str]:
    """The ``expand`` paths of a request, however the client encoded the list (``expand[]``,
    ``expand[0]``, ``expand``)."""
    found = [v for k, v in params.items() if k == "expand" or (k.startswith("expand[") and k.endswith("]"))]
    return [p.strip() for p in found if p.strip()]


def expand(
    obj: dict[str, Any], wanted: list[str], resolve: Callable[[str, str], dict[str, Any] | None]
) -> dict[str, Any]:
    """A copy of ``obj`` with each path of ``wanted`` expanded; ``resolve(type, id)`` finds an object.

    Raises ``ExpandError`` for a path Stripe would refuse."""
    out = copy.deepcopy(obj)
    for path in wanted:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise ExpandError(f"You cannot expand more than {MAX_DEPTH} levels of a property ({path}).")
        _expand_path(out, parts, path, resolve)
    return out


def _expand_path(
    holder: dict[str, Any], parts: list[str], whole: str, resolve: Callable[[str, str], dict[str, Any] | None]
) -> None:
    kind = str(holder.get("object", ""))
    if kind == "list" and parts[0] == "data":
        for item in holder.get("data", []):
            _expand_path(item, parts[1:], whole, resolve)
        return
    allowed = EXPANDABLE.get(kind, frozenset())
    # The longest expandable field this path starts with (a dotted field such as
    # invoice_settings.default_payment_method counts as one).
    for size in range(len(parts), 0, -1):
        field = ".".join(parts[:size])
        if field in allowed:
            break
    else:
        raise ExpandError(f"This property cannot be expanded ({whole}).")
    *inner, last = field.split(".")
    target = holder
    for key in inner:
        target = target.get(key) or {}
    value = target.get(last)
    if isinstance(value, str):
        found = resolve(last if last != "default_payment_method" else "payment_method", value)
        if found is not None:
            target[last] = copy.deepcopy(found)
    rest = parts[size:]
    if rest and isinstance(target.get(last), dict):
        _expand_path(target[last], rest, whole, resolve)


__all__ = ["EXPANDABLE", "ExpandError", "expand", "paths"]
