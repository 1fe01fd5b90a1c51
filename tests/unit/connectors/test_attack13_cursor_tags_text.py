"""attack13: the cursor's tags of any text a vendor's JSON can carry (connectors/cursor_tags.py).

A lone surrogate (``"\\ud800"`` in JSON) made ``content_digest`` raise (strict UTF-8), which stopped
six connectors' pulls for good (tests/integration/test_attack13_hostile_values_on_the_wire.py). The
tags of well-formed text must stay what cursors already hold: HMAC of its plain UTF-8.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from hypothesis import given
from hypothesis import strategies as st

from connectors.cursor_tags import id_tag, version_tag

KEY = b"attack13-key"
#: Any code point, surrogates included (what ``json.loads`` makes of ``\\uXXXX`` escapes).
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=20)
WELL_FORMED = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


def _as_cursors_hold(record_id: str, record: object) -> str:
    """``version_tag`` as written before the fix, for well-formed text (strict UTF-8)."""

    def tag(text: str) -> str:
        return hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest()[:16]

    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return tag(record_id)[:8] + tag(f"{record_id}\0{digest}")[:8]


@given(WELL_FORMED, st.dictionaries(WELL_FORMED, WELL_FORMED, max_size=4))
def test_well_formed_text_keeps_the_tags_cursors_hold(record_id: str, record: dict[str, str]) -> None:
    assert version_tag(KEY, record_id, record) == _as_cursors_hold(record_id, record)


@given(ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_any_text_is_tagged_and_two_names_are_two_versions(record_id: str, first: str, second: str) -> None:
    # GIVEN two versions of a record whose id and names may hold lone surrogates
    # WHEN both are tagged THEN nothing raises, and they are one record in two versions iff they differ
    a, b = version_tag(KEY, record_id, {"name": first}), version_tag(KEY, record_id, {"name": second})
    assert a[:8] == b[:8] == id_tag(KEY, record_id)[:8]
    assert (a == b) == (first == second)
