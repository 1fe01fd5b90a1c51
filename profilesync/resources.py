"""Where the files the CLI reads live: the repository root in a source tree, the package once installed.

template.yaml (the table and queue definitions the embedded AWS and the local runtime build) and the
vendors' specs (``specs/*.gz``, for ``profilesync.testing.specs``) are kept at the repository root,
where SAM and the tests read them; the wheel carries copies under ``profilesync/_data/`` (setup.py).
A source tree (or an editable install) uses the root's files, so an edit there is seen at once.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE.parent
_INSTALLED = _PACKAGE / "_data"


def resource(name: str) -> Path:
    """The path of ``name`` (``template.yaml``, ``specs``): the source tree's, else the installed copy."""
    in_tree = _SOURCE_ROOT / name
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and in_tree.exists():
        return in_tree
    return _INSTALLED / name


__all__ = ["resource"]
