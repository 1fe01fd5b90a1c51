"""The Salesforce sandbox's seeding: Contacts, Leads and their Opportunities made from the ``crm``
records of the test population, and the repeat buyers' many won deals.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.sdk import parse_point
from core.testing.population import REPEAT_BUYER_EVERY, population

if TYPE_CHECKING:
    from ._sandbox import SalesforceSandbox


def seed_org(sb: SalesforceSandbox, count: int, seed: int) -> None:
    """The population's ``crm`` records as Leads (the malformed ones and three in ten others) or as
    Contacts with none to three Opportunities each."""
    rng = random.Random(seed * 7919 + 3)
    for index, flat in population(count, seed):
        if flat.get("source") != "crm":
            continue
        at = parse_point(str(flat.get("updated_at", ""))) or datetime(2026, 2, 1, tzinfo=UTC)
        values = {
            "Email": str(flat["email"]).strip() if flat.get("email") else None,
            "Phone": flat.get("phone"),
            "FirstName": flat.get("first_name"),
            "LastName": flat.get("last_name") or "[not provided]",
            "HasOptedOutOfEmail": rng.random() < 0.1,
        }
        if index is None or rng.random() < 0.3:
            values.update(
                {
                    "Country": flat.get("country"),
                    "Company": "[not provided]",
                    "Status": "Open - Not Contacted",
                }
            )
            sb._new("Lead", values, at)
            continue
        values["MailingCountry"] = flat.get("country")
        contact = sb._new("Contact", values, at)
        if index % REPEAT_BUYER_EVERY == REPEAT_BUYER_EVERY // 2:
            repeat_deals(sb, contact, index, at)
        for k in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            stage = rng.choices(["Closed Won", "Closed Lost", "Prospecting"], weights=[6, 2, 2])[0]
            opened = at - timedelta(days=rng.randint(1, 200), seconds=rng.randint(0, 86399))
            sb._new(
                "Opportunity",
                {
                    "Name": f"{values['LastName']} deal {k + 1}",
                    "Amount": round(rng.uniform(200, 20_000), 2),
                    "CloseDate": opened.date(),
                    "StageName": stage,
                    "ContactId": contact["Id"],
                    **({"CurrencyIsoCode": "USD"} if "CurrencyIsoCode" in sb.schema["Opportunity"] else {}),
                },
                opened,
            )


def repeat_deals(sb: SalesforceSandbox, contact: dict[str, Any], index: int, at: datetime) -> None:
    """The population's repeat buyers (one person in ``REPEAT_BUYER_EVERY``) won 10 to 60 deals:
    more than the email guardrail's limit, so a deal that joined its contact by email instead of
    ``ContactId`` shows. Drawn from a generator of their own: everyone else's records stay as
    they were."""
    rng = random.Random(f"salesforce-repeat-{index}")
    for k in range(rng.randint(10, 60)):
        opened = at - timedelta(days=rng.randint(1, 400), seconds=k)
        sb._new(
            "Opportunity",
            {
                "Name": f"{contact['LastName']} renewal {k + 1}",
                "Amount": round(rng.uniform(100, 5_000), 2),
                "CloseDate": opened.date(),
                "StageName": "Closed Won",
                "ContactId": contact["Id"],
                **({"CurrencyIsoCode": "USD"} if "CurrencyIsoCode" in sb.schema["Opportunity"] else {}),
            },
            opened,
        )
