"""The top-level id, owner and country members of a line that is no JSON object (a cut or broken
line), read without parsing it: what tells whose record it was (profilesync.erased_quarantine).

Members are read at the line's top level only, the depth of braces and brackets before each counted
outside string literals, so that a nested ``id`` (a Shopify customer's address's) is not taken for
the record's, and wherever they are written in the line: a line whose keys are sorted puts ``id``
past a long ``addresses`` list, beyond the head its quarantine entry keeps (connectors.jsonl's
``_bad_line`` keeps the members found past it beside the head)."""

from __future__ import annotations

import json
import re
from typing import Final

__all__ = ["MEMBERS", "top_members"]

#: The members read: the record's id, its owner's, its country.
MEMBERS: Final = ("source", "object_type", "id", "owner_id", "owner_type", "country")
#: A string literal, optionally a member's name followed by its value (a string or an integer), or
#: a bracket. Literals are consumed whole, so a bracket inside one is never counted.
_TOKEN: Final = re.compile(
    r'"((?:[^"\\]|\\.)*)"(?:\s*:\s*("(?:[^"\\]|\\.){0,320}"|-?\d{1,30}(?![\d.eE]))?)?|[{}\[\]]'
)
_OPEN: Final = frozenset("{[")
_CLOSE: Final = frozenset("}]")


def top_members(line: str) -> dict[str, object]:
    """The first top-level member of each name in ``MEMBERS`` (decoded) written in ``line``."""
    found: dict[str, object] = {}
    depth = 0
    for match in _TOKEN.finditer(line):
        token = match[0]
        if token in _OPEN:
            depth += 1
        elif token in _CLOSE:
            depth -= 1
        elif depth == 1 and match[2] is not None and len(match[1]) <= 64:
            try:
                name, value = json.loads(f'"{match[1]}"'), json.loads(match[2])
            except ValueError:
                continue
            if name in MEMBERS and name not in found:
                found[name] = value
                if len(found) == len(MEMBERS):
                    break
    return found
