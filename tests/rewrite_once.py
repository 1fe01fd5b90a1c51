"""The test modules' assertions rewritten once for an xdist run, not once by every worker (a plugin
that tests/conftest.py loads).

pytest rewrites the ``assert`` statements of every test module and conftest.py it imports, and keeps
the result in ``__pycache__/*.pytest-*.pyc`` (keyed by the source's hash, so a fresh checkout has
none). On a fresh checkout (CI) the xdist workers all start at once and each collects all the test
modules, so each rewrote all of them: about 20 of a worker's 30 CPU seconds of collection (7,281
tests), twice on CI's two cores. Here the controller rewrites them before it starts the workers, in
as many processes as there will be workers (each a share of the files), and writes the same cache
files with pytest's own functions; the workers then read them. With the cache fresh, or when
bytecode is not written (``PYTHONDONTWRITEBYTECODE``: pytest then reads the cache but never writes
it), nothing is done. tests/unit/test_rewrite_once.py holds the files to what pytest's own import
writes and reads.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePath

import pytest
from _pytest.assertion import rewrite
from _pytest.pathlib import fnmatch_ex

#: The config the forked processes rewrite with (set before they are forked: it is not picklable).
_CONFIG: pytest.Config | None = None


def cache_file(path: Path) -> Path:
    """Where pytest's import hook looks for ``path``'s rewritten code."""
    return rewrite.get_cache_dir(path) / (path.name[:-3] + rewrite.PYC_TAIL)


def stale(paths: Iterable[Path]) -> list[Path]:
    """The files whose cache is missing or holds another source's code (pytest's own check)."""
    return [p for p in paths if rewrite._read_pyc(p, cache_file(p)) is None]


def rewrite_files(paths: Sequence[str]) -> int:
    """Rewrite each file and write its cache as pytest's import hook does; return how many were
    written (a file that does not parse is left for the worker, which reports it)."""
    assert _CONFIG is not None
    state = _CONFIG.stash[rewrite.assertstate_key]
    written = 0
    for name in paths:
        path = Path(name)
        try:
            source_hash, code = rewrite._rewrite_test(path, _CONFIG)
        except SyntaxError:
            continue
        if rewrite.try_makedirs(rewrite.get_cache_dir(path)):
            written += rewrite._write_pyc(state, code, source_hash, cache_file(path))
    return written


def run_roots(config: pytest.Config) -> list[Path]:
    """The folders and files the run collects (its arguments, else ``testpaths``), and the
    conftest.py files above them."""
    here = config.invocation_params.dir
    args = [a.split("::", 1)[0] for a in config.args if not a.startswith("-")]
    roots = [(here / a).resolve() for a in args] or [config.rootpath / p for p in config.getini("testpaths")]
    above = {f for r in roots for d in r.parents if (f := d / "conftest.py").is_file()}
    return [r for r in roots if r.exists()] + sorted(above)


def rewritten_files(roots: Iterable[Path], patterns: Sequence[str]) -> list[Path]:
    """The files under ``roots`` (folders or files) that pytest's import hook rewrites when
    collecting: every conftest.py and every module whose name matches ``python_files``."""
    found: set[Path] = set()
    for root in roots:
        for path in root.rglob("*.py") if root.is_dir() else [root]:
            if path.name == "conftest.py" or any(fnmatch_ex(p, PurePath(path)) for p in patterns):
                found.add(path)
    return sorted(found)


def rewrite_before_workers(config: pytest.Config, workers: int, roots: Sequence[Path]) -> int:
    """Rewrite the stale files under ``roots`` in ``workers`` forked processes; return how many
    were written."""
    global _CONFIG
    todo = [str(p) for p in stale(rewritten_files(roots, config.getini("python_files")))]
    if not todo:
        return 0
    _CONFIG = config
    shares = [todo[i::workers] for i in range(workers)]
    # fork: the children share the parsed config; the controller has started no thread yet.
    with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("fork")) as pool:
        return sum(pool.map(rewrite_files, shares))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Before xdist's controller starts its workers (its own ``pytest_sessionstart`` runs last)."""
    config = session.config
    workers = getattr(config.option, "numprocesses", None)
    is_controller = config.pluginmanager.has_plugin("dsession") and isinstance(workers, int) and workers > 1
    rewriting = config.getoption("assertmode") == "rewrite" and rewrite.assertstate_key in config.stash
    if is_controller and rewriting and not sys.dont_write_bytecode and os.name == "posix":
        try:
            rewrite_before_workers(config, workers, run_roots(config))
        except (BrokenProcessPool, OSError) as error:  # the workers rewrite what is left, as before
            config.issue_config_time_warning(
                pytest.PytestWarning(
                    f"tests/rewrite_once.py: the test modules are rewritten by each worker ({error!r})"
                ),
                stacklevel=2,
            )
