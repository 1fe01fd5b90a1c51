"""``core.normalise`` is a package of private modules; its ``__init__`` re-exports the public names."""

from __future__ import annotations

import importlib
import pkgutil

import core.normalise as package


def test_all_names_every_public_normaliser_and_each_one_resolves() -> None:
    # GIVEN every private module of the package
    modules = [
        importlib.import_module(f"core.normalise.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]
    # WHEN the public names they define are collected (defined there, not imported), and the limits
    public = {
        name
        for module in modules
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    }
    limits = importlib.import_module("core.normalise._limits")
    public |= {name for name in vars(limits) if name.startswith("MAX_")}
    # THEN __all__ lists exactly those, sorted, and each resolves on the package
    assert sorted(package.__all__) == package.__all__
    assert set(package.__all__) == public
    for name in package.__all__:
        assert getattr(package, name) is not None
