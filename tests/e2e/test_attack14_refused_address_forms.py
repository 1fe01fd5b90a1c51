"""attack14: her address written whole in a value that is no address, in forms the scan does not read.

core/quarantine.py's ``ADDRESS`` takes the characters between ASCII separators (whitespace, ``"<>,;:[]()@``)
as a token, and a token counts only when the whole of it (its trailing dots, ``'``, ``{`` and ``}`` taken
off) normalises to an address. Forms a word processor, a web page or a CJK text put around an address
end the token on a character the address cannot hold:

* typographic quotes (Word and Outlook's autocorrect: “ann@x.com”), guillemets («ann@x.com», French and
  German), an ellipsis character (ann@x.com…);
* a ``mailto:`` link with its query (``mailto:ann@x.com?subject=Order%20123``, a web page's contact link);
* CJK punctuation after or between addresses: the ideographic full stop and comma, the fullwidth comma
  and semicolon (``ann@x.com、bob@x.com``).

Each is refused and keyed by nothing: her erasure does not find such a quarantined record, and after
her erasure ``profilesync resolve`` (and a pull) quarantines her line with her name and address. Her
first contact is made at HubSpot's sandbox through its official SDK (the fixture of
test_attack14_invisible_spellings).
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

FORMS = {
    "typographic quotes": f"“{HER}”",
    "guillemets": f"« {NAME[0]} » «{HER}»",
    "ellipsis": f"{HER}…",
    "mailto with a subject": f"mailto:{HER}?subject=Order%20123",
    "ideographic full stop": f"メール：{HER}。",
    "ideographic comma between two": f"{HER}、x.y@example.net",
    "fullwidth semicolon between two": f"{HER}；x.y@example.net",
}


@pytest.mark.parametrize("value", FORMS.values(), ids=FORMS.keys())
def test_her_address_in_a_refused_form_is_keyed_by_her_address(value: str) -> None:
    assert f"email#{HER}" in refused_values("email", value, "US")


def test_resolve_after_her_erasure_writes_her_lines_in_these_forms_nowhere(
    erased: tuple[Path, str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, _ = erased
    # GIVEN a file of a stranger and her lines, her name and her address written in one of the forms
    lines = her_lines("q.r@example.net", (v for k, v in FORMS.items() if "between" not in k), NAME)
    # WHEN resolved beside the store she was erased from
    resolve_beside(state, lines, tmp_path, capsys)
    # THEN none of her lines is written anywhere
    written = written_anywhere()
    assert b"q.r@example.net" in written
    assert traces_in(written) == [], written.decode()
