"""attack15: a Klaviyo profile that is subscribed and suppressed (a spam complaint), then synced.

Klaviyo's Profiles API reference: "Suppressed profiles: Profiles that cannot receive emails, even if
they have provided consent" (https://developers.klaviyo.com/en/v2026-07-15/reference/profiles). Its
spec (``specs/klaviyo-profiles-2026-07-15.json.gz``, ``EmailMarketing``) gives both side by side:
``consent`` (``SUBSCRIBED``) and ``suppression`` (``HARD_BOUNCE``, ``INVALID_EMAIL``,
``SPAM_COMPLAINT``, ``UNSUBSCRIBE``, ``USER_SUPPRESSED``), with ``can_receive_email_marketing``
"True if [the] profile does not have any global suppressions".

Promise (the project's own rule for Mailchimp: a ``cleaned`` member, one whose address bounced, is
read as no consent, connectors/mailchimp/_mapping.py): a person Klaviyo may not email, who marked
its email as spam, is not held as granting email consent, which the push would carry to the other
tools (a Shopify customer created as SUBSCRIBED, the enriched consent everywhere).
"""

from __future__ import annotations

from typing import Any

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool


def test_a_subscribed_profile_suppressed_for_a_spam_complaint_grants_no_consent() -> None:
    sandbox, connector = tool("klaviyo", people=8)
    with sandbox.lock:
        target = next(p for p in sandbox.profiles.values() if p["consent"] == "SUBSCRIBED")
    plain = sandbox._resource

    def answered(profile: dict[str, Any], base: str, *, subscriptions: bool) -> dict[str, Any]:
        resource = plain(profile, base, subscriptions=subscriptions)
        if subscriptions and profile["id"] == target["id"]:
            marketing = resource["attributes"]["subscriptions"]["email"]["marketing"]
            marketing["can_receive_email_marketing"] = False
            marketing["suppression"] = [{"reason": "SPAM_COMPLAINT", "timestamp": profile["updated"]}]
        return resource

    # GIVEN a Klaviyo account in which one subscribed person marked its email as spam
    sandbox._resource = answered  # type: ignore[method-assign]
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # WHEN it is synced
        run = pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    assert run.quarantined == 0
    # THEN her profile holds no email consent granted
    (held,) = [
        p for p in store.iter_profiles() if any(r.key == f"klaviyo:profile:{target['id']}" for r in p.sources)
    ]
    consent = held.consent.get("email")
    assert consent is None or not consent.granted
