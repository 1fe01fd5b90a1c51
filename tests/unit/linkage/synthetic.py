"""Synthetic people with known corruption rates, for tests that check what EM recovers.

Each person gets one clean record and ``copies`` corrupted ones; each field of a copy is typed
wrongly (one character changed) with probability ``typo_rate``, else copied. The truth is known, so
a test can compare the trained m probabilities with the rates that made the data.
"""

from __future__ import annotations

import random
import string

from core.linkage import LinkageRecord, linkage_record

FIRST = [
    "oliver",
    "amelia",
    "george",
    "isla",
    "harry",
    "ava",
    "noah",
    "mia",
    "jack",
    "ivy",
    "leo",
    "grace",
    "arthur",
    "sophia",
    "muhammad",
    "lily",
    "oscar",
    "freya",
    "charlie",
    "emily",
    "henry",
    "ella",
    "theo",
    "rosie",
    "thomas",
    "evie",
    "james",
    "poppy",
    "william",
    "willow",
    "alfie",
    "florence",
]
LAST = [
    "smith",
    "jones",
    "taylor",
    "brown",
    "williams",
    "wilson",
    "johnson",
    "davies",
    "patel",
    "wright",
    "robinson",
    "thompson",
    "evans",
    "walker",
    "white",
    "roberts",
    "green",
    "hall",
    "thomas",
    "clarke",
    "jackson",
    "wood",
    "harris",
    "edwards",
    "turner",
    "martin",
    "cooper",
    "hill",
    "ward",
    "hughes",
    "moore",
    "clark",
    "king",
    "harrison",
    "lewis",
    "baker",
    "lee",
    "allen",
    "morris",
    "khan",
]
STREETS = ["high st", "station rd", "church ln", "park ave", "victoria rd", "green ln", "manor rd", "mill ln"]


def _typo(value: str, rng: random.Random) -> str:
    position = rng.randrange(len(value))
    alphabet = string.digits if value.isdigit() else string.ascii_lowercase  # a date stays a date
    replacement = rng.choice([c for c in alphabet if c != value[position]])
    return value[:position] + replacement + value[position + 1 :]


def people(
    count: int, *, copies: int = 1, typo_rate: float = 0.1, seed: int = 0
) -> tuple[list[LinkageRecord], dict[str, int]]:
    """``count`` people as records (one clean, ``copies`` corrupted each) and each key's person."""
    rng = random.Random(seed)
    records: list[LinkageRecord] = []
    truth: dict[str, int] = {}
    for person in range(count):
        clean = {
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "date_of_birth": f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
            "house_number": str(rng.randint(1, 200)),
            "street": rng.choice(STREETS),
            "postal_code": f"{rng.randint(1000, 9999)}",
            "city": rng.choice(["leeds", "york", "bath", "hull", "derby", "wells", "ely", "ripon"]),
        }
        for copy in range(copies + 1):
            fields = dict(clean)
            if copy:
                for name, value in clean.items():
                    if name not in ("street", "city") and rng.random() < typo_rate:
                        fields[name] = _typo(value, rng)
            key = f"p{person}:r{copy}"
            records.append(linkage_record(key, fields))
            truth[key] = person
    return records, truth
