"""The demo population varied the way tools vary one person, for probabilistic identity.

``core.testing.population`` gives every record of a person her email or her phone, so exact
identifiers find everyone. Real tools do not: the shop has a private address, the CRM a work one; a
newsletter tool holds a nickname; one tool was typed with a slip in the name; one still has the
address she moved from; phones come national or international. This module adds, per person, the
traits the connectors map (a date of birth, a street address, a postcode and a town) and then
varies each record after the first:

- **work email** (``WORK_EMAIL``): her private email and phone replaced by a work address of her
  own, so nothing exact is shared with her other records;
- **nickname** (``NICKNAME``): a listed nickname for her first name (``bob`` / ``robert``);
- **name typo** (``TYPO``): two neighbouring letters of the last name swapped;
- **moved** (``MOVED``): an earlier address (another street and postcode, same town);
- **no birth date** (``NO_DOB``): the tool never asked.

A record that loses both email and phone keeps its birth date or address, as a CRM contact does,
so it is still one person's to find. The truth is the person index, as in ``population``:
``varied_population(n)`` yields ``(person index, record)`` pairs. Deterministic per seed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from core.testing.population import Person, malformed, people, records_for

__all__ = ["Accuracy", "Variation", "grouping_accuracy", "varied_population", "varied_records"]

WORK_EMAIL: Final = 0.25
NICKNAME: Final = 0.15
TYPO: Final = 0.10
MOVED: Final = 0.15
NO_DOB: Final = 0.30

_NICKNAMES: Final = {
    "ann": ["annie", "anne"],
    "bob": ["robert", "rob"],
    "eve": ["eva", "evelyn"],
    "jules": ["julian"],
    "marc": ["marcus"],
    "rosa": ["rose"],
    "wen": ["wendy"],
    "mary-jane": ["mary jane"],
}
# Enough streets and towns that two people of one name rarely share a street: a town has hundreds.
_STREETS: Final = [
    f"{name} {kind}"
    for name in ("High", "Station", "Church", "Park", "Mill", "Green", "Victoria", "Manor", "Kings", "Queens")
    for kind in ("Street", "Road", "Lane", "Avenue", "Close")
]
_TOWNS: Final = [
    "Leeds",
    "Bristol",
    "York",
    "Bath",
    "Derby",
    "Exeter",
    "Hull",
    "Ely",
    "Ripon",
    "Wells",
    "Truro",
    "Leek",
    "Hove",
    "Diss",
    "Looe",
    "Rye",
    "Bude",
    "Corby",
    "Crewe",
    "Dover",
    "Epsom",
    "Frome",
    "Goole",
    "Hythe",
    "Ilkley",
    "Kendal",
    "Ludlow",
    "Malton",
    "Newark",
    "Oakham",
]
_COMPANIES: Final = ["acme.example", "initech.example", "globex.example", "umbrella.example"]


@dataclass(frozen=True)
class Variation:
    """A person's identity traits beyond email and phone."""

    date_of_birth: str
    street: str
    postcode: str
    town: str
    old_street: str
    old_postcode: str


def _variation(person: Person, rng: random.Random) -> Variation:
    born = f"{rng.randint(1945, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    town = rng.choice(_TOWNS)

    def street() -> tuple[str, str]:
        # Postcodes nearly unique per address, as a street number and postcode are in life.
        sector = f"{town[:2].upper()}{rng.randint(1, 29)} {rng.randint(1, 9)}"
        unit = rng.choice("ABDEFGHJLN") + rng.choice("PQRSTUWXYZ")
        return f"{rng.randint(1, 240)} {rng.choice(_STREETS)}", sector + unit

    (now, code), (old, old_code) = street(), street()
    return Variation(born, now, code, town, old, old_code)


def _swap(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randint(1, len(text) - 3)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def varied_records(person: Person, rng: random.Random) -> list[dict[str, Any]]:
    """The person's records (``population.records_for``) with her traits and the variations above."""
    trait_rng = random.Random(f"traits-{person.index}")
    traits = _variation(person, trait_rng)
    out = []
    for n, record in enumerate(records_for(person, rng)):
        varied = dict(record)
        varied.update(
            date_of_birth=traits.date_of_birth,
            address=traits.street,
            postal_code=traits.postcode,
            city=traits.town,
        )
        varied.setdefault("first_name", person.first)
        varied.setdefault("last_name", person.last)
        if n > 0:
            if trait_rng.random() < WORK_EMAIL:
                varied.pop("phone", None)
                varied["email"] = (
                    f"{person.first[0]}.{_ascii(person.last)}{person.index}@{trait_rng.choice(_COMPANIES)}"
                )
            if trait_rng.random() < NICKNAME and person.first in _NICKNAMES:
                varied["first_name"] = trait_rng.choice(_NICKNAMES[person.first])
            if trait_rng.random() < TYPO:
                varied["last_name"] = _swap(str(varied["last_name"]), trait_rng)
            moved = trait_rng.random() < MOVED
            if moved:
                varied["address"], varied["postal_code"] = traits.old_street, traits.old_postcode
            if trait_rng.random() < NO_DOB and not moved:
                del varied["date_of_birth"]
        out.append(varied)
    return out


def _ascii(name: str) -> str:
    return "".join(c for c in name if c.isascii() and c.isalpha())


def varied_population(
    count: int, seed: int = 7, malformed_share: float = 0.0
) -> list[tuple[int | None, dict[str, Any]]]:
    """``(person index or None for malformed, flat record)`` pairs, shuffled, deterministic per seed."""
    rng = random.Random(seed)
    pairs: list[tuple[int | None, dict[str, Any]]] = []
    for person in people(count, seed):
        pairs.extend((person.index, r) for r in varied_records(person, rng))
    bad = int(len(pairs) * malformed_share)
    pairs.extend((None, malformed(rng, i)) for i in range(bad))
    rng.shuffle(pairs)
    return pairs


@dataclass(frozen=True)
class Accuracy:
    """Profiles against the generator's truth: pairwise precision, recall and F1 over the records
    each profile joins, people split over several profiles, profiles holding several people."""

    precision: float
    recall: float
    f1: float
    profiles: int
    people: int
    split: int
    over_merged: int


def grouping_accuracy(groups: Iterable[Iterable[str]], person_of: Mapping[str, int]) -> Accuracy:
    """Score ``groups`` (each a profile's record keys, ``source:id``) against ``person_of``."""

    def pairs(members: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
        return {p for group in members for p in itertools.combinations(sorted(group), 2)}

    listed = [list(g) for g in groups]
    truth: dict[int, list[str]] = {}
    for key, person in person_of.items():
        truth.setdefault(person, []).append(key)
    predicted, expected = pairs(listed), pairs(truth.values())
    hits = len(predicted & expected)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    profiles_of: dict[int, set[int]] = {}
    for n, group in enumerate(listed):
        for key in group:
            profiles_of.setdefault(person_of[key], set()).add(n)
    return Accuracy(
        precision,
        recall,
        f1,
        len(listed),
        len(truth),
        sum(1 for found in profiles_of.values() if len(found) > 1),
        sum(1 for g in listed if len({person_of[k] for k in g}) > 1),
    )
