"""Money and orders: ``normalise_money``, and the orders of a record."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

from core.errors import NormalisationError
from core.minor_units import MINOR_UNITS as _MINOR_UNITS
from core.schema import Order, OrderStatus, OrderSummary, assemble_model

from ._country import normalise_currency
from ._limits import _CACHE_SIZE, MAX_INLINE_ORDERS, MAX_ORDER_ID_CHARS
from ._payment_refs import normalise_payment_refs
from ._time import normalise_timestamp
from ._values import _Collector, _id_problem, _is_blank, _reason, _short, _text_id

#: No order is 10^15 major units (a quadrillion: past any real order in any currency, the rial and the
#: dong included): such an amount is a fault, refused, so that sums and averages of a customer's orders
#: stay well inside the 28 digits of decimal arithmetic (attack22: two 28-digit yen totals summed past
#: them, and the average's rounding stopped a whole resolve).
_TOO_LARGE: Final = Decimal(10) ** 15
_QUANTUM: Final = {places: Decimal(1).scaleb(-places) for places in (0, 2, 3, 4)}

# An exponent is allowed ("1e3", as str() writes some floats) but kept short: Decimal() itself
# refuses exponents beyond its limits.
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
# "1,299" or "1,299,000.50": commas every three digits.
_GROUPED_BY_THREE: Final = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# "1,00,000.00" (Indian grouping) and the like: any digit groups, then a decimal point.
_GROUPED_WITH_DOT: Final = re.compile(r"[+-]?\d+(?:,\d+)+\.\d+")
# "1.234,50" or "1.234.567,5": points every three digits, then a decimal comma (a shop whose
# locale writes money so). Both separators are there, so each can only be one thing; "1.234"
# alone stays the number 1.234, and "19,90" stays refused.
_DOTS_THEN_COMMA: Final = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d+")
# One separator and three digits after it: grouping, or a decimal separator? The currency settles
# it, or nothing does (``_one_reading``).
_POINT_AND_THREE: Final = re.compile(r"[+-]?\d{1,3}\.\d{3}")
_COMMA_AND_THREE: Final = re.compile(r"[+-]?\d{1,3},\d{3}")


def _parse_amount(amount: object) -> Decimal:
    # A str is none of the other types, so testing it first (most amounts are strings) changes nothing.
    if isinstance(amount, str):
        number = _parse_amount_text(amount)
    elif isinstance(amount, bool):
        raise NormalisationError("amount", "a boolean is not an amount")
    elif isinstance(amount, Decimal):
        number = amount
    elif isinstance(amount, int):
        number = Decimal(amount)
    elif isinstance(amount, float):
        # str() first: Decimal(19.9) is 19.899999999999998578914528479799628257751464843750.
        number = Decimal(str(amount))
    else:
        raise NormalisationError("amount", f"not a number ({type(amount).__name__})")
    if not number.is_finite():
        raise NormalisationError("amount", "not a finite number")
    return number


def _parse_amount_text(amount: str) -> Decimal:
    text = amount.strip()
    if len(text) > 64:
        raise NormalisationError("amount", "too long to be an amount")
    if "," in text and "." in text and _DOTS_THEN_COMMA.fullmatch(text):
        text = text.replace(".", "").replace(",", ".")
    elif "," in text:
        # Only remove commas that are clearly thousands separators: "19,90" might be 19.90
        # or 1990, so it is refused rather than guessed.
        if not (_GROUPED_BY_THREE.fullmatch(text) or _GROUPED_WITH_DOT.fullmatch(text)):
            raise NormalisationError("amount", f"ambiguous use of commas in {text!r}")
        text = text.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise NormalisationError("amount", f"not a number: {text[:30]!r}")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only what Decimal reads
        raise NormalisationError("amount", f"not a number: {text[:30]!r}") from None


def parse_amount(amount: object, currency: str | None = None) -> Decimal:
    """An amount as an exact ``Decimal``, before any currency's rounding: a JSON number (an integer,
    or a float read through its shortest text, never through float arithmetic), or text as
    ``normalise_money`` reads it (grouping separators only where they cannot be a decimal separator:
    ``"1,234.50"``, ``"1.234,50"``). Raises ``NormalisationError("amount", reason)`` otherwise
    (``"19,90"``: a decimal comma or a thousands separator? refused, not guessed). With the
    ``currency`` (an ISO 4217 code), text its minor units leave two readings of is refused too
    (``"1.234"`` JPY, ``"1,234"`` KWD: ``normalise_money``)."""
    if currency is not None and isinstance(amount, str):
        _one_reading(amount, minor_units(currency.strip().upper()), currency)
    return _parse_amount(amount)


def _one_reading(amount: str, places: int, currency: str) -> None:
    """Refuse text with one separator and three digits after it that ``places`` (the currency's
    minor units) leaves two readings of: ``"1.234"`` in a currency of none (1,234 by a shop that
    groups with points, as ``"1.234,50"`` is read; 1.234 is no amount of it, and rounding it to 1
    guessed a thousandth of the sale), ``"1,234"`` in one of three (1,234, or 1.234 with a decimal
    comma). Elsewhere one reading is an amount of the currency: ``"1,234"`` USD is 1,234 (1.234 is
    no dollar amount written exactly); ``"1.234"`` KWD is 1.234; ``"1.234"`` EUR stays 1.234, rounded
    (a shop set to three decimals writes such totals)."""
    text = amount.strip()
    if (places == 0 and _POINT_AND_THREE.fullmatch(text)) or (
        places >= 3 and _COMMA_AND_THREE.fullmatch(text)
    ):
        raise NormalisationError(
            "amount", f"ambiguous {text!r} in {currency}: grouping, or a decimal separator?"
        )


def normalise_money(amount: str | int | float | Decimal, currency: str) -> tuple[Decimal, str]:
    """Return ``(amount, currency)`` with the amount a Decimal in the currency's minor units.

    The amount is never taken through float arithmetic: a float is converted via ``str()``
    first. It is rounded half-even to the currency's minor units (0 for JPY, KRW, VND, CLP, ISK,
    UGX, XAF, XOF...; 3 for BHD, KWD, OMR, JOD, TND, IQD, LYD; 2 for most). Strings may carry
    thousands separators ("1,299.00", "1,299"), or points for thousands before a decimal comma
    ("1.299,50"); a comma that could be a decimal comma ("19,90"; "1,299" in a currency of three
    minor units) is refused rather than guessed, and so is a point and three digits in a currency of
    none ("1.299" JPY: 1,299, or a fraction of a yen?).
    NaN, infinities, booleans, non-numeric strings and amounts of 10^15 or more raise
    ``NormalisationError("amount", reason)``;
    an unknown currency raises ``NormalisationError("currency", reason)``.
    """
    if type(amount) is str and type(currency) is str and len(amount) <= 64:
        return _text_money(amount, currency)
    return _money(amount, currency)


def minor_units(currency: str) -> int:
    """The decimal places every amount in ``currency`` (an ISO 4217 code) is normalised to (the
    table is core.minor_units's, which the merge function reads without loading the normalisers)."""
    return _MINOR_UNITS.get(currency, 2)


def _money(amount: str | int | float | Decimal, currency: str) -> tuple[Decimal, str]:
    code = normalise_currency(currency)
    places = _MINOR_UNITS.get(code, 2)
    if isinstance(amount, str):
        _one_reading(amount, places, code)
    number = _parse_amount(amount)
    try:
        result = number.quantize(_QUANTUM[places], rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        # quantize() refuses when the result needs more digits than the context's precision.
        raise NormalisationError("amount", "too large") from None
    if result.is_zero() and result.is_signed():
        result = abs(result)  # "-0.00" -> "0.00"
    if abs(result) >= _TOO_LARGE:
        raise NormalisationError("amount", "too large (10^15 or more)")
    return result, code


#: A text amount already in a currency's two minor units: digits, a point, two digits (``247.64``).
#: Fifteen digits at most: below ``_TOO_LARGE``.
_TWO_PLACES: Final = re.compile(r"[0-9]{1,15}\.[0-9]{2}")


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _text_money(amount: str, currency: str) -> tuple[Decimal, str]:
    """``_money`` of a text amount and currency, kept: the same prices recur across orders (a result
    is immutable, an error is not kept). Only exact ``str``: a cache compares keys with ``==``.

    An amount such as ``247.64`` in a currency of two minor units is its own ``Decimal``: quantize
    to two places keeps its digits and exponent, and it is neither negative nor too large, so only
    the currency is read (tests/unit/test_normalise_fast_steps.py compares with ``_money``)."""
    if _TWO_PLACES.fullmatch(amount) is not None:
        code = normalise_currency(currency)
        if _MINOR_UNITS.get(code, 2) == 2:
            return Decimal(amount), code
    return _money(amount, currency)


_ORDER_STATUSES: Final[dict[str, OrderStatus]] = {
    **dict.fromkeys(
        ("paid", "fulfilled", "succeeded", "success", "complete", "completed", "captured", "settled"),
        "paid",
    ),
    **dict.fromkeys(
        ("pending", "processing", "open", "unpaid", "authorized", "authorised", "on_hold", "on-hold"),
        "pending",
    ),
    **dict.fromkeys(("refunded", "returned"), "refunded"),
    **dict.fromkeys(("cancelled", "canceled", "voided", "void", "failed", "declined"), "cancelled"),
}


def _order(raw: object) -> Order:
    """The order ``raw`` describes, or NormalisationError("order", reason): ``_order_general``, with
    the common shape (a dict of text values, an ASCII id with no space around it, no status or one
    already canonical) read without the checks its values cannot fail (a blank total, currency or
    time is refused by its normaliser). Anything else, and any value normalising refuses, goes the
    general way, which says why; tests/unit/test_normalise_fast_steps.py
    compares both on hypothesis orders."""
    if type(raw) is dict:
        order_id, total, currency = raw.get("id"), raw.get("total"), raw.get("currency")
        created, status_raw = raw.get("created_at"), raw.get("status")
        status: OrderStatus | None = "paid"
        if status_raw is not None:
            status = _ORDER_STATUSES.get(status_raw) if type(status_raw) is str else None
        if (
            status is not None
            and type(order_id) is str
            and order_id.isascii()
            and 0 < len(order_id) <= MAX_ORDER_ID_CHARS
            and order_id[0] > " " < order_id[-1]  # no ASCII space around it: strip changes nothing
            and type(total) is str
            and type(currency) is str
            and type(created) is str
        ):
            try:
                amount, code = normalise_money(total, currency)
                created_at = normalise_timestamp(created)
                refs = raw.get("payment_refs")
                payment_refs = () if refs is None else normalise_payment_refs(refs)
            except NormalisationError:
                return _order_general(raw)  # which says what is wrong, and where
            if amount < 0 and status == "paid":
                status = "refunded"  # as _order_general: money going back is a refund
            return assemble_model(
                Order,
                {
                    "id": order_id,
                    "total": amount,
                    "currency": code,
                    "created_at": created_at,
                    "status": status,
                    "payment_refs": payment_refs,
                },
            )
    return _order_general(raw)


def _order_general(raw: object) -> Order:
    def fail(reason: str) -> NormalisationError:
        return NormalisationError("order", reason)

    if type(raw) is not dict and not isinstance(raw, Mapping):  # the ABC's check costs 0.4 us
        raise fail(f"an order must be a mapping, not {type(raw).__name__}")
    problem = _id_problem(raw.get("id"), "id")
    if problem is not None:
        raise fail(problem)
    order_id = _text_id(raw.get("id"))
    if len(order_id) > MAX_ORDER_ID_CHARS:
        raise fail(f"id longer than {MAX_ORDER_ID_CHARS} characters")
    for name in ("total", "currency", "created_at"):
        if _is_blank(raw.get(name)):
            raise fail(f"missing {name}")
    try:
        total, currency = normalise_money(raw["total"], raw["currency"])
        created_at = normalise_timestamp(raw["created_at"])
    except NormalisationError as exc:
        # Say which part of the order was wrong: "total: not a number".
        part = {"amount": "total", "timestamp": "created_at"}.get(exc.field, exc.field)
        raise fail(f"{part}: {exc.reason}") from None
    status_raw = raw.get("status")
    status: OrderStatus = "paid"
    if not _is_blank(status_raw):
        if not isinstance(status_raw, str):
            raise fail("status must be a string")
        key = status_raw.strip().lower().replace(" ", "_")
        found = _ORDER_STATUSES.get(key)
        if found is None:
            raise fail(f"unknown status {_short(status_raw, 40)!r}")
        status = found
    if total < 0 and status == "paid":
        # Money going back to the buyer is a refund, whatever the status field says: it must not
        # count as a sale (a "paid" order of -500 made a lifetime value of -500 and a "customer").
        status = "refunded"
    payment_refs = normalise_payment_refs(raw.get("payment_refs"))  # its reason names the refs
    return Order.assemble(
        id=order_id,
        total=total,
        currency=currency,
        created_at=created_at,
        status=status,
        payment_refs=payment_refs,
    )


def _orders(orders: object, collector: _Collector) -> tuple[tuple[Order, ...], OrderSummary | None]:
    """The record's valid orders, first of each id kept: the newest ``MAX_INLINE_ORDERS`` inline (in
    the order given), and the others summed up, so that a record with 10,000 orders still fits one
    stored item and its lifetime value stays whole."""
    result: dict[str, Order] = {}
    if not isinstance(orders, list | tuple):
        if not _is_blank(orders):
            collector.drop("orders", orders, "orders must be a list")
        return (), None
    for i, raw in enumerate(orders):
        try:
            order = _order(raw)
        except Exception as exc:
            collector.drop(f"orders[{i}]", raw, _reason(exc))
            continue
        if order.id in result:
            collector.drop(f"orders[{i}]", raw, f"duplicate order id {order.id!r}; the first one is kept")
            continue
        result[order.id] = order
    if len(result) <= MAX_INLINE_ORDERS:
        return tuple(result.values()), None
    by_age = sorted(result.values(), key=lambda o: (o.created_at, o.id), reverse=True)
    kept = {o.id for o in by_age[:MAX_INLINE_ORDERS]}
    return tuple(o for o in result.values() if o.id in kept), _summarise(by_age[MAX_INLINE_ORDERS:])


def _summarise(orders: Sequence[Order]) -> OrderSummary:
    """The ``OrderSummary`` of ``orders``: how many, and the paid ones' count, totals and dates."""
    paid: dict[str, int] = {}
    totals: dict[str, Decimal] = {}
    moments = []
    for order in sorted(orders, key=lambda o: o.id):  # sums added in one order, whatever came in
        if order.status == "paid":
            paid[order.currency] = paid.get(order.currency, 0) + 1
            totals[order.currency] = totals.get(order.currency, Decimal(0)) + order.total
            moments.append(order.created_at)
    return OrderSummary(
        orders=len(orders),
        paid=dict(sorted(paid.items())),
        totals=dict(sorted(totals.items())),
        first_paid_at=min(moments) if moments else None,
        last_paid_at=max(moments) if moments else None,
    )
