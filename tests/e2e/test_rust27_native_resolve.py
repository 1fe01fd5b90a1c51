"""``profilesync resolve`` writes the same bytes and stores the same rows with the compiled path.

bench.resolve_scaling's generated population (three tools, overlapping people, 2% malformed lines)
is resolved twice in this process, once with core.ingest_native's compiled path (native/,
``profilesync_native``) and once without it: the ``--out`` file, the quarantine file and every row
of the run's own store (read just before the run removes it) must be the same, and the compiled
path must have written the new customers (a count of the groups each compiled function took: the one
call a batch of native/src/batch.rs, or, with it turned off, the five calls a group before it: the
SOURCE rows and events, the identifier loop, the IDENT and HOLDER rows, the profile; so the
comparison is not of two Python runs).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import core.ingest_native as native_module
import profilesync.stores as stores_module
from bench.resolve_scaling import generate
from core.ingest_native import Declined, NativeRows
from profilesync.cli import main

try:
    import profilesync_native
except ImportError as error:  # CI says why the build failed; the test says it skips
    pytest.skip(f"profilesync_native is not built (make native): {error}", allow_module_level=True)


def _resolve(
    source: Path, folder: Path, native: NativeRows | None, monkeypatch: pytest.MonkeyPatch, *options: str
) -> Any:
    """The exit code, the output's and quarantine's bytes and the store's rows of one ``resolve`` of
    ``source`` (with ``options``), the compiled rows ``native`` (None: the Python path)."""
    rows: list[list[tuple[Any, ...]]] = []
    remove = stores_module._remove_store

    def keep_rows(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            rows.append(conn.execute("SELECT * FROM items ORDER BY pk, sk").fetchall())
        remove(path)

    out, quarantine = folder / "profiles.jsonl", folder / "quarantine.jsonl"
    with monkeypatch.context() as patch:
        patch.setattr(native_module, "ROWS", native)
        patch.setattr(stores_module, "_remove_store", keep_rows)
        argv = ["resolve", str(source), "--out", str(out), "--quarantine", str(quarantine), "--quiet"]
        code = main([*argv, *options, "--state-dir", str(folder / "state")])
    assert len(rows) == 1
    return code, out.read_bytes(), quarantine.read_bytes(), rows[0]


class _Counted(NativeRows):
    """The compiled path, counting the groups it wrote."""

    __slots__ = ("batched", "keyed", "looped", "one_call", "profiled", "taken")

    def __init__(self, one_call: bool) -> None:
        super().__init__(profilesync_native)
        self.one_call = one_call
        self.taken = self.looped = self.keyed = self.profiled = self.batched = 0

    def fresh_rows(self, *args: Any, **kwargs: Any) -> Any:
        return super().fresh_rows(*args, **kwargs) if self.one_call else None

    def batch_groups(self, *args: Any, **kwargs: Any) -> Any:
        found = super().batch_groups(*args, **kwargs)
        self.batched += sum(isinstance(planned, tuple) for planned in found or [])
        return found

    def source_event_rows(self, *args: Any, **kwargs: Any) -> Any:
        built = super().source_event_rows(*args, **kwargs)
        self.taken += built is not None
        return built

    def identifier_loop(self, *args: Any, **kwargs: Any) -> Any:
        found = super().identifier_loop(*args, **kwargs)
        self.looped += found is not None and found is not Declined.DECLINED
        return found

    def new_profile(self, *args: Any, **kwargs: Any) -> Any:
        built = super().new_profile(*args, **kwargs)
        self.profiled += built is not None
        return built

    def ident_holder_rows(self, *args: Any, **kwargs: Any) -> Any:
        built = super().ident_holder_rows(*args, **kwargs)
        self.keyed += built is not None
        return built


@pytest.mark.parametrize("one_call", [True, False], ids=["one call a batch", "five calls a group"])
def test_resolve_writes_the_same_bytes_and_rows_with_and_without_the_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_call: bool
) -> None:
    # GIVEN the scaling bench's population of about 3,000 records
    source = tmp_path / "records.jsonl"
    generate(source, 3000)
    # WHEN resolve runs on the Python path, then on the compiled one
    python = _resolve(source, tmp_path / "python", None, monkeypatch)
    counted = _Counted(one_call)
    compiled = _resolve(source, tmp_path / "native", counted, monkeypatch)
    # THEN the compiled path wrote the new customers, and every byte and row is the Python path's
    # (the one call a batch every group, when on: none declined, so none took the five calls)
    assert counted.batched > 1000 if one_call else counted.batched == 0
    assert counted.taken > 1000 if not one_call else counted.taken == 0
    assert counted.looped >= counted.taken  # the identifier loop (native28r), every group it took
    assert counted.keyed == counted.taken  # the IDENT and HOLDER rows of each new customer
    assert counted.profiled == counted.taken  # the profile of each (native29b): none declined here
    assert compiled[0] == python[0] == 0
    assert compiled[1] == python[1]
    assert compiled[2] == python[2]
    assert len(compiled[3]) == len(python[3]) > 3000
    assert compiled[3] == python[3]
