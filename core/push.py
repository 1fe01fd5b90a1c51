"""What every destination is told about a profile: the enriched traits, in one vendor-neutral shape.

Connectors' ``from_profile`` start from ``enriched_traits`` and rename the keys to the tool's own
custom properties, merge fields or metafields. Keeping the values here (one rounding, one date
format, one choice of currency) means every tool shows the same numbers for the same person.
"""

from __future__ import annotations

from decimal import Decimal

from core.schema import Profile

ENRICHED_TRAITS = (
    "customer_id",
    "lifetime_value",
    "lifetime_value_currency",
    "order_count",
    "average_order_value",
    "last_order_at",
    "segment",
)


def primary_currency(profile: Profile) -> str | None:
    """The currency a person buys in most: her only one, or with several the one of the most paid
    orders, then of her latest (``ComputedTraits.primary_currency``). Amounts of two currencies are
    never compared: 45,000 KRW is not more than 1,200 EUR.

    A profile with several stored before that field existed has none until it is next rebuilt: its
    paid orders per currency are then read back as lifetime value over average order value (the
    average is rounded to the total's precision, so the quotient rounds to the count; ties and a
    zero average go to the code's order)."""
    computed = profile.computed
    ltv = computed.lifetime_value
    if not ltv:
        return None
    if len(ltv) == 1:
        return next(iter(ltv))
    if computed.primary_currency in ltv:
        return computed.primary_currency
    aov = computed.average_order_value
    return max(sorted(ltv), key=lambda code: _count(ltv[code], aov.get(code)))


def _count(total: Decimal, average: Decimal | None) -> Decimal:
    """Paid orders of one currency as its lifetime value and average order value say (0: unknown)."""
    if not average:
        return Decimal(0)
    return (total / average).to_integral_value()


def enriched_traits(profile: Profile) -> dict[str, str]:
    """The profile's enriched traits as strings: ``customer_id``, ``lifetime_value`` (in the primary
    currency, two decimals or the currency's own minor units), ``lifetime_value_currency``,
    ``order_count``, ``average_order_value``, ``last_order_at`` (ISO date) and ``segment``.
    Amounts in other currencies are not summed: no exchange rate is ever guessed."""
    computed = profile.computed
    currency = primary_currency(profile)
    out = {
        "customer_id": profile.customer_id,
        "order_count": str(computed.order_count),
        "segment": computed.segment,
        "lifetime_value": "0",
        "lifetime_value_currency": currency or "",
        "average_order_value": "0",
        "last_order_at": computed.last_order_at.date().isoformat() if computed.last_order_at else "",
    }
    if currency is not None:
        out["lifetime_value"] = _plain(computed.lifetime_value[currency])
        aov = computed.average_order_value.get(currency)
        out["average_order_value"] = _plain(aov) if aov is not None else "0"
    return out


def primary_email(profile: Profile) -> str | None:
    """The email a tool should match this person on: the most recently seen email trait if the
    profile has one, else the first email identifier (identifiers are sorted), else None."""
    trait = profile.traits.get("email")
    emails = [i.value for i in profile.identifiers if i.kind == "email"]
    if trait is not None and trait.value in emails:
        return trait.value
    return emails[0] if emails else None


def source_ids(profile: Profile, source: str, object_type: str | None = None) -> list[str]:
    """The ids this profile has in one tool (``object_type`` narrows to one kind of object)."""
    return [
        ref.id
        for ref in profile.sources
        if ref.source == source and (object_type is None or ref.object_type == object_type)
    ]


def email_consent(profile: Profile) -> bool | None:
    """The profile's email marketing consent: True, False, or None when no tool has said."""
    value = profile.consent.get("email")
    return None if value is None else value.granted


def _plain(amount: Decimal) -> str:
    return format(amount, "f")


__all__ = [
    "ENRICHED_TRAITS",
    "email_consent",
    "enriched_traits",
    "primary_currency",
    "primary_email",
    "source_ids",
]
