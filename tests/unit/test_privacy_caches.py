"""An erasure empties the process's caches of personal values (core.privacy_caches).

Normalising and linking keep ``lru_cache`` caches keyed by emails, match keys, phones, names, streets
and birth dates (65,536 entries each, most of them): a warm Lambda that erased a person kept her
values in memory until evicted. After ``erase_person`` in a process, none of them holds anything;
and every cache of the code is named either a cache of personal values or one that holds none, so
that a cache added later is classified before it ships.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
import sys
from dataclasses import replace
from typing import Any

import pytest

import connectors
import core
import profilesync
from core import content_hash, mailbox, privacy_caches
from core.erasure_epoch import forget_if_erased
from core.identity import IdentityPolicy
from core.linkage import comparisons, email_keys, fields
from core.normalise import _email, _names, _phone, _phone_valid, _record
from core.schema import Identifier
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import HANA, flat, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import SALT, memory_stores

HER_EMAIL = "hana.sato@corp.jp"
HER_PHONE = "+44 20 7946 0018"
LINES = [
    flat("crm", "1", **HANA, email=HER_EMAIL, phone=HER_PHONE),
    flat("shop", "2", **{**HANA, "first_name": "HANA", "address": "8 Mill Ln"}, email="hanasato92@me.com"),
    flat("crm", "3", first_name="Ola", last_name="Berg", email="ola.berg@gmial.com", postcode="M4 5JD"),
]


def _sizes() -> dict[str, int]:
    """How many entries the caches the review named hold (an erased person's values live there)."""
    caches: dict[str, Any] = {
        "email_match_key": email_keys.email_match_key,
        "likely_typo_of": email_keys.likely_typo_of,
        "_email_parts": comparisons._email_parts,
        "fold": fields.fold,
        "_phonetic": fields._phonetic,
        "_normalise_email": _email._normalise_email,
        "_normalise_name": _names._normalise_name,
        "_email_identifier": _record._email_identifier,
        "_phone_identifier": _record._phone_identifier,
        "phone normaliser GB": _phone._phone_normaliser("GB"),
        "phone normaliser US": _phone._phone_normaliser("US"),
    }
    sizes = {name: cache.cache_info().currsize for name, cache in caches.items()}
    sizes["_VALID_E164"] = len(_phone_valid._VALID_E164)
    sizes["_RECENT_BODIES"] = len(content_hash._RECENT_BODIES)
    return sizes


def test_after_an_erasure_in_process_no_cache_holds_a_personal_value() -> None:
    with memory_stores() as stores:
        settings = replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))
        # a process that knows the store's erasure epoch already (a store seen for the first time
        # empties the caches as a batch starts: core.erasure_epoch), so that the normalisers' stay
        forget_if_erased(stores.suppression)
        resolve_lines(LINES, stores.profiles, settings=settings)
        filled = _sizes()
        # Her values went through each (else the check below proves nothing); GB's normaliser
        # read her phone ("+44"), US's is the default region's.
        empty = [n for n in ("email_match_key", "_email_parts", "_normalise_email", "fold") if not filled[n]]
        assert empty == [], filled
        assert filled["_phone_identifier"] > 0, filled
        assert filled["_VALID_E164"] > 0, filled
        her = Identifier.assemble(kind="email", value=HER_EMAIL)
        linkage = settings.linkage
        assert linkage is not None
        assert linkage.decisions.known, "the pair of her records was decided"
        report = stores.erase(her, "req-hana", IdentityPolicy(), settings)
        assert report.outcome == "erased", report
        # the linkage's pair decisions and candidate nodes (her records, prepared) go too
        assert linkage.decisions.known == {}
        assert linkage.candidates.known == {}
    named = [getattr(sys.modules[m], a) for m, a in privacy_caches.PERSONAL if m in sys.modules]
    kept = [getattr(c, "__qualname__", c) for c in [*named, *privacy_caches._MADE] if (_size(c) or 0) > 0]
    assert kept == []
    assert {name: size for name, size in _sizes().items() if size} == {}


