"""Who a push may reach in one tool: the people it already holds, and, in ``upsert`` mode, the people it
does not hold whose consent allows the channel the tool serves.

"Already holds" is decided from data profilesync has, never by asking the tool about each person: the
profile has a record from that tool that stands for a person (``PushRules.holder_types``: a Shopify
customer, not an order), or profilesync pushed this customer there before (a ``PUSHED#`` item, whose
remote id the connector then updates by). Anyone else is someone the push would create:

* ``update`` mode creates nobody: they are skipped (counted as ``skipped_by_mode``);
* ``upsert`` mode creates them only when the profile's consent for the tool's channel is granted
  (``email`` for Mailchimp and Klaviyo); otherwise they are skipped (``skipped_by_consent``). A tool
  whose records send the person nothing (``channel=None``: a CRM contact, a billing customer) asks
  for no consent.

A person whose record the tool deleted (retired, core.retirement: the sync state's ``PUSHED#`` item
for the tool says so) is skipped in either mode (``skipped_retired``) until a record of theirs comes
from the tool again: an upsert would create them there again, against what the tool's user did.

A person whose address the tool refused for good (``PushOutcome.refused``: Mailchimp takes no UTF-8 in
an address's prefix) has a refusal mark in place of a pushed hash (``refusal``): she is not sent again
(``skipped_refused``) until her match key changes, and the mark is no sign the tool holds her.

A person the tool holds is updated whatever their consent says: what is pushed there is enriched
traits, never a subscription (each connector carries the consent state the way its vendor wants).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Literal

from core.connector import PUSH_MODES, ConnectorSpec, PushMode, PushRules
from core.errors import ConnectorConfigError
from core.ports import RETIRED_HASH, PushedState
from core.schema import Profile

Decision = Literal["update", "create", "skipped_by_mode", "skipped_by_consent", "skipped_retired"]


def push_mode_of(spec: ConnectorSpec, requested: str | None) -> PushMode:
    """The push mode of an instance: ``requested`` (checked), else the connector's default."""
    if requested is None:
        return spec.push_rules.mode
    for mode in PUSH_MODES:
        if requested == mode:
            if mode not in spec.push_rules.modes:
                raise ConnectorConfigError(
                    f"{spec.name} cannot push in {mode} mode (it can: "
                    f"{', '.join(sorted(spec.push_rules.modes))}); change its push_mode"
                )
            return mode
    raise ConnectorConfigError(
        f"{spec.name}: push mode {requested!r} is not one of {', '.join(PUSH_MODES)}; set push_mode to "
        "update (only people the tool holds) or upsert (also create people whose consent allows it)"
    )


def holds(profile: Profile, source: str, rules: PushRules, pushed: PushedState | None) -> bool:
    """Whether the tool ``source`` holds this person, as far as profilesync's own data shows."""
    if pushed is not None:
        return True
    return any(
        ref.source == source and (not rules.holder_types or ref.object_type in rules.holder_types)
        for ref in profile.sources
    )


def consent_allows(profile: Profile, channel: str | None) -> bool:
    """Whether the profile's consent allows creating the person in a tool serving ``channel``: an
    explicit grant only (no decision is not consent); any profile when the tool serves no channel."""
    if channel is None:
        return True
    value = profile.consent.get(channel)
    return value is not None and value.granted


def decide(
    profile: Profile, source: str, rules: PushRules, mode: PushMode, pushed: PushedState | None
) -> Decision:
    """What a push does with this profile in tool ``source``: update the person it holds, create them,
    or skip them because of the mode or of their consent, or because the tool deleted their record
    (retired: core.retirement) and no record of theirs came from it since."""
    if pushed is not None and pushed.payload_hash == RETIRED_HASH:
        if not holds(profile, source, rules, None):
            return "skipped_retired"
        pushed = None  # a record of theirs came from the tool again: as if never pushed there
    if holds(profile, source, rules, pushed):
        return "update"
    if mode == "update":
        return "skipped_by_mode"
    if not consent_allows(profile, rules.channel):
        return "skipped_by_consent"
    return "create"


__all__ = [
    "REFUSED_PREFIX",
    "Decision",
    "consent_allows",
    "decide",
    "holds",
    "push_mode_of",
    "refusal",
    "refused",
    "refused_again",
]


#: The prefix of a ``PUSHED#`` item's hash that records a refusal rather than a push.
REFUSED_PREFIX = "refused:"


def refusal(match_key: str, keyed: Callable[[str], str] | None = None) -> str:
    """The mark recorded for a payload whose match key the tool refused for good: the audit-salted
    keyed hash of it (``keyed``: ``SuppressionCheck.hash``), which nobody without the salt can reverse
    by hashing a list of addresses; without ``keyed`` (a caller with no suppression check) a bare
    digest, which such a list reverses, as every mark was before."""
    if keyed is not None:
        return REFUSED_PREFIX + keyed(_REFUSAL_KEY + match_key)
    return REFUSED_PREFIX + _bare(match_key)


def refused_again(mark: str, match_key: str, keyed: Callable[[str], str] | None = None) -> bool:
    """Whether a refusal mark is of this match key: keyed (``refusal``), or a bare digest written
    before marks were keyed, honoured until the match key changes."""
    return mark in (refusal(match_key, keyed), REFUSED_PREFIX + _bare(match_key))


#: What a refusal mark's keyed hash is of, beside the match key: no suppression entry (the keyed hash
#: of an identifier key, ``email#ann@example.com``) has the same hash.
_REFUSAL_KEY = "push-refusal#"


def _bare(match_key: str) -> str:
    return hashlib.blake2b(match_key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def refused(pushed: PushedState | None) -> bool:
    """Whether this ``PUSHED#`` item records a refusal (``refusal``), not a push."""
    return pushed is not None and pushed.payload_hash.startswith(REFUSED_PREFIX)
