"""Where the configuration document is (core.config re-exports these): kept apart, so that finding it
costs no import of the document's models (core.segment_rules asks on every ``IngestSettings``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: Where the CLI looks for the document when neither ``--config`` nor ``PROFILESYNC_CONFIG`` names one.
DEFAULT_CONFIG_NAMES = ("profilesync.yaml", "profilesync.yml", "profilesync.json")
CONFIG_ENV_VAR = "PROFILESYNC_CONFIG"

__all__ = ["CONFIG_ENV_VAR", "DEFAULT_CONFIG_NAMES", "find_config"]


def find_config(explicit: Path | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The document to use: ``explicit``, else ``$PROFILESYNC_CONFIG``, else the first of
    ``profilesync.yaml``/``.yml``/``.json`` in the working directory; None when there is none."""
    if explicit is not None:
        return explicit
    named = (os.environ if env is None else env).get(CONFIG_ENV_VAR, "").strip()
    if named:
        return Path(named)
    return next((Path(n) for n in DEFAULT_CONFIG_NAMES if Path(n).is_file()), None)
