"""A seeded population of people who appear, with realistic variation, in several tools.

Each person gets a unique email and phone; each of their records carries at least one of them and
the first carries both, so the records of one person are always linkable and no two people share an
identifier. The expected grouping is therefore the people themselves: tests compare profiles to it.
Variation is the kind real exports have: case and spaces in emails, national and international
phone formats (national only in the person's own country), ALL-CAPS or lower-case names, country
names instead of codes, missing fields. One person in ``REPEAT_BUYER_EVERY`` is a repeat buyer
with 10 to 60 more orders in the shop.
A share of records is malformed on purpose (no identifier, bad timestamp) and must be quarantined.

Run ``python -m core.testing.population --people 500 --seed 7`` to print JSON lines.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = [
    "ann",
    "bob",
    "chloé",
    "dmitri",
    "eve",
    "fatima",
    "gustav",
    "hana",
    "ian",
    "jules",
    "kofi",
    "lena",
    "marc",
    "nia",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sven",
    "tariq",
    "una",
    "vik",
    "wen",
    "xavier",
    "yara",
    "zoe",
    "mary-jane",
    "sean",
]
LAST = [
    "lee",
    "smith",
    "o'neil",
    "müller",
    "garcía",
    "nakamura",
    "okafor",
    "mcdonald",
    "van dyk",
    "novak",
    "rossi",
    "kowalski",
    "haddad",
    "singh",
    "dubois",
    "larsen",
    "costa",
    "ivanova",
]
DOMAINS = ["example.com", "mail.example.org", "shop.example.net", "bücher.example"]
COUNTRIES = {
    "GB": ["GB", "United Kingdom", "uk", "GBR"],
    "US": ["US", "USA", "United States", "us"],
    "DE": ["DE", "Germany", "DEU"],
    "FR": ["FR", "France"],
}
SOURCES = ("crm", "shop", "email")
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    index: int
    first: str
    last: str
    email: str
    phone_national: str
    phone_e164: str
    region: str
    country: str


def _phone(rng: random.Random, index: int) -> tuple[str, str, str]:
    if index % 2:
        # London numbers 020 3xxx xxxx: valid for libphonenumber, unique per person up to 20 million.
        local = f"3{index // 2 % 10**7:07d}"
        return f"020 {local[:4]} {local[4:]}", f"+4420{local}", "GB"
    # NANP: area code 201 (NJ), exchange 2xx-9xx avoiding N11, line = index.
    exchange = 200 + (index // 20000) % 700
    if exchange % 100 == 11:
        exchange += 1
    line = (index // 2) % 10000
    return f"(201) {exchange}-{line:04d}", f"+1201{exchange}{line:04d}", "US"


def _ascii(name: str) -> str:
    # Most people's addresses drop accents, spaces and apostrophes from their names.
    folded = unicodedata.normalize("NFKD", name)
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def people(count: int, seed: int = 7) -> list[Person]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{_ascii(first)}.{_ascii(last)}{i}@{rng.choice(DOMAINS)}"
        national, e164, region = _phone(rng, i)
        out.append(
            Person(
                i,
                first,
                last,
                email,
                national,
                e164,
                region,
                "GB" if region == "GB" else rng.choice(["US", "DE", "FR"]),
            )
        )
    return out


def _vary_email(rng: random.Random, email: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return email.upper()
    if roll < 0.35:
        return f"  {email.capitalize()} "
    return email


def _vary_phone(rng: random.Random, p: Person) -> str:
    roll = rng.random()
    if roll < 0.4:
        return p.phone_e164
    if roll < 0.7 and p.region == "GB":
        return "+44 " + p.phone_national[1:]
    if roll < 0.7:
        return "+1 " + p.phone_national
    if p.region == "US":
        # A national number only where it is the country's own: a record is read in its country.
        return p.phone_national if p.country == "US" else "+1 " + p.phone_national
    return "+44" + p.phone_national[1:].replace(" ", "")


def _vary_name(rng: random.Random, name: str) -> str:
    roll = rng.random()
    return name.upper() if roll < 0.2 else name if roll < 0.6 else name.title()


def records_for(person: Person, rng: random.Random) -> list[dict[str, Any]]:
    """The person's records in each tool they use (at least one)."""
    sources = [s for s in SOURCES if rng.random() < {"crm": 0.7, "shop": 0.55, "email": 0.6}[s]]
    if not sources:
        sources = [rng.choice(SOURCES)]
    out = []
    for n, source in enumerate(sources):
        updated = BASE + timedelta(days=rng.randint(0, 300), seconds=rng.randint(0, 86399))
        record: dict[str, Any] = {
            "source": source,
            "id": f"{source[0]}{person.index}",
            "updated_at": updated.isoformat().replace("+00:00", "Z"),
        }
        has = "both" if n == 0 else rng.choice(["both", "email", "phone"])
        if has in ("both", "email"):
            record["email"] = _vary_email(rng, person.email)
        if has in ("both", "phone"):
            record["phone"] = _vary_phone(rng, person)
        if rng.random() < 0.9:
            record["first_name"] = _vary_name(rng, person.first)
        if rng.random() < 0.8:
            record["last_name"] = _vary_name(rng, person.last)
        if rng.random() < 0.7:
            record["country"] = rng.choice(COUNTRIES[person.country])
        if source == "email":
            record["consent"] = {"email": rng.random() < 0.8}
        if source == "shop":
            currency = "GBP" if person.country == "GB" else "EUR" if person.country in ("DE", "FR") else "USD"
            record["orders"] = [
                {
                    "id": f"o{person.index}-{k}",
                    "total": f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}",
                    "currency": currency,
                    "created_at": (updated - timedelta(days=rng.randint(1, 200))).isoformat(),
                    "status": "paid" if rng.random() < 0.9 else "refunded",
                }
                for k in range(rng.choice([0, 1, 1, 2, 3, 5]))
            ]
            if person.index % REPEAT_BUYER_EVERY == REPEAT_BUYER_EVERY // 2:
                record["orders"] += repeat_orders(person, currency, updated)
        out.append(record)
    return out