def _size(cache: Any) -> int | None:
    """Entries a cache holds: an lru_cache's size, a dict's length, or the entries of a kept-values
    object (core.linkage's ``_ByValue.kept``, ``_KeptWeights.tables``, the linkage's ``known``)."""
    info = getattr(cache, "cache_info", None)
    if info is not None:
        return int(info().currsize)
    if isinstance(cache, dict):
        return len(cache)
    tables = getattr(cache, "tables", None)
    if isinstance(tables, list):
        return sum(len(table) for table in tables)
    for name in ("kept", "known"):
        held = getattr(cache, name, None)
        if isinstance(held, dict):
            return len(held)
    return None


def test_a_kept_values_object_is_measured_not_skipped() -> None:
    """The walk above reads every kind of cache privacy_caches holds: a kept-values object with a
    no-op ``cache_clear`` would otherwise pass it unseen (revB22)."""
    from core.linkage.fused import _KeptWeights
    from core.linkage.scoring import _ByValue

    weights, by_value = _KeptWeights(), _ByValue()
    weights.table()["hana"] = 1.0
    by_value.kept["hana"] = None  # type: ignore[assignment]
    assert (_size(weights), _size(by_value)) == (1, 1)
    privacy_caches.forget_personal_values()
    assert (_size(weights), _size(by_value)) == (0, 0)


def test_an_erasure_that_fails_still_empties_the_caches() -> None:
    email_keys.email_match_key(HER_EMAIL)

    @privacy_caches.forgetting
    def failing() -> None:
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        failing()
    assert email_keys.email_match_key.cache_info().currsize == 0


def _every_module() -> None:
    for package in (core, connectors, profilesync):
        for found in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(found.name)


def test_every_cache_is_named_one_of_personal_values_or_one_that_holds_none() -> None:
    _every_module()
    with memory_stores() as stores:
        resolve_lines(LINES, stores.profiles, settings=ingest_settings())  # makes the per-region ones
    personal = {id(getattr(sys.modules[m], a)) for m, a in privacy_caches.PERSONAL if m in sys.modules}
    made = {id(c) for c in privacy_caches._MADE}
    unnamed = []
    for cache in gc.get_objects():
        if type(cache).__name__ != "_lru_cache_wrapper":
            continue
        module = getattr(cache, "__module__", "") or ""
        if not module.startswith(("core.", "connectors.", "profilesync.")):
            continue
        name = f"{module}.{cache.__qualname__}"
        # by name too: a module loaded twice (core.mailbox's private copy, a test's reload) keeps
        # the first copy's caches alive, same names
        known = {name, module} & {
            *privacy_caches.NOT_PERSONAL,
            *(f"{m}.{a}" for m, a in privacy_caches.PERSONAL),
        }
        if id(cache) not in personal | made and not known:
            unnamed.append(name)
    assert unnamed == [], unnamed
    assert len(personal) == len([m for m, _ in privacy_caches.PERSONAL if m in sys.modules])


def test_the_mailbox_private_copy_of_the_match_keys_is_emptied_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a process whose matcher is not loaded (exact identity): core.mailbox loads email_keys
    # under a private name, with caches of its own, and suppression asks it her mailbox
    monkeypatch.delitem(sys.modules, "core.linkage.email_keys", raising=False)
    monkeypatch.delitem(sys.modules, mailbox._PRIVATE_NAME, raising=False)
    mailbox._match_key.cache_clear()
    try:
        assert mailbox.mailbox_key("email#Hana.Sato+shop@googlemail.com") == "mailbox#hanasato@gmail.com"
        private = sys.modules[mailbox._PRIVATE_NAME].email_match_key
        assert private.cache_info().currsize > 0
        # WHEN an erasure ends THEN the private copy holds nothing either
        privacy_caches.forget_personal_values()
        assert private.cache_info().currsize == 0
    finally:
        mailbox._match_key.cache_clear()
