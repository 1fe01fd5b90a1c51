"""The Klaviyo sandbox's seeding: profiles made from the ``email`` records of the test population (the
malformed ones as a profile with only an external id, which is kept as its own profile), and
timestamps as Klaviyo writes them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from connectors.sdk import parse_point
from core.testing.population import people as population_people
from core.testing.population import population

if TYPE_CHECKING:
    from ._sandbox import KlaviyoSandbox


def _stamp(at: datetime) -> str:
    """A timestamp as Klaviyo writes it: ``2022-11-08T00:00:00+00:00``."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def seed_profiles(sb: KlaviyoSandbox, count: int, seed: int) -> None:
    rng = random.Random(seed * 31 + 5)
    persons = population_people(count, seed)
    for index, record in population(count, seed):
        if record.get("source") != "email":
            continue
        at = parse_point(str(record.get("updated_at", ""))) or sb.clock.now()
        if index is None:
            # Realistic mess: a profile a store integration created from an order, with neither
            # email nor phone, only the shop's id: one person to Klaviyo, kept as its own profile
            # (core.normalise, EXTERNAL_ID_TRAIT), never joined to anyone by that id.
            sb._add({"external_id": f"shop-{record['id']}"}, at, consent=None)
            continue
        person = persons[index]
        granted = record.get("consent", {}).get("email")
        consent = "SUBSCRIBED" if granted else "NEVER_SUBSCRIBED" if rng.random() < 0.3 else "UNSUBSCRIBED"
        location = {"country": record["country"]} if record.get("country") else {}
        sb._add(
            {
                # Klaviyo keeps addresses trimmed and lower-cased, phone numbers in E.164.
                "email": str(record["email"]).strip().lower() if record.get("email") else None,
                "phone_number": person.phone_e164 if record.get("phone") else None,
                "first_name": record.get("first_name"),
                "last_name": record.get("last_name"),
                "location": location,
            },
            at,
            consent=consent,
            consent_at=at - timedelta(days=rng.randint(0, 90)),
        )
