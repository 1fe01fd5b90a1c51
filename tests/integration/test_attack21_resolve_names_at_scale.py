"""attack21: the name findings through ``profilesync resolve --identity probabilistic``, shuffled, at scale.

The two name findings of this round (test_attack21_shared_inbox_other_scripts.py,
test_attack21_titles_in_full_names.py) reach the command users run: 600 flat records, in shuffled
order, of 100 families of two sisters on one inbox in Latin script, 100 in Cyrillic, Greek or Japanese
script, and 100 people each with a Stripe customer whose ``full_name`` carries a title or is a
business and a Salesforce contact of the same email. Nothing is lost (every line is in one profile)
and the Latin sisters are two people each; on main none of the 100 non-Latin families is kept apart
and none of the 100 titled or business-named people is joined (2.9 CPU s for the module).
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from profilesync.cli import main

_SCRIPTS = [
    (("Анна", "Мария", "Иванова"), "+7 916 {}"),
    (("Άννα", "Μαρία", "Παπαδοπούλου"), "+30 694 {}"),
    (("美咲", "陽菜", "佐藤"), "+81 90 {}"),
]
_FULL_NAMES = ["Dr. Klaus Becker", "Prof. Dr. Klaus Becker", "Herr Klaus Becker", "Becker Consulting GmbH"]


def _lines() -> tuple[list[dict[str, Any]], dict[str, list[set[str]]]]:
    """The records, and per group the sets of keys that must be one profile each."""
    lines: list[dict[str, Any]] = []
    groups: dict[str, list[set[str]]] = {"latin": [], "script": [], "titled": []}
    for n in range(100):
        for group, (first, other, last), phone in (
            ("latin", ("Anna", "Maria", f"Novak{n}"), "+1 212 555 {}"),
            ("script", *_SCRIPTS[n % 3]),
        ):
            email = f"{group}.family{n}@example.net"
            for which, name in enumerate((first, other)):
                key = f"{group}{n}s{which}"
                lines.append(
                    {
                        "source": "klaviyo",
                        "id": key,
                        "updated_at": f"2026-08-{1 + which:02d}T10:00:00Z",
                        "email": email,
                        "phone": phone.format(f"{1000 + 2 * n + which:04d}"),
                        "first_name": name,
                        "last_name": last,
                    }
                )
                groups[group].append({f"klaviyo:{key}"})
        email = f"k.becker{n}@example.de"
        lines.append(
            {
                "source": "stripe",
                "id": f"cus{n}",
                "updated_at": "2026-08-01T10:00:00Z",
                "email": email,
                "full_name": _FULL_NAMES[n % len(_FULL_NAMES)],
            }
        )
        lines.append(
            {
                "source": "salesforce",
                "id": f"003{n}",
                "updated_at": "2026-08-02T10:00:00Z",
                "email": email,
                "first_name": "Klaus",
                "last_name": "Becker",
            }
        )
        groups["titled"].append({f"stripe:cus{n}", f"salesforce:003{n}"})
    random.Random(21).shuffle(lines)
    return lines, groups


@pytest.fixture(scope="module")
def resolved(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[set[str]], dict[str, list[set[str]]], int]:
    lines, groups = _lines()
    tmp = tmp_path_factory.mktemp("attack21_resolve")
    source, out = tmp / "in.jsonl", tmp / "out.jsonl"
    source.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    argv = ["resolve", str(source), "--out", str(out), "--quiet", "--identity", "probabilistic"]
    assert main([*argv, "--state-dir", str(tmp / "state")]) == 0
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    keys = [{f"{s['source']}:{s['id']}" for s in p["sources"]} for p in profiles]
    return keys, groups, len(lines)


def _whole(keys: list[set[str]], wanted: set[str]) -> bool:
    return wanted in keys


def test_nothing_is_lost_and_latin_sisters_are_two_people(
    resolved: tuple[list[set[str]], dict[str, list[set[str]]], int],
) -> None:
    """Green before and after: every line is in exactly one profile; 200 Latin sisters, 200 profiles."""
    keys, groups, count = resolved
    held = [k for profile in keys for k in profile]
    assert len(held) == len(set(held)) == count
    assert all(_whole(keys, sister) for sister in groups["latin"])


def test_sisters_named_in_their_own_script_are_two_people(
    resolved: tuple[list[set[str]], dict[str, list[set[str]]], int],
) -> None:
    keys, groups, _ = resolved
    apart = sum(_whole(keys, sister) for sister in groups["script"])
    assert apart == len(groups["script"])


def test_titled_and_business_named_customers_are_one_person(
    resolved: tuple[list[set[str]], dict[str, list[set[str]]], int],
) -> None:
    keys, groups, _ = resolved
    joined = sum(_whole(keys, person) for person in groups["titled"])
    assert joined == len(groups["titled"])
