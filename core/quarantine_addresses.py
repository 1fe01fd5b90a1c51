"""The addresses a refused email value holds (core.quarantine): the value normalised, or each
address written whole inside it (``Ann <ann@x.com>``, ``mailto:ann@x.com``, ``ann@x.com.``), read
in its common written forms (URL-encoded, between typographic quotes, after CJK punctuation, with a
fullwidth ``＠``), so that an erasure finds the quarantined record by her key and never by a
substring of another person's address. Split from core.quarantine by concern; its names are still
importable from there."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

from core.errors import NormalisationError

__all__ = ["ADDRESS", "address_text", "json_unescaped", "refused_emails"]

#: Something shaped like an address inside a value that is no address: the characters between the
#: separators a name-addr (``Ann <ann@x.com>``), a link (``mailto:ann@x.com``), quotes or a list put
#: around it, none of which an address holds unquoted (``'``, ``{`` and ``}`` may be in its user name:
#: they are taken off its ends only when the token is no address as written). A token is taken whole,
#: so ``jotariq@x.com`` never yields ``tariq@x.com``: it starts only after a separator (or an ``@``),
#: and its runs are possessive, so the scan is linear in the value (without that, ``"a" * 16_000 +
#: "@"`` cost 1.6 CPU seconds, every start inside the run scanning it again).
_NOT_IN_ADDRESS: Final = r"\s\"<>,;:\[\]()@"
#: The domain ends at a ``?`` too: a link's query (``mailto:ann@x.com?subject=Order``), never in a domain.
ADDRESS: Final = re.compile(rf"(?<![^{_NOT_IN_ADDRESS}])[^{_NOT_IN_ADDRESS}]++@[^{_NOT_IN_ADDRESS}?]++")

#: A JSON escape inside a string literal: ``\\uXXXX`` or one of the short ones.
_JSON_ESCAPE: Final = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_SHORT_ESCAPES: Final = dict(zip('"\\/bfnrt', '"\\/\b\f\n\r\t', strict=True))


def json_unescaped(text: str) -> str:
    """``text`` (raw JSON, whole or cut) with its escapes decoded, left to right, so that an address
    before a ``\\r\\n`` (a vCard's line end in a JSON string) ends there and ``ann\\u0040x.com``
    reads as an address: what ``ADDRESS`` is run over in a line no JSON parser read."""
    return _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else _SHORT_ESCAPES[m[2]], text)


def _email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    from core.normalise import normalise_email

    try:
        return normalise_email(value)
    except NormalisationError:
        return None


def refused_emails(value: Any) -> list[str]:
    """The addresses a raw email value holds: the value normalised, or, when it is no address itself
    (``Ann <ann@x.com>``, ``mailto:ann@x.com``, ``ann@x.com.`` with its domain fully qualified), each
    address-shaped token in it, its trailing dots taken off: the record names that person all the
    same, and her erasure must find it (and her suppression drop it). The tokens are read in the
    value's common written forms too (``address_text``): URL-encoded, between typographic quotes or
    guillemets, after CJK punctuation, with a fullwidth ``＠``."""
    email = _email(value)
    if email is not None:
        return [email]
    if not isinstance(value, str):
        return []
    text = address_text(value)
    if "@" not in text:
        return []
    found: dict[str, None] = {}
    for match in ADDRESS.finditer(text):  # every one: the scan is linear, a token a few µs
        token = match.group().rstrip(".")
        email = _email(token) or _email(token.strip("'{}").rstrip("."))
        if email is not None:
            found[email] = None
    return list(found)


#: The full stops a CJK text ends a sentence with, and UTS 46 reads as a domain's dots.
_FULL_STOPS: Final = frozenset("\u3002\uff0e\uff61")


def address_text(value: str) -> str:
    """``value`` as the address scan reads it: ``%40`` decoded (a form post, a tracking link), and
    when it is not ASCII, in NFKC (the fullwidth ``＠`` and the fullwidth colon, comma and semicolon
    are ASCII's), its ideographic full stops dots, and every other non-ASCII punctuation, symbol,
    space or control (“”, «», ``、``) a space, so that a token ends there: none is in an address the
    normaliser takes. Format characters stay: the normaliser removes those that are invisible.

    Except inside a word: a punctuation between two letters or digits (neither of them wide, as CJK
    text's are) does not cut the token there, or ``o’brien@x.com`` would be read as ``brien@x.com``,
    another person's address (``col·lecta@x.cat`` as ``lecta@x.cat``). The typographic apostrophe
    there is the ASCII one a phone's keyboard replaced (``o'brien@x.com``, her address); any other
    such punctuation stays, and the token is no address."""
    text = value.replace("%40", "@")
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return "".join(_as_read(text, i, c) for i, c in enumerate(text))


#: The typographic apostrophes a keyboard writes for ``'`` (which a user name may hold, RFC 5322 atext).
_APOSTROPHES: Final = frozenset("\u2018\u2019")


def _as_read(text: str, i: int, c: str) -> str:
    if ord(c) <= 127:
        return c
    if c in _FULL_STOPS:
        return "."
    if not _ends_token(c):
        return c
    if (
        0 < i < len(text) - 1
        and unicodedata.category(c)[0] == "P"
        and not _wide(c)
        and _in_word(text[i - 1])
        and _in_word(text[i + 1])
    ):
        return "'" if c in _APOSTROPHES else c
    return " "


def _in_word(c: str) -> bool:
    """Whether ``c`` is a letter or digit of a word a punctuation may stand inside (not a CJK one:
    ``、`` after an ideograph ends a token)."""
    return c.isalnum() and not _wide(c)


def _wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in "WF"


def _ends_token(c: str) -> bool:
    category = unicodedata.category(c)
    return category[0] in "PSZ" or category == "Cc"
