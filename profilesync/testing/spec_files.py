"""Where the vendors' specs are and how they are read, for profilesync.testing.specs and spec_objects;
and ``SpecViolation``, what a check against them raises.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from profilesync.resources import resource

SPEC_DIR: Path = resource("specs")
"""The gzipped vendor specs: ``specs/`` at the repository root, or the installed package's copy."""


class SpecViolation(AssertionError):  # noqa: N818 (the name says what it is)
    """Traffic that does not match the vendor's published spec (an ``AssertionError``, so pytest
    reports it as a failed check)."""


def _spec_path(filename: str) -> Path:
    """Resolve ``filename`` in ``SPEC_DIR``, accepting the name with or without ``.gz``."""
    path = SPEC_DIR / filename
    if not path.exists() and not filename.endswith(".gz") and path.with_name(path.name + ".gz").exists():
        path = path.with_name(path.name + ".gz")
    if not path.exists():
        raise FileNotFoundError(f"no spec {filename!r} in {SPEC_DIR}")
    return path


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
