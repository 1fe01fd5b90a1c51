"""attack15: strangers whose tools hold the placeholder address software writes for "no email".

Forms, shop tills and CRM integrations that must send an address fill a missing one with a
placeholder, the same for everyone. Public code that does so (found with the library's code
search): a camp registration saving its contacts with ``"noemail@noemail.com"``; a user
registration falling back to ``"noemail@noemail.com"``; a web-to-lead form posting every
inquiry without an address to a CRM as ``"noemail@<the company's domain>"``; test data with
``"noemail@email.com"``. profilesync's blocklist (core/identity.py ``DEFAULT_BLOCKED_PATTERNS``) has
``none@*``, ``null@*``, ``unknown@*``, ``noreply@*``, but no ``noemail@*``.

Promise: two people never merge on junk. Three strangers (different names, different tools)
holding one placeholder address stay three profiles under the default identity settings
(``identity: {mode: exact}``); the per-value limit (8 people-level records) does not keep apart
fewer than nine.
"""

from __future__ import annotations

import pytest

from core.pipeline import IngestSettings
from tests.integration.identity_attack_records import flat, groups, resolve_lines, sqlite_store

PEOPLE = [
    {"source": "crm", "id": "1", "first_name": "Ann", "last_name": "Okafor", "country": "GB"},
    {"source": "shop", "id": "2", "first_name": "Bill", "last_name": "Nakamura", "country": "US"},
    {"source": "mail", "id": "3", "first_name": "Cleo", "last_name": "Dubois", "country": "FR"},
]


@pytest.mark.parametrize("placeholder", ["noemail@noemail.com", "noemail@email.com", "noemail@shop.example"])
@pytest.mark.parametrize("batch_size", [1, 100])
def test_strangers_holding_a_no_email_placeholder_stay_apart(placeholder: str, batch_size: int) -> None:
    # GIVEN three strangers in three tools, each saved with the same placeholder address
    lines = [
        flat(
            p["source"],
            p["id"],
            **{k: v for k, v in p.items() if k not in ("source", "id")},
            email=placeholder,
            day=int(p["id"]),
        )
        for p in PEOPLE
    ]
    store = sqlite_store()
    # WHEN resolved with the default identity settings (exact mode)
    _, quarantined = resolve_lines(
        lines, store, batch_size=batch_size, settings=IngestSettings(sleep=lambda _: None)
    )
    # THEN each is a profile of their own (or quarantined with a reason), never one with another
    held = groups(store)
    assert sum(len(g) for g in held) + len(quarantined) == len(PEOPLE)
    assert [g for g in held if len(g) > 1] == []
