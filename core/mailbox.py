"""The mailbox an email identifier reaches: every spelling a provider delivers to one mailbox.

Gmail ignores dots in the user name and ``+tags``, ``googlemail.com`` is ``gmail.com``, and a few other
providers document the same kind of equivalence (core.linkage.email_keys, which cites them). For
privacy these spellings are one person: an erasure of ``annsmith@gmail.com`` must find the customer
stored as ``ann.smith@gmail.com``, and suppress ``a.nn.smith+shop@googlemail.com`` too. The mailbox
key, ``mailbox#annsmith@gmail.com``, names the mailbox (every spelling), apart from the ``email#`` key
of any one spelling; it is used to find and suppress, never stored in place of the address.

Why the module is loaded from its file: ``core.linkage``'s package imports the whole matcher
(phonenumbers, jellyfish, the model: about 75 ms of CPU), and suppression is checked on the merge
function's hot path in exact mode too, whose cold start loads none of it. ``email_keys`` itself needs
only the standard library and rapidfuzz, so it is loaded on its own, under a private name, the first
time a mailbox key is asked for. It is the same code: ``tests/unit/test_mailbox.py`` holds both to
the same answers.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import cast

_PRIVATE_NAME = "core._mailbox_email_keys"
# Writers on several threads (the DynamoDB store's workers, concurrent ingests) may ask at once: the
# module is loaded under this lock, so nobody reads it half-loaded.
_LOADING = threading.Lock()


@cache
def _match_key() -> Callable[[str], str]:
    return cast(Callable[[str], str], _email_keys().email_match_key)


@cache
def _legacy_key() -> Callable[[str], str | None]:
    return cast(Callable[[str], "str | None"], _email_keys().legacy_match_key)


def _email_keys() -> ModuleType:
    if "core.linkage.email_keys" in sys.modules:
        # Imported by the matcher, perhaps still running on another thread: the import system's
        # own lock hands it over whole.
        return importlib.import_module("core.linkage.email_keys")
    with _LOADING:
        loaded = sys.modules.get(_PRIVATE_NAME)
        if loaded is None:
            path = Path(__file__).resolve().parent / "linkage" / "email_keys.py"
            spec = importlib.util.spec_from_file_location(_PRIVATE_NAME, path)
            if spec is None or spec.loader is None:  # pragma: no cover - the file ships with core
                raise ImportError(f"cannot load {path}")
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[_PRIVATE_NAME] = loaded  # dataclasses look their module up while it runs
            try:
                spec.loader.exec_module(loaded)
            except BaseException:
                del sys.modules[_PRIVATE_NAME]
                raise
    return loaded


def _folds(domain: str) -> bool:
    """Whether the domain's provider folds spellings (dots, ``+tags`` or another domain): a probe
    address using all three comes back changed exactly then."""
    probe = f"a.b+c@{domain}"
    return _match_key()(probe) != probe


def mailbox_key(key: str) -> str | None:
    """The mailbox key of an email identifier key whose provider folds spellings, every spelling
    giving the same one (``email#Ann.Smith+x@googlemail.com`` and ``email#annsmith@gmail.com`` ->
    ``mailbox#annsmith@gmail.com``); None for other keys and other domains (there the address is
    its own mailbox, and its ``email#`` key says all)."""
    if not key.startswith("email#"):
        return None
    value = key[len("email#") :]
    domain = value.rpartition("@")[2]
    if not domain or not _folds(domain.lower()):
        return None
    return f"mailbox#{_match_key()(value)}"


def legacy_mailbox_key(key: str) -> str | None:
    """The mailbox key an email identifier key had before Proton's transparent ``.`` ``_`` ``-`` were
    folded (``mailbox#ottoline.vanterpool@proton.me``), when it differs from ``mailbox_key``'s; else
    None. Suppression entries written before the upgrade are under it (core.suppression looks it up)."""
    if not key.startswith("email#"):
        return None
    old = _legacy_key()(key[len("email#") :])
    return None if old is None else f"mailbox#{old}"


def folded_email_key(key: str) -> str | None:
    """The ``email#`` key an email identifier key stored before the upgrade that folds fullwidth
    letters and removes every default-ignorable character (core/normalise/_email.py) has now
    (``email#ottoline<U+FE0F>@example.org`` -> ``email#ottoline@example.org``), when it differs; else
    None (an ASCII key is never changed by the fold: the normaliser is loaded only for the others).
    One address in two spellings is one person's: her erasure and her suppression take both."""
    if not key.startswith("email#") or key.isascii():
        return None
    from core.errors import NormalisationError
    from core.normalise import normalise_email

    try:
        folded = f"email#{normalise_email(key[len('email#') :])}"
    except NormalisationError:
        return None
    return None if folded == key else folded


def marker_keys(key: str) -> list[str]:
    """The keys under which a customer given the email key ``key`` is marked as holding it
    (``PutHolder``, ``IDENT#<marker key>`` / ``HOLDER#<customer>``), beside ``key``'s own IDENT item:
    its mailbox when ``key`` is not the mailbox's own spelling, and its folded spelling when ``key``
    was stored before the upgrade that folds it (``folded_email_key``). They are how an erasure naming
    the other spelling finds the customer (core.person_scope): the folded key keeps nothing of the
    spelling it came from, so from a record holding ``ottoline@example.org`` only the marker leads to
    the customer under ``ottoline<U+FE0F>@example.org``. Empty for any other key."""
    if not key.startswith("email#"):
        return []
    found: list[str] = []
    mailbox = mailbox_key(key)
    if mailbox is not None and not is_canonical(key, mailbox):
        found.append(mailbox)
    folded = folded_email_key(key)
    if folded is not None:
        found.append(folded)
    return found


def canonical_spelling(mailbox: str) -> str:
    """The ``email#`` key of a mailbox's own spelling (``mailbox#annsmith@gmail.com`` ->
    ``email#annsmith@gmail.com``): the IDENT item a customer holding exactly it owns."""
    return f"email#{mailbox.partition('#')[2]}"


def is_canonical(key: str, mailbox: str) -> bool:
    """Whether the email key ``key`` is its mailbox's own spelling."""
    return canonical_spelling(mailbox) == key


__all__ = [
    "canonical_spelling",
    "folded_email_key",
    "is_canonical",
    "legacy_mailbox_key",
    "mailbox_key",
    "marker_keys",
]
