"""Provider-aware email match keys, and domains that are likely typos of a known provider's.

Two spellings of an address can reach one mailbox. Where the provider documents it, the match key
folds them into one; the stored email is never rewritten (the key is only used to find and join
records):

- Gmail ignores dots in the user name and delivers ``name+anything`` to ``name``; ``googlemail.com``
  is the same mailbox as ``gmail.com`` (Google: "Dots don't matter in Gmail addresses",
  https://support.google.com/mail/answer/7436150, and "Create task-specific email addresses",
  https://support.google.com/mail/answer/12096).
- Fastmail: "any email sent to username+whateveryoulike@domain.tld is still sent to your account",
  and subdomain addressing: "whateveryoulike@username.domain.tld" works the same as plus addressing
  (https://www.fastmail.help/hc/en-us/articles/360060591053), so ``shop@ann.fastmail.com`` is
  ``ann@fastmail.com``'s mailbox.
- Microsoft: plus addressing is on by default in Exchange Online and Outlook.com
  (https://learn.microsoft.com/en-us/exchange/recipients-in-exchange-online/plus-addressing-in-exchange-online).
- Proton: "+aliases, by adding + after your username", and one user name across ``proton.me``,
  ``protonmail.com``, ``protonmail.ch`` and the short ``pm.me``
  (https://proton.me/support/creating-aliases, https://proton.me/support/addresses-and-aliases).
- iCloud delivers ``name+tag@icloud.com`` to ``name`` and gives ``@me.com`` and ``@mac.com``
  users the same name at ``@icloud.com`` (Apple documents the three domains in "About iCloud
  Mail addresses"; the ``+tag`` delivery is widely reported but we found no Apple page stating it).

Other domains keep their address as it is: a ``+`` or a dot may be part of a real, different
mailbox there (Microsoft's own page says an address with a ``+`` is first tried as a mailbox of its
own). A domain one typing slip away from a known provider (``gmial.com``) is not folded into it:
``likely_typo_of`` says which provider it probably meant, and the matcher sends such pairs to review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz.distance import OSA

__all__ = [
    "KNOWN_PROVIDER_DOMAINS",
    "email_match_key",
    "legacy_match_key",
    "likely_typo_of",
    "provider_local_part",
]


@dataclass(frozen=True, slots=True)
class _Provider:
    canonical_domain: str
    plus_tags: bool
    transparent: str = ""
    """The characters of a user name the provider ignores (Gmail's dots; Proton's ``.``, ``_``, ``-``)."""
    subdomain_addressing: bool = False
    """Whether ``anything@user.<domain>`` reaches ``user@<domain>`` (Fastmail)."""


_GMAIL: Final = _Provider("gmail.com", plus_tags=True, transparent=".")
_FASTMAIL_COM: Final = _Provider("fastmail.com", plus_tags=True, subdomain_addressing=True)
_FASTMAIL_FM: Final = _Provider("fastmail.fm", plus_tags=True, subdomain_addressing=True)
_PROTON: Final = _Provider("proton.me", plus_tags=True, transparent="._-")
_ICLOUD: Final = _Provider("icloud.com", plus_tags=True)

_PROVIDERS: Final[Mapping[str, _Provider]] = {
    "gmail.com": _GMAIL,
    "googlemail.com": _GMAIL,
    "fastmail.com": _FASTMAIL_COM,
    "fastmail.fm": _FASTMAIL_FM,
    "proton.me": _PROTON,
    "protonmail.com": _PROTON,
    "protonmail.ch": _PROTON,
    "pm.me": _PROTON,
    "icloud.com": _ICLOUD,
    "me.com": _ICLOUD,
    "mac.com": _ICLOUD,
    **{
        domain: _Provider(domain, plus_tags=True)
        for domain in ("outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk", "outlook.fr")
    },
}

#: Mailbox providers whose domains are common in customer data. A domain one edit away from one of
#: them and not itself in the list (``gmial.com``, ``hotmial.com``, ``gmail.con``) is a likely typo;
#: the list holds real providers one edit apart from others (``mail.com`` / ``gmail.com``,
#: ``ymail.com`` / ``gmail.com``) so that neither is taken for a typo of the other.
KNOWN_PROVIDER_DOMAINS: Final[frozenset[str]] = frozenset(
    {
        *_PROVIDERS,
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "aol.com",
        "aim.com",
        "mail.com",
        "email.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "comcast.net",
        "verizon.net",
        "att.net",
        "btinternet.com",
        "sky.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "t-online.de",
        "libero.it",
        "hey.com",
        "tutanota.com",
    }
)


def _split(email: str) -> tuple[str, str]:
    local, _, domain = email.strip().lower().rpartition("@")
    return local, domain


def provider_local_part(local: str, domain: str) -> str:
    """The user name part as the domain's provider reads it (``+tag`` and the characters it ignores
    dropped where documented)."""
    provider = _PROVIDERS.get(domain)
    if provider is None:
        return local
    if provider.plus_tags:
        local = local.partition("+")[0] or local
    if provider.transparent:
        local = local.translate(_DROPPED[provider.transparent]) or local
    return local


_DROPPED: Final = {chars: str.maketrans("", "", chars) for chars in ("._-", ".")}


def _subdomain_address(domain: str) -> tuple[str, str] | None:
    """``(user, provider domain)`` of a subdomain address's domain (``ann.fastmail.com``), or None."""
    user, _, parent = domain.partition(".")
    provider = _PROVIDERS.get(parent)
    if user and provider is not None and provider.subdomain_addressing:
        return user, parent
    return None


