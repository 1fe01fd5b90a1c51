"""tests/rewrite_once.py: the cache files the controller writes are the ones pytest's import hook
reads, hold the code it would have rewritten itself, and are written again when the source moves."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from _pytest.assertion import rewrite

from tests import rewrite_once

SOURCE = "def test_sum():\n    total = 1 + 1\n    assert total == 3, 'sums'\n"


def _write(folder: Path, name: str, text: str = SOURCE) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_import_hook_runs_the_cached_code_without_rewriting(
    tmp_path: Path, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a test module whose cache the controller wrote
    path = _write(tmp_path, "test_cached_sample.py")
    monkeypatch.setattr(rewrite_once, "_CONFIG", pytestconfig)
    assert rewrite_once.rewrite_files([str(path)]) == 1
    # WHEN pytest's own hook imports it, with rewriting made impossible
    hook = pytestconfig.stash[rewrite.assertstate_key].hook
    assert hook is not None

    def no_rewrite(*_: object) -> None:
        raise AssertionError("the hook rewrote a module whose cache was fresh")

    monkeypatch.setattr(rewrite, "_rewrite_test", no_rewrite)
    spec = importlib.util.spec_from_file_location("test_cached_sample", path, loader=hook)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "test_cached_sample", module)
    hook.exec_module(module)
    # THEN it runs the rewritten code: the failed assert explains its operands
    with pytest.raises(AssertionError) as failed:
        module.test_sum()
    assert "assert 2 == 3" in str(failed.value)


def test_the_cache_holds_what_pytest_would_rewrite(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    path = _write(tmp_path, "test_same_code.py")
    rewrite_once._CONFIG = pytestconfig
    try:
        rewrite_once.rewrite_files([str(path)])
    finally:
        rewrite_once._CONFIG = None
    cached = rewrite._read_pyc(path, rewrite_once.cache_file(path))
    assert cached is not None
    assert (
        cached == rewrite._rewrite_test(path, pytestconfig)[1]
    )  # code objects compare their bytecode and constants


def test_only_a_changed_source_is_stale(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    # GIVEN two modules rewritten and cached by the controller's processes
    first, second = _write(tmp_path, "test_one.py"), _write(tmp_path, "test_two.py")
    assert rewrite_once.stale([first, second]) == [first, second]
    assert rewrite_once.rewrite_before_workers(pytestconfig, 2, [tmp_path]) == 2
    assert rewrite_once.stale([first, second]) == []
    # WHEN one of them changes
    _write(tmp_path, "test_two.py", SOURCE.replace("3", "4"))
    # THEN only that one is rewritten again
    assert rewrite_once.stale([first, second]) == [second]
    assert rewrite_once.rewrite_before_workers(pytestconfig, 2, [tmp_path]) == 1


def test_the_files_are_those_pytest_rewrites(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    wanted = [
        _write(tmp_path, "conftest.py", ""),
        _write(tmp_path / "sub", "test_a.py"),
        _write(tmp_path / "sub", "b_test.py"),
    ]
    _write(tmp_path / "sub", "helpers.py")
    _write(tmp_path / "sub", "testing.py")
    assert rewrite_once.rewritten_files([tmp_path], ["test_*.py", "*_test.py"]) == sorted(wanted)
    assert rewrite_once.rewritten_files([wanted[1]], ["test_*.py"]) == [wanted[1]]
