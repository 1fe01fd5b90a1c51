"""Synthetic people with known corruption rates: for tests that check what EM recovers, and benches.

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


_SYLLABLES = [
    "ab",
    "an",
    "ar",
    "ber",
    "bra",
    "cal",
    "car",
    "den",
    "dor",
    "el",
    "en",
    "far",
    "gar",
    "ham",
    "har",
    "ing",
    "kin",
    "lan",
    "ley",
    "mar",
    "mor",
    "nel",
    "ner",
    "ols",
    "par",
    "ran",
    "ros",
    "sen",
    "son",
    "ster",
    "tan",
    "ton",
    "vel",
    "war",
    "wen",
    "wick",
    "yar",
    "zel",
]


def _name_pool(syllables: int, rng: random.Random) -> tuple[list[str], list[float]]:
    # Every combination of ``syllables`` syllables, in a shuffled order, drawn with Zipf-like weights
    # (the n-th name n**-0.7 as likely as the first): the commonest name is 1-3% of people, with a
    # long tail, about as in a real customer base (Smith is about 1% of the UK).
    names = [""]
    for _ in range(syllables):
        names = [n + s for n in names for s in _SYLLABLES]
    rng.shuffle(names)
    return names, [rank**-0.7 for rank in range(1, len(names) + 1)]


def _typo(value: str, rng: random.Random) -> str:
    position = rng.randrange(len(value))
    alphabet = string.digits if value.isdigit() else string.ascii_lowercase  # a date stays a date
    replacement = rng.choice([c for c in alphabet if c != value[position]])
    return value[:position] + replacement + value[position + 1 :]


def people(
    count: int, *, copies: int = 1, typo_rate: float = 0.1, seed: int = 0, diverse: bool = False
) -> tuple[list[LinkageRecord], dict[str, int]]:
    """``count`` people as records (one clean, ``copies`` corrupted each) and each key's person.

    ``diverse``: names drawn from about 1,400 first names and 55,000 surnames with Zipf weights
    instead of a few dozen each, so that blocks are as large as in a real customer base (benches).
    """
    rng = random.Random(seed)
    streets = STREETS
    if diverse:
        places, _ = _name_pool(2, rng)
        streets = [f"{place} {kind}" for place in places for kind in ("st", "rd", "ln", "ave", "cl")]
        first_names, first_weights = _name_pool(2, rng)
        last_names, last_weights = _name_pool(3, rng)
        last_names, last_weights = last_names + first_names, last_weights + first_weights
    else:
        first_names, first_weights = FIRST, [1.0] * len(FIRST)
        last_names, last_weights = LAST, [1.0] * len(LAST)
    records: list[LinkageRecord] = []
    truth: dict[str, int] = {}
    for person in range(count):
        clean = {
            "first_name": rng.choices(first_names, first_weights)[0] if diverse else rng.choice(FIRST),
            "last_name": rng.choices(last_names, last_weights)[0] if diverse else rng.choice(LAST),
            "date_of_birth": f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
            "house_number": str(rng.randint(1, 200)),
            "street": rng.choice(streets),
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
