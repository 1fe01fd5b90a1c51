"""Which connectors exist: the built-in ones and any installed plugin.

A plugin is a package that registers a ``ConnectorPlugin`` under the entry point group
``profilesync.connectors`` (``[project.entry-points."profilesync.connectors"] acme = "acme_conn:PLUGIN"``).
Built-in connectors are found the same way when profilesync is installed, and from this module's
list when it runs from a source tree, so a checkout works before ``pip install``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from core.connector import ConnectorPlugin
from core.errors import ConnectorConfigError

ENTRY_POINT_GROUP = "profilesync.connectors"
BUILTIN = {
    "hubspot": "connectors.hubspot:PLUGIN",
    "mailchimp": "connectors.mailchimp:PLUGIN",
    "shopify": "connectors.shopify:PLUGIN",
}


def _load(target: str, origin: str) -> ConnectorPlugin:
    module_name, _, attr = target.partition(":")
    try:
        loaded = getattr(importlib.import_module(module_name), attr or "PLUGIN")
    except (ImportError, AttributeError) as error:
        raise ConnectorConfigError(f"connector {origin} ({target}) could not be loaded: {error}") from error
    if not isinstance(loaded, ConnectorPlugin):
        raise ConnectorConfigError(
            f"connector {origin} ({target}) is a {type(loaded).__name__}, not a ConnectorPlugin"
        )
    return loaded


def available() -> dict[str, str]:
    """Connector name -> where it is loaded from (``module:attribute``), plugins included."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.value
    return dict(sorted(found.items()))


def get(name: str) -> ConnectorPlugin:
    """The plugin named ``name``; a clear error listing the known names otherwise."""
    known = available()
    if name not in known:
        raise ConnectorConfigError(
            f"no connector named {name!r}; installed: {', '.join(known)} "
            "(see `profilesync connectors list --verbose`)"
        )
    plugin = _load(known[name], repr(name))
    if plugin.spec.name != name:
        raise ConnectorConfigError(
            f"connector {name!r} declares itself as {plugin.spec.name!r}; fix its entry point"
        )
    return plugin


def all_plugins() -> list[ConnectorPlugin]:
    return [get(name) for name in available()]


__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "all_plugins", "available", "get"]
