"""What every destination is told about a profile: the enriched traits, in one vendor-neutral shape.

Connectors' ``from_profile`` start from ``enriched_traits`` and rename the keys to the tool's own
custom properties, merge fields or metafields. Keeping the values here (one rounding, one date
format, one choice of currency) means every tool shows the same numbers for the same person.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from core.computed_traits import _quantum
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
    paid orders per currency are then read back from what it holds (``_stored_counts``): each
    currency's lifetime value and average (rounded half-even to the total's precision) allow a range
    of counts, and together they add up to its order count; when every count that fits gives the
    same currency, that one. Otherwise (a total the averages cannot tell apart) lifetime value over
    average order value, rounded (ties and a zero average go to the code's order)."""
    computed = profile.computed
    ltv = computed.lifetime_value
    if not ltv:
        return None
    if len(ltv) == 1:
        return next(iter(ltv))
    if computed.primary_currency in ltv:
        return computed.primary_currency
    aov = computed.average_order_value
    codes = sorted(ltv)
    known = _stored_winner(codes, ltv, aov, computed.order_count)
    if known is not None:
        return known
    return max(codes, key=lambda code: _count(ltv[code], aov.get(code)))


def _count(total: Decimal, average: Decimal | None) -> Decimal:
    """Paid orders of one currency as its lifetime value and average order value say (0: unknown)."""
    if not average:
        return Decimal(0)
    return (total / average).to_integral_value()


#: How many combinations of counts ``_stored_winner`` tries before it leaves the answer to ``_count``.
_MAX_TRIES = 10_000


def _stored_winner(
    codes: list[str], ltv: dict[str, Decimal], aov: dict[str, Decimal], order_count: int
) -> str | None:
    """The currency of the most paid orders of a profile stored without ``primary_currency``, when
    its totals, averages and order count leave no doubt (first code of equals); else None.

    A tiny average rounds far from the quotient (3 orders of 0.05 EUR in all average 0.02, and
    0.05 / 0.02 rounds to 2), so each currency's count is any that gives its average back, and the
    counts add up to the order count (every paid order of every currency, core.computed_traits)."""
    if any(code not in aov for code in codes):
        return None
    most = order_count - (len(codes) - 1)  # every currency has a paid order at least
    if most < 1:
        return None
    options = [_counts_giving(ltv[code], aov[code], most) for code in codes]
    if any(not counts for counts in options):
        return None
    winners: set[str] = set()
    tries = 0
    stack: list[tuple[int, int, tuple[int, ...]]] = [(0, 0, ())]
    while stack:
        index, used, chosen = stack.pop()
        if index == len(codes):
            if used == order_count:
                winners.add(max(zip(codes, chosen, strict=True), key=lambda pair: pair[1])[0])
                if len(winners) > 1:
                    return None
            continue
        for count in options[index]:
            tries += 1
            if tries > _MAX_TRIES:
                return None
            if used + count <= order_count:
                stack.append((index + 1, used + count, (*chosen, count)))
    return next(iter(winners)) if winners else None


def _counts_giving(total: Decimal, average: Decimal, most: int) -> list[int]:
    """The counts from 1 to ``most`` whose average of ``total`` rounds to ``average`` (as
    core.computed_traits rounds it); ``_MAX_TRIES`` of them at most (more: the list is cut)."""
    quantum = _quantum(total)
    if average > 0 and total > 0:
        half = quantum / 2
        low = max(1, int(total / (average + half)) - 1)
        high = most if average <= half else min(most, int(total / (average - half)) + 1)
    else:
        low, high = 1, most
    high = min(high, low + _MAX_TRIES)
    return [
        n for n in range(low, high + 1) if (total / n).quantize(quantum, rounding=ROUND_HALF_EVEN) == average
    ]


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