@lru_cache(maxsize=65536)
def email_match_key(email: str) -> str:
    """The key two addresses of one mailbox share: ``J.Smith+shop@googlemail.com`` -> ``jsmith@gmail.com``.

    Only providers that document the equivalence are folded (see the module docstring); for every
    other domain the key is the lower-cased address. The result is for matching only: never store
    or send it in place of the address.
    """
    local, domain = _split(email)
    if not local or not domain:
        return email.strip().lower()
    provider = _PROVIDERS.get(domain)
    if provider is None:
        subdomain = _subdomain_address(domain)
        if subdomain is None:
            return f"{local}@{domain}"
        local, domain = subdomain  # anything@user.fastmail.com is user's mailbox
        provider = _PROVIDERS[domain]
    return f"{provider_local_part(local, domain)}@{provider.canonical_domain}"


def legacy_match_key(email: str) -> str | None:
    """The key the version before Proton's transparent ``.`` ``_`` ``-`` were folded gave ``email``,
    when it differs from ``email_match_key``'s (``ottoline.vanterpool@proton.me``, the dots kept); else
    None. Suppression entries and mailbox markers written before the upgrade hold that key: the
    suppression check looks it up too, so a person erased before it stays erased."""
    local, domain = _split(email)
    provider = _PROVIDERS.get(domain)
    if provider is not _PROTON or not local:
        return None
    old = f"{local.partition('+')[0] or local}@{provider.canonical_domain}"
    return None if old == email_match_key(email) else old


@lru_cache(maxsize=16384)
def likely_typo_of(domain: str) -> str | None:
    """The known provider domain this one is probably a typo of, or ``None``.

    One insertion, deletion, substitution or swap of neighbours away (``gmial.com``, ``gmai.com``,
    ``hotmail.co``), and not itself a known provider. A typo is never joined on: the matcher asks a
    person (a review item), since a real mailbox can sit at a domain that looks like a typo.
    """
    domain = domain.strip().lower()
    if domain in KNOWN_PROVIDER_DOMAINS or "." not in domain:
        return None
    best: str | None = None
    for known in sorted(KNOWN_PROVIDER_DOMAINS):
        if abs(len(known) - len(domain)) <= 1 and OSA.distance(domain, known, score_cutoff=1) <= 1:
            if best is not None:
                return None  # as close to two providers: no single likely meaning
            best = known
    return best