#: One person in this many is a repeat buyer with 10 to 60 more orders (when they use the shop):
#: their orders must all reach one profile, never trip a guardrail meant for shared addresses.
REPEAT_BUYER_EVERY = 40


def repeat_orders(person: Person, currency: str, before: datetime) -> list[dict[str, Any]]:
    """A repeat buyer's further orders, from a generator of their own (the other people's records
    stay exactly as they were without them)."""
    rng = random.Random(f"repeat-{person.index}")
    return [
        {
            "id": f"r{person.index}-{k}",
            "total": f"{rng.randint(5, 120)}.{rng.randint(0, 99):02d}",
            "currency": currency,
            "created_at": (before - timedelta(days=rng.randint(1, 400), seconds=k)).isoformat(),
            "status": "paid",
        }
        for k in range(rng.randint(10, 60))
    ]


def repeat_buyer(orders: int = 12, email: str = "ann@example.com") -> list[dict[str, Any]]:
    """A shop customer and her ``orders`` orders as flat records of their own (JSON lines), each
    order on her email and naming no owner (the flat-file case that must fall back to the email),
    the customer in the middle of them."""
    customer = {
        "source": "shop",
        "id": "c1",
        "object_type": "customer",
        "updated_at": "2026-03-01",
        "email": email,
    }
    placed = [
        {
            "source": "shop",
            "id": f"o{n}",
            "object_type": "order",
            "updated_at": f"2026-02-{n % 28 + 1:02d}",
            "email": email,
            "orders": [
                {
                    "id": f"o{n}",
                    "total": "10.00",
                    "currency": "GBP",
                    "created_at": f"2026-02-{n % 28 + 1:02d}",
                }
            ],
        }
        for n in range(orders)
    ]
    return [*placed[: orders // 2], customer, *placed[orders // 2 :]]


def malformed(rng: random.Random, index: int) -> dict[str, Any]:
    """A record that must be quarantined: no usable identifier, or no valid timestamp."""
    kind = index % 3
    if kind == 0:
        return {
            "source": "crm",
            "id": f"bad{index}",
            "updated_at": "2026-02-01T00:00:00Z",
            "first_name": "nobody",
            "email": "not-an-email",
        }
    if kind == 1:
        return {
            "source": "shop",
            "id": f"bad{index}",
            "updated_at": "yesterday-ish",
            "email": f"late{index}@example.com",
        }
    return {"source": "email", "id": f"bad{index}", "updated_at": "2026-02-01T00:00:00Z", "phone": "12"}


def population(
    count: int, seed: int = 7, malformed_share: float = 0.02
) -> list[tuple[int | None, dict[str, Any]]]:
    """``(person index or None for malformed, flat record)`` pairs, shuffled, deterministic per seed."""
    rng = random.Random(seed)
    pairs: list[tuple[int | None, dict[str, Any]]] = []
    for person in people(count, seed):
        pairs.extend((person.index, r) for r in records_for(person, rng))
    bad = int(len(pairs) * malformed_share)
    pairs.extend((None, malformed(rng, i)) for i in range(bad))
    rng.shuffle(pairs)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description="print a seeded population as JSON lines")
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for _, record in population(args.people, args.seed):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
