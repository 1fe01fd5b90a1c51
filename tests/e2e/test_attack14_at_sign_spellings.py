"""attack14: her address with its ``@`` written as something else that still reads as her address.

A value that is no address but holds one whole (``Name <address>``, ``mailto:``) is keyed by that
address, so her erasure finds it and her suppression drops it (attack12). core/quarantine.py's scan
looks for address-shaped tokens around an ASCII ``@`` only. Two common spellings have none:

* the fullwidth commercial at ``＠`` (U+FF20), which a Japanese or Chinese input method types in its
  fullwidth mode (web forms in Japan warn about it: 全角の「＠」). The normaliser already folds the
  fullwidth and ideographic full stops of the domain (IDNA's UTS 46 mapping), not the at sign, which
  NFKC maps to ``@``;
* the address URL-encoded, ``ann%40example.com``, as a form post or a tracking link leaves it.

Either is refused and keyed by nothing: her erasure does not find such a quarantined record, and one
arriving after her erasure is quarantined with her name and address. Her first contact is made at
HubSpot's sandbox through HubSpot's official SDK (the fixture of test_attack14_invisible_spellings);
her lines come back through ``profilesync resolve`` beside the store she was erased from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.quarantine import refused_values
from tests.e2e.attack14_support import her_lines, resolve_beside, written_anywhere
from tests.e2e.test_attack14_invisible_spellings import HER, NAME, erased, erased_store, traces_in

pytestmark = pytest.mark.slow

__all__ = ["erased", "erased_store"]  # the fixtures, imported for pytest

USER, _, DOMAIN = HER.partition("@")
SPELLINGS = {
    "fullwidth commercial at": f"{USER}\uff20{DOMAIN}",
    "fullwidth at and full stop": f"{USER}\uff20{DOMAIN.replace('.', chr(0xFF0E))}",
    "URL-encoded": f"{USER}%40{DOMAIN}",
    "URL-encoded mailto": f"mailto:{USER}%40{DOMAIN}",
}


@pytest.mark.parametrize("value", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_her_address_with_another_at_sign_is_keyed_by_her_address(value: str) -> None:
    assert refused_values("email", value, "US") == [f"email#{HER}"]


def test_resolve_after_her_erasure_writes_her_lines_with_another_at_sign_nowhere(
    erased: tuple[Path, str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, _ = erased
    # GIVEN a file of a stranger and her lines: her name, her address with another at sign
    lines = her_lines("x.y@example.net", SPELLINGS.values(), NAME)
    # WHEN resolved beside the store she was erased from
    resolve_beside(state, lines, tmp_path, capsys)
    # THEN none of her lines is written anywhere, neither as a profile nor in the quarantine file
    written = written_anywhere()
    assert b"x.y@example.net" in written
    assert traces_in(written) == [], written.decode()


# --- her user name in fullwidth letters: the domain is folded to ASCII, the user name is not ----------

FULLWIDTH_USER = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in USER)
COMPATIBILITY = {
    "fullwidth user name": f"{FULLWIDTH_USER}@{DOMAIN}",
    "fullwidth user name and domain": f"{FULLWIDTH_USER}@{''.join(chr(ord(c) + 0xFEE0) for c in DOMAIN)}",
}


def test_her_address_with_a_fullwidth_user_name_is_her_address() -> None:
    from core.normalise import normalise_email

    assert normalise_email(COMPATIBILITY["fullwidth user name"]) == HER


def test_resolve_after_her_erasure_drops_her_lines_with_a_fullwidth_user_name(
    erased: tuple[Path, str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, _ = erased
    resolve_beside(state, her_lines("x.y@example.net", COMPATIBILITY.values(), NAME), tmp_path, capsys)
    # THEN only the stranger is a profile, and nothing of hers is quarantined either
    written = written_anywhere()
    assert b"x.y@example.net" in written
    assert traces_in(written) == [], written.decode()
