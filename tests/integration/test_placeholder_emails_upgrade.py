"""A deployment that upgrades to the "no email" placeholders in the blocklist (core/identity.py).

Strangers joined by ``noemail@noemail.com`` before the upgrade are one customer in the store. The
blocklist changes no stored customer by itself: the next change that reaches the customer (a new
version of any of its records; the same version read again changes nothing) finds its records no
longer one group and splits them (core.split), as for any value the guardrails refuse now
(docs/architecture.md, "Updates split what they no longer join"). Until then they stay joined.
"""

from __future__ import annotations

from dataclasses import replace

from core.identity import DEFAULT_BLOCKED_PATTERNS, IdentityPolicy
from core.pipeline import IngestSettings
from tests.integration.identity_attack_records import flat, groups, resolve_lines, sqlite_store
from tests.integration.test_attack15_placeholder_emails import PEOPLE

PLACEHOLDER = "noemail@noemail.com"
#: The blocklist before the upgrade: none of the "no email" patterns.
BEFORE = IdentityPolicy(
    blocked_patterns=tuple(p for p in DEFAULT_BLOCKED_PATTERNS if "noemail" not in p and "email@" not in p)
)


def _line(person: dict[str, str], day: int, **change: str) -> dict[str, str]:
    fields = {**{k: v for k, v in person.items() if k not in ("source", "id")}, **change}
    return flat(person["source"], person["id"], **fields, email=PLACEHOLDER, day=day)


def test_strangers_joined_before_the_upgrade_split_on_their_next_change() -> None:
    store = sqlite_store()
    settings = IngestSettings(sleep=lambda _: None)
    # GIVEN three strangers joined by the placeholder under the blocklist before the upgrade
    resolve_lines([_line(p, 1) for p in PEOPLE], store, settings=replace(settings, policy=BEFORE))
    assert len(groups(store)) == 1
    # WHEN the upgraded deployment reads nothing new: they stay joined
    resolve_lines([_line(p, 1) for p in PEOPLE], store, settings=settings)
    assert len(groups(store)) == 1
    # AND one of their records changes
    resolve_lines([_line(PEOPLE[0], 2, city="Leeds")], store, settings=settings)
    # THEN the customer splits into the three people
    assert groups(store) == {frozenset({f"{p['source']}:{p['id']}"}) for p in PEOPLE}
