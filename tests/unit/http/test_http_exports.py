"""The package surface: every name in ``__all__`` imports, and nothing private leaks into it."""

from __future__ import annotations

import importlib

import connectors._http as kit


def test_every_name_in_all_imports() -> None:
    # GIVEN the public list of the HTTP kit
    module = importlib.import_module("connectors._http")
    # WHEN each name is looked up
    missing = [name for name in kit.__all__ if not hasattr(module, name)]
    # THEN all of them exist, none is private, none is listed twice
    assert missing == []
    assert not [name for name in kit.__all__ if name.startswith("_")]
    assert len(set(kit.__all__)) == len(kit.__all__)


def test_star_import_gives_exactly_all() -> None:
    # GIVEN a fresh namespace WHEN star-importing the kit THEN exactly the names in __all__ arrive
    namespace: dict[str, object] = {}
    exec("from connectors._http import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(kit.__all__)
