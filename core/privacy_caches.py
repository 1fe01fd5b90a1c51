"""The process's caches of personal values, emptied when a person is erased in it.

Normalising and linking keep bounded ``functools.lru_cache`` caches keyed by the values records
carry (an email, its match key, a phone, a name, a street line, a birth date), so that the values a
sync sees again cost nothing. An erasure deletes the person's items from the stores; these caches
would keep her values in a warm process's memory until evicted. ``erase_person`` calls
``forget_personal_values`` last, which empties every cache named here: the module-level ones in
``PERSONAL`` (by module and name, so that nothing is imported that was not: a module not loaded
cached nothing) and the per-region or per-pattern caches their factories made, the linkage's
pair decisions and candidate nodes kept between batches, and each ``core.suppression.
SuppressionCheck``'s memory of hashes by identifier key (keys in clear: ``email#...``) (``remember``).

Other processes (warm Lambda containers that did not run the erasure) empty the same caches before
their next batch: the erasure bumps the store's erasure epoch, which they read first
(core.erasure_epoch; docs/privacy.md, "Caches in memory").
``NOT_PERSONAL`` names the caches that hold no person's values, with why; tests/unit/
test_privacy_caches.py fails on a cache named in neither.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

__all__ = ["NOT_PERSONAL", "PERSONAL", "forget_personal_values", "forgetting", "remember"]


_C = TypeVar("_C", bound=Callable[..., Any])
_T = TypeVar("_T")

#: (module, attribute): the module-level caches whose keys or values are a person's values.
PERSONAL: Final[tuple[tuple[str, str], ...]] = (
    ("core.linkage.email_keys", "email_match_key"),  # emails
    ("core.linkage.email_keys", "likely_typo_of"),  # email domains (a family's own domain)
    # The same module loaded under a private name by core.mailbox (suppression in exact mode).
    ("core._mailbox_email_keys", "email_match_key"),
    ("core._mailbox_email_keys", "likely_typo_of"),
    ("core.linkage.comparisons", "_email_parts"),  # email match keys
    ("core.linkage.comparisons", "_numbers"),  # the digits of street lines and phones
    ("core.linkage.names", "fold"),  # names, streets, cities
    ("core.linkage.names", "name_letters"),
    ("core.linkage.fields", "_first_name_key"),
    ("core.linkage.fields", "script_name"),  # a first name in another script than Latin
    ("core.linkage.fields", "_street"),
    ("core.linkage.fields", "line_key"),
    ("core.linkage.fields", "_phonetic"),  # a name's sound
    ("core.linkage.fields", "_real_date"),  # birth dates
    ("core.linkage.fields", "_birth_date"),
    ("core.normalise._email", "_normalise_email"),
    ("core.normalise._email", "_idna_domain"),
    ("core.normalise._names", "_normalise_name"),
    ("core.normalise._names", "_text_trait"),  # trait names and values (free text)
    ("core.normalise._record", "_email_identifier"),
    ("core.normalise._record", "_phone_identifier"),
    ("core.normalise._time", "_parse_timestamp"),  # a birth date written as a time
    # Their per-region phone normalisers and per-pattern blocklist matchers are registered by
    # ``remember``; the factories are emptied too, so that a new one starts empty.
    ("core.normalise._phone", "_phone_normaliser"),
    ("core.normalise._phone", "_region_reader"),
    ("core.normalise._record", "_reader_in_country"),
    # Plain dicts, emptied with ``clear``.
    ("core.normalise._phone_valid", "_VALID_E164"),  # phones, E.164
    ("core.content_hash", "_RECENT_BODIES"),  # the last 512 profiles hashed, whole
    ("core.grow_kept", "KEPT"),  # the profiles of growing customers last planned, whole
)

#: Qualified names (module.qualname) of the caches that hold no person's values, and why.
NOT_PERSONAL: Final[dict[str, str]] = {
    "core.linkage.nicknames.nickname_pairs": "the shipped nickname table",
    "core.linkage.nicknames._related": "the shipped nickname table",
    "core.linkage.names._given_names": "the shipped list of popular first names (data/forenames.txt)",
    "core.linkage.conflicts._simplified": "the shipped table of Han characters (data/han_simplified.txt)",
    "core.normalise._country._country_lookup": "the ISO 3166 table",
    "core.normalise._country._normalise_country": "a country (at most 64 k of ~250 codes' spellings)",
    "core.normalise._country._currency_codes": "the ISO 4217 table",
    "core.normalise._country_translations._translated_names": "pycountry's translated country names",
    "core.normalise._country._cached_currency": "a currency code",
    "core.normalise._names._snake_case": "trait names a connector maps (keys, not values)",
    "core.normalise._money._text_money": "an amount and its currency",
    "core.link_settings._settings": "the model and thresholds (its decision and node caches: remember)",
    "core.governance.history._sortable_time": "times of events",
    "core.governance.policy.sample_policy": "the shipped role policy",
    "core.mailbox._match_key": "the match-key function itself",
    "core.mailbox._legacy_key": "the legacy match-key function itself",
    "core.identity._pattern_matcher": "the blocklist patterns (its matchers: remember)",
    "core.ingest_fresh._time_json": "times of records",
    "core.storage.dynamodb_links._retired_prefixes": "the retired blocking rules' key prefixes",
    "core.key_hashing._keyed_state": "the audit salt's keyed HMAC state (a secret, no person's values)",
    "connectors._http._tls._ssl_context": "the TLS context",
    "connectors._http._tls.shared_ssl_context": "the TLS context",
    "connectors.secrets.secrets_provider": "the secrets provider (credentials, no person's values)",
    "connectors.cursor_tags._last_versions": "keyed HMAC tags of record ids (no value in clear)",
    "profilesync.resolve_output._parsed_isoformat": "times of records",
    "profilesync.template.load_template": "the packaged SAM template",
    "profilesync.moto_parse": "DynamoDB expressions of the local moto (tests)",
    "profilesync.moto_condition": "condition texts and names maps of the local moto (values never kept)",
    "profilesync.testing.spec_openapi._load_openapi": "the vendors' published specifications",
    "profilesync.testing.spec_objects._document": "the vendors' published specifications",
    "profilesync.testing.spec_graphql._load_graphql": "the vendors' published specifications",
}

_MADE: weakref.WeakSet[Any] = weakref.WeakSet()


def remember(cache: _T) -> _T:
    """Register ``cache`` (an ``lru_cache`` a factory made: one region's phone normaliser, one
    pattern tuple's matcher; or an object with ``cache_clear``: core.link_reach's decision and node
    caches) to be emptied by ``forget_personal_values``; returns it. Held weakly."""
    _MADE.add(cache)
    return cache


def forget_personal_values() -> int:
    """Empty every cache of personal values in this process; how many caches were emptied."""
    caches: list[Any] = [*_MADE]
    for module_name, attribute in PERSONAL:
        module = sys.modules.get(module_name)
        if module is not None:
            caches.append(getattr(module, attribute))
    for cache in caches:
        (getattr(cache, "cache_clear", None) or cache.clear)()  # an lru_cache, or a dict
    return len(caches)


def forgetting(function: _C) -> _C:
    """``function``, emptying the caches of personal values when it returns or raises (an erasure:
    the values it read again to find and erase the person are gone from the process too)."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        finally:
            forget_personal_values()

    return cast(_C, run)
