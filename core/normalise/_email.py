"""Email addresses: ``normalise_email``."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

import idna

from core.errors import NormalisationError

from ._limits import _CACHE_SIZE, _MAX_INPUT_LEN

# RFC 5322 "atext", lower case only because the address is lower-cased before matching.
_ATEXT: Final = "a-z0-9!#$%&'*+/=?^_`{|}~-"
_ATEXT_SET: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-")
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL_RE: Final = re.compile(_LABEL)

# One regex decides the common case (a plain ASCII address) without touching idna. The TLD must
# contain a letter (the lookahead), so "ann@10.0.0.1" is not taken for a domain.
_EMAIL_RE: Final = re.compile(
    rf"(?=[^@]{{1,64}}@)(?P<local>[{_ATEXT}]+(?:\.[{_ATEXT}]+)*)"
    rf"@(?P<domain>(?:{_LABEL}\.)+(?=[a-z0-9-]*[a-z]){_LABEL})"
)


# Invisible characters that arrive with an address copied from a web page, a document or a
# right-to-left interface, and are never part of one: Unicode's default-ignorable code points
# (Default_Ignorable_Code_Point in DerivedCoreProperties.txt, Unicode 15.1), which renderers draw as
# nothing: the byte-order mark, zero-width space, soft hyphen, word joiner, the bidirectional marks,
# embeddings, overrides and isolates, and also the combining grapheme joiner (U+034F), the variation
# selectors (U+FE00-FE0F, U+E0100-E01EF), the Mongolian free variation selectors (U+180B-180F), the
# Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) and the tags (U+E0000-E0FFF). Each of them kept
# made ``ann<it>@example.com`` an address of its own that looks like hers, so her suppression missed
# it. They are removed, so the address is the one the person typed. Not the zero-width (non-)joiner
# (U+200C, U+200D), which some scripts spell words with (Persian, the Indic scripts): those are kept
# where IDNA's CONTEXTJ rule allows them (RFC 5892 appendix A.1, A.2: after a virama, or a ZWNJ
# between joining letters) and removed elsewhere (after a Latin letter, in an ASCII domain label).
_IGNORABLE: Final = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# Characters besides letters and digits of any script that a UTF-8 local part holds (RFC 6531):
# combining marks (Devanagari and Thai vowel signs, Arabic short vowels, the dot of a lower-cased
# Turkish capital I: "राम", "ปิยะ") and the zero-width joiners scripts spell with.
_JOINERS: Final = frozenset("\u200c\u200d")


def _script_character(c: str) -> bool:
    """Whether a non-ASCII character may be part of a local part: a letter, digit or mark of any
    script, or a zero-width joiner."""
    return c.isalpha() or c.isdecimal() or unicodedata.category(c)[0] == "M" or c in _JOINERS


def normalise_email(value: str) -> str:
    """Return the canonical form of an email address: trimmed, lower-cased, domain in ASCII.

    An internationalised domain is converted to its ASCII form (IDNA 2008 with UTS 46 mapping,
    so ``x@Bücher.de`` becomes ``x@xn--bcher-kva.de``). The syntax check is deliberately the
    usual dot-atom one (no quoted local parts, no IP-literal domains): one ``@``, a local part of
    1 to 64 characters without leading, trailing or double dots, a domain of valid labels with at
    least one dot and a non-numeric top-level domain, at most 254 characters in all. Raises
    ``NormalisationError("email", reason)`` on anything else.
    """
    if not isinstance(value, str):
        raise NormalisationError("email", f"not a string ({type(value).__name__})")
    if len(value) > _MAX_INPUT_LEN:
        raise NormalisationError("email", "longer than 254 characters")
    return _normalise_email(value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _normalise_email(value: str) -> str:
    address = value.strip().lower()
    if not address.isascii():
        address = _fold_unicode(address)
    # Fast path: plain ASCII and no "--" in the domain (which could be an A-label, "xn--", whose
    # Punycode must be checked by idna) is fully decided by the regex.
    if len(address) <= 254 and address.isascii():
        match = _EMAIL_RE.fullmatch(address)
        if match is not None and "--" not in match["domain"]:
            return address
        return _email_slow(address)
    # An ASCII address at an internationalised domain (ann@bücher.de): the domain through idna (as
    # the slow path does), then the result decided by the same regex, the slow path's last check.
    local, at, domain = address.partition("@")
    if at and local.isascii() and "@" not in domain:
        try:
            result = f"{local}@{_idna_domain(domain)}"
        except (idna.IDNAError, UnicodeError):
            return _email_slow(address)  # which says why
        if len(result) <= 254 and _EMAIL_RE.fullmatch(result) is not None:
            return result
    return _email_slow(address)


def _fold_unicode(address: str) -> str:
    """A non-ASCII address as it reads: in NFKC (the fullwidth letters and ``＠`` a CJK input method
    types in its fullwidth mode are their ASCII selves, as UTS 46 maps the domain's; NFKC is NFC for
    everything else), lower-cased again (NFKC of ``Ａ`` is ``A``), without its default-ignorable
    characters and without a zero-width (non-)joiner where CONTEXTJ refuses it."""
    address = _IGNORABLE.sub("", address)
    # after the removal: a removed character between two combining marks left them out of canonical
    # order, and CONTEXTJ must read the joiners' neighbours as the result holds them (or the result
    # normalises to something else again)
    if not unicodedata.is_normalized("NFKC", address):
        address = _IGNORABLE.sub("", unicodedata.normalize("NFKC", address).lower())
    while "\u200c" in address or "\u200d" in address:  # until a pass removes none (a removed
        # joiner may leave combining marks to reorder, and a joiner then stands after another mark)
        folded = unicodedata.normalize("NFC", _JOINER_RUNS.sub(_contextual_joiners, address))
        if folded == address:
            break
        address = folded
    return address.strip()


#: A local part or a domain label: what CONTEXTJ reads a joiner's neighbours in.
_JOINER_RUNS: Final = re.compile(r"[^@.]*[\u200c\u200d][^@.]*")


def _contextual_joiners(match: re.Match[str]) -> str:
    """The part without the joiners CONTEXTJ (RFC 5892) refuses where they stand."""
    part = match.group()
    return "".join(c for i, c in enumerate(part) if c not in _JOINERS or idna.core.valid_contextj(part, i))


#: What the normaliser removed before this version: the invisible format characters alone.
_LEGACY_INVISIBLE: Final = re.compile(
    "[\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def legacy_email_spelling(value: str) -> str | None:
    """The identifier an address normalised to before this version, when that differs from what it
    normalises to now (an address with fullwidth letters, a variation selector, a joiner after a Latin
    letter: it was stored under its own spelling then); None when the two agree or it was no address.
    An erasure named by such a spelling finds a record stored before the upgrade by it."""
    address = value.strip().lower() if isinstance(value, str) else ""
    if address.isascii() or len(value) > _MAX_INPUT_LEN:
        return None
    try:
        old = _email_slow(_LEGACY_INVISIBLE.sub("", address).strip())
    except NormalisationError:
        return None
    try:
        new = _normalise_email(value)
    except NormalisationError:
        return old
    return None if old == new else old


def _email_slow(address: str) -> str:
    """Check an address step by step, so that the reason names the first thing that is wrong."""

    def fail(reason: str) -> NormalisationError:
        return NormalisationError("email", reason)

    if not address:
        raise fail("empty")
    if address.count("@") != 1:
        raise fail("must contain exactly one @")
    local, _, domain = address.partition("@")
    if not local:
        raise fail("nothing before the @")
    if len(local) > 64:
        raise fail("part before the @ is longer than 64 characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise fail("part before the @ has a leading, trailing or double dot")
    # RFC 6531 (SMTPUTF8) allows UTF-8 in the local part: letters, digits and marks of any script
    # count like atext, in NFC so that "garci\u0301a" and "garc\u00eda" are one address.
    local = unicodedata.normalize("NFC", local)
    bad = next(
        (
            c
            for c in local
            if c != "." and c not in _ATEXT_SET and not (ord(c) > 127 and _script_character(c))
        ),
        None,
    )
    if bad is not None:
        raise fail(f"character {bad!r} not allowed before the @")
    if not domain:
        raise fail("nothing after the @")
    if not domain.isascii() or "--" in domain:
        try:
            domain = _idna_domain(domain)
        except (idna.IDNAError, UnicodeError) as exc:
            raise fail(f"domain is not a valid internationalised name ({exc})") from None
    labels = domain.split(".")
    if len(labels) < 2:
        raise fail("domain has no dot")
    if any(not label for label in labels):
        raise fail("domain has a leading, trailing or double dot")
    for label in labels:
        if len(label) > 63:
            raise fail("domain label longer than 63 characters")
        if _LABEL_RE.fullmatch(label) is None:
            raise fail(f"domain label {label!r} is not valid")
    if labels[-1].isdigit():
        raise fail("top-level domain is numeric")
    result = f"{local}@{domain}"
    if len(result) > 254:
        raise fail("longer than 254 characters")
    # Belt and braces: whatever the slow path accepts, the fast path must accept too, so that
    # normalising an already-normalised address is a no-op.
    if result.isascii() and _EMAIL_RE.fullmatch(result) is None:
        raise fail("not a valid email address")
    return result


@functools.lru_cache(maxsize=4096)
def _idna_domain(domain: str) -> str:
    # Cached per domain: one internationalised domain is shared by many addresses, each a cache miss
    # of _normalise_email, and idna costs tens of microseconds. Errors are not cached (lru_cache
    # does not keep exceptions), so a bad domain fails the same way every time.
    return idna.encode(domain, uts46=True).decode("ascii")
