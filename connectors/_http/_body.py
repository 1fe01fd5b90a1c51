"""Read a vendor's JSON answer as the text it meant, whatever bytes reached us.

RFC 8259 (8.1) wants JSON in UTF-8, and what reaches a client is not always that: a WordPress shop
whose database or a plugin wrote Latin-1 (``José`` as the one byte ``0xE9``), an import that kept a
CSV's Windows-1252 bytes, a proxy that re-encodes answers and says so in ``Content-Type: ...;
charset=ISO-8859-1``. Read as UTF-8 and nothing else, one such byte fails the whole page, every
attempt gets the same bytes, and the pull stops at that page on every run: the person, everyone after
her and the cursor with her. So:

- an answer that declares a charset other than UTF-8 is decoded in it (an unknown charset: as UTF-8);
- an answer in UTF-8 (declared or not) with bytes that are not UTF-8 has each such run of bytes read
  as Windows-1252 (what Latin-1 and Windows-1252 text, by far the most frequent strays, meant; the
  five bytes Windows-1252 leaves undefined read as U+FFFD), logged without the values;
- only an answer that still does not parse is cut short or broken (the caller's transient failure).

``json.loads`` of the raw bytes stays the first try: it is the fast path and it keeps what the
standard library does for UTF-8 with a byte order mark and for UTF-16 and UTF-32 answers.
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx

logger = logging.getLogger("connectors.http")

#: The name of the decoding error handler registered below.
STRAY_BYTES = "profilesync-windows-1252"


def _stray_bytes_as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Decoding error handler: the bytes UTF-8 could not read, read one by one as Windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    stray = error.object[error.start : error.end]
    return stray.decode("cp1252", errors="replace"), error.end


codecs.register_error(STRAY_BYTES, _stray_bytes_as_windows_1252)


def _declared_charset(response: httpx.Response) -> str | None:
    """The codec of the charset ``Content-Type`` declares, when it is a known one other than UTF-8."""
    declared = response.charset_encoding
    if not declared:
        return None
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return None  # an unknown charset: read the bytes as UTF-8, as JSON wants
    return None if name in {"utf-8", "utf-8-sig"} else name


def decoded_text(content: bytes, charset: str | None = None) -> tuple[str, bool]:
    """``content`` as text, and whether some of its bytes were not in its charset (UTF-8 unless
    given) and were read as Windows-1252."""
    if charset is not None:
        try:
            return content.decode(charset), False
        except UnicodeDecodeError:
            pass  # the declared charset is wrong about these bytes: read them as UTF-8 below
    try:
        return content.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return content.decode("utf-8-sig", errors=STRAY_BYTES), True


def json_body(
    response: httpx.Response,
    parse_float: Callable[[str], Any] | None = None,
    *,
    label: str = "",
) -> Any:
    """Parse ``response``'s body as JSON, read as described above; ``ValueError`` when it does not
    parse (cut short, or no JSON at all)."""
    content = response.content
    charset = _declared_charset(response)
    if charset is None:
        try:
            return json.loads(content, parse_float=parse_float)
        except UnicodeDecodeError:
            pass  # stray bytes: read them below
    text, strays = decoded_text(content, charset)
    if strays:
        # No value in the line: the bytes are somebody's name or address.
        logger.warning(
            "An answer%s held bytes that are not UTF-8: read as Windows-1252", f" to {label}" if label else ""
        )
    return json.loads(text, parse_float=parse_float)
