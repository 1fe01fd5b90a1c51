"""attack22: ``profilesync resolve`` writes the same bytes with and without the compiled path on junk.

tests/e2e/test_rust27_native_resolve.py compares the two paths on bench.resolve_scaling's population
(plain ASCII ids, one shape per record). Here the input is what that population never holds, as a
real export may: ids and sources holding the row keys' separators (``#``, ``:``), NUL, controls,
DEL, U+2028, quotes and backslashes, lone surrogates written as JSON escapes (``"\\ud800"``, which
Python's decoder reads into a str the extension cannot take), non-BMP characters, combining marks,
right-to-left marks, letters whose case folding changes their length (``İ``, ``ß``, the Kelvin
sign), ids that quote the event's reason ("new", "RECORD"), integer ids past 64 bits and negative,
very long ids and traits, floats written with exponents, times with offsets and microseconds and at
the calendar's ends, and records that change shape between versions (an email, then a phone and
traits, then a deletion of the traits). Both runs must write the same ``--out`` and quarantine
bytes and the same store rows, and the compiled path must have taken groups (so the comparison is
not of two Python runs). Not compared, since the compiled path is never taken there (core/batch_ingest.py's
docstring: every batch goes to the planner): ``--identity probabilistic``, and a state folder that
holds an erasure (the suppression check reads the store for every record); both were tried here
and the counted path took no group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# skips this module too when the extension is not built
from tests.e2e.test_rust27_native_resolve import _Counted, _resolve

#: Ids a row key or the event's reason may trip on; ``\\ud800`` and ``\\udfff`` are written as JSON
#: escapes (``json.dumps`` escapes them) and so decode to lone surrogates.
IDS: list[Any] = [
    "a#b",
    "x:y:z",
    "#",
    ":",
    "new",
    "NEW",
    "RECORD",
    "a new record",
    "nul\x00here",
    "ctl\x1f\x7f",
    "line\u2028sep",
    'quo"te',
    "back\\slash",
    "\U0001f600emoji",
    "\u202eRTL\u200f",
    "e\u0301\u0301",
    "İstanbul",
    "straße",
    "\u212akelvin",
    "lone\ud800",
    "\udfff",
    2**70,
    -17,
    "w" * 3000,
    " padded ",
]
SOURCES = ["crm", "shop#eu", "s:t", "Ωmega", "mail\x00"]
TIMES = [
    "2026-03-01T10:00:00.123456+05:30",
    "2026-03-01T10:00:00-08:00",
    "2026-03-01T04:30:00.123456Z",
    "0001-01-02T00:00:00Z",
    "9999-12-30T23:59:59.999999Z",
]
TRAITS: list[Any] = [1e-7, 1.5e300, -0.0, 10**30, -(10**30), "t" * 20_000, "\ud83d", {"a#b": [1, None]}, True]


def _lines() -> list[str]:
    """Every id under every source, a few versions each, in a fixed order (no randomness)."""
    out: list[dict[str, Any]] = []
    for s, source in enumerate(SOURCES):
        for i, ident in enumerate(IDS):
            n = s * len(IDS) + i
            first: dict[str, Any] = {
                "source": source,
                "id": ident,
                "updated_at": TIMES[n % len(TIMES)],
                "email": f"p{n % 37}@example.com" if n % 3 else f"ü{n}@bücher.example",
                "first_name": ["Ann", "Zoë", "محمد", "Ἀλέξανδρος", "李"][n % 5],
                "last_name": "O'Brien" if n % 2 else "van der Berg",
                "note": TRAITS[n % len(TRAITS)],
            }
            if n % 4 == 0:
                first["consent"] = {"email": n % 8 == 0}
            out.append(first)
            if n % 2:  # a later version of another shape: a phone, traits, no email
                out.append(
                    {
                        "source": source,
                        "id": ident,
                        "updated_at": "2026-06-01T00:00:00.000001+14:00",
                        "phone": f"+44 20 7946 {n % 97:04d}",
                        "country": "GB",
                        "score": TRAITS[(n + 3) % len(TRAITS)],
                    }
                )
            if n % 5 == 0:  # and one with everything but its id gone
                out.append({"source": source, "id": ident, "updated_at": "2026-07-01T00:00:00Z"})
    return [json.dumps(line) for line in out]


def test_resolve_on_junk_is_the_same_with_and_without_the_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a file of ids, sources, traits and times no generator of ours writes
    source = tmp_path / "junk.jsonl"
    source.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    # WHEN resolve runs on the Python path, then on the compiled one
    python = _resolve(source, tmp_path / "python", None, monkeypatch, "--identity", "exact")
    counted = _Counted(one_call=True)  # the batch's one call (native30g), as resolve takes it
    compiled = _resolve(source, tmp_path / "native", counted, monkeypatch, "--identity", "exact")
    # THEN the compiled path took groups, and the exit code, output, quarantine and rows are the same
    assert counted.batched > 10
    assert compiled[0] == python[0] == 0
    assert compiled[1] == python[1]
    assert compiled[2] == python[2]
    assert compiled[3] == python[3]
