"""Many different people of one surname in one postcode: the densest block the matcher meets.

Flat records (the lines ``profilesync resolve`` reads) for the dense-block attack tests
(tests/integration/test_identity_attack_dense_block.py) and ``bench.identity_dense_block``. Every
record is a different person (a first name of twenty, a birth date of 65 years, a house number of
300 on one street, an email of their own), so any join between two of them is a stranger joined.
Pure and seeded.
"""

from __future__ import annotations

import random
from typing import Any, Final

__all__ = ["FIRST_NAMES", "smiths", "spread_people"]

FIRST_NAMES: Final = (
    "John", "James", "Mary", "Anne", "Peter", "Paul", "Sarah", "Emma", "David", "Laura",
    "Mark", "Lucy", "Tom", "Kate", "Sam", "Amy", "Ben", "Eve", "Joe", "Zoe",
)  # fmt: skip
_SURNAMES: Final = ("Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Khan", "Patel", "Lee", "Wood")


def _person(rng: random.Random, i: int, last_name: str, postcode: str) -> dict[str, Any]:
    return {
        "source": "crm",
        "id": str(i),
        "updated_at": "2026-01-01T00:00:00Z",
        "first_name": rng.choice(FIRST_NAMES),
        "last_name": last_name,
        "date_of_birth": f"{rng.randint(1940, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "address": f"{rng.randint(1, 300)} High Street",
        "postcode": postcode,
        "email": f"person{i}@example.com",
    }


def smiths(count: int, seed: int = 1, *, postcode: str = "LS1 4AP") -> list[dict[str, Any]]:
    """``count`` different Smiths on one street of one postcode."""
    rng = random.Random(seed)
    return [_person(rng, i, "Smith", postcode) for i in range(count)]


def spread_people(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` different people over a thousand surnames and a few hundred postcodes: the same
    fields as ``smiths`` without the density (the bench's baseline)."""
    rng = random.Random(seed)
    return [
        _person(
            rng,
            i,
            f"{rng.choice(_SURNAMES)}{rng.randint(0, 99)}",
            f"LS{rng.randint(1, 28)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('ABDEFGHJ')}",
        )
        for i in range(count)
    ]
