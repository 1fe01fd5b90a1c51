"""Input limits shared by the normalisers: how long a raw value may be, how large a cache is."""

from __future__ import annotations

from typing import Final

_CACHE_SIZE: Final = 65536

#: Inputs longer than this are rejected before any parsing, so a hostile or broken source cannot
#: make us run regexes over megabytes or fill the caches with huge keys.
_MAX_INPUT_LEN: Final = 1024
