"""The HubSpot sandbox's seeding: contacts made from the ``crm`` records of the test population, the
malformed ones as a contact with only a name or junk in the phone field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from core.testing.population import population

from ._sandbox_properties import _BOOT
from ._sandbox_wire import _ms_precision

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox


def seed_contacts(sb: HubSpotSandbox, people: int, seed: int) -> None:
    rng = sb._rng
    rows: list[tuple[datetime, datetime, dict[str, str]]] = []
    for person, flat in population(people, seed, malformed_share=0.02):
        if flat.get("source") != "crm":
            continue
        try:
            updated = datetime.fromisoformat(str(flat["updated_at"]).replace("Z", "+00:00"))
        except ValueError:
            updated = datetime(2026, 2, 1, tzinfo=UTC)
        updated = _ms_precision(updated + timedelta(milliseconds=rng.randint(0, 999)))
        created = max(
            _BOOT + timedelta(days=1),
            updated - timedelta(days=rng.randint(0, 120), seconds=rng.randint(0, 86_399)),
        )
        properties: dict[str, str] = {}
        if person is None:
            # What a bad HubSpot record looks like: HubSpot refuses malformed emails, so the mess is
            # a contact with only a name, or with junk typed into the phone field.
            properties["firstname"] = str(flat.get("first_name") or "nobody")
            if rng.random() < 0.5:
                properties["phone"] = rng.choice(["n/a", "12", "ask reception"])
        else:
            if flat.get("email"):
                properties["email"] = str(flat["email"]).strip().lower()  # HubSpot lower-cases emails
            if flat.get("phone"):
                properties["mobilephone" if rng.random() < 0.3 else "phone"] = str(flat["phone"])
            for source_field, prop in (("first_name", "firstname"), ("last_name", "lastname")):
                if flat.get(source_field):
                    properties[prop] = str(flat[source_field])
            if flat.get("country"):
                properties["country"] = str(flat["country"])
            properties["hs_email_optout"] = "true" if rng.random() < 0.08 else "false"
        rows.append((created, updated, properties))
    rows.sort(key=lambda row: row[0])
    for created, updated, properties in rows:
        sb._insert(properties, created, updated, id_step=rng.randint(1, 9))
