"""Which connectors exist: the built-in ones and any installed plugin, and where each came from.

A plugin is a package that registers a ``ConnectorPlugin`` under the entry point group
``profilesync.connectors`` (``[project.entry-points."profilesync.connectors"] acme = "acme_conn:PLUGIN"``).
Built-in connectors are found the same way when profilesync is installed, and from this module's
list when it runs from a source tree, so a checkout works before ``pip install``.

``discover()`` loads every one of them and reports each with its origin: a plugin that fails to
import, or exports something other than a ``ConnectorPlugin``, is reported with its error and does
not stop the others from loading (``profilesync connectors list`` shows it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from core.connector import ConnectorPlugin
from core.errors import ConnectorConfigError

ENTRY_POINT_GROUP = "profilesync.connectors"
BUILTIN = {
    "hubspot": "connectors.hubspot:PLUGIN",
    "klaviyo": "connectors.klaviyo:PLUGIN",
    "mailchimp": "connectors.mailchimp:PLUGIN",
    "salesforce": "connectors.salesforce:PLUGIN",
    "shopify": "connectors.shopify:PLUGIN",
    "stripe": "connectors.stripe:PLUGIN",
    "woocommerce": "connectors.woocommerce:PLUGIN",
}


@dataclass(frozen=True, slots=True)
class Found:
    """One connector as discovered: its name, ``module:attribute``, where it came from, and either
    the loaded plugin or the error that stopped it loading."""

    name: str
    target: str
    origin: str
    """``builtin`` or ``distribution <name> <version>`` (an entry point of an installed package)."""
    plugin: ConnectorPlugin | None = None
    error: str | None = None


def _import(target: str) -> object:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr or "PLUGIN")


def _check(name: str, target: str, loaded: object) -> ConnectorPlugin:
    if not isinstance(loaded, ConnectorPlugin):
        raise ConnectorConfigError(
            f"connector {name!r} ({target}) is a {type(loaded).__name__}, not a ConnectorPlugin: "
            "export PLUGIN = ConnectorPlugin(...) (connectors.sdk.declare_plugin builds one)"
        )
    if loaded.spec.name != name:
        raise ConnectorConfigError(
            f"connector {name!r} ({target}) declares itself as {loaded.spec.name!r}; make the entry "
            "point's name and the spec's name the same"
        )
    return loaded


def _origin(ep: EntryPoint) -> str:
    dist = ep.dist
    if dist is None:
        return "entry point"
    return f"distribution {dist.metadata['Name'] or dist.name} {dist.version}"


def _candidates() -> list[tuple[str, str, str, EntryPoint | None]]:
    """(name, target, origin, entry point) for every connector, builtins first, sorted by name."""
    found: dict[str, tuple[str, str, str, EntryPoint | None]] = {
        name: (name, target, "builtin", None) for name, target in BUILTIN.items()
    }
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found and found[ep.name][1] == ep.value:
            continue  # profilesync's own entry point for a builtin, once installed
        found[ep.name] = (ep.name, ep.value, _origin(ep), ep)
    return [found[name] for name in sorted(found)]


def _load(name: str, target: str, origin: str, ep: EntryPoint | None) -> Found:
    try:
        loaded = ep.load() if ep is not None else _import(target)
        plugin = _check(name, target, loaded)
    except ConnectorConfigError as error:
        return Found(name, target, origin, error=str(error))
    except Exception as error:  # a plugin's import may raise anything: report it and go on
        return Found(name, target, origin, error=f"could not be loaded ({type(error).__name__}: {error})")
    return Found(name, target, origin, plugin=plugin)


def discover() -> list[Found]:
    """Every connector, loaded, with its origin; broken ones carry ``error`` instead of ``plugin``."""
    return [_load(*candidate) for candidate in _candidates()]


def available() -> dict[str, str]:
    """Connector name -> where it is loaded from (``module:attribute``), plugins included."""
    return {name: target for name, target, _, _ in _candidates()}


def get(name: str) -> ConnectorPlugin:
    """The plugin named ``name``; a clear error listing the known names, or saying why it is broken."""
    candidates = {c[0]: c for c in _candidates()}
    if name not in candidates:
        raise ConnectorConfigError(
            f"no connector named {name!r}; installed: {', '.join(candidates)} "
            "(see `profilesync connectors list --verbose`)"
        )
    found = _load(*candidates[name])
    if found.plugin is None:
        raise ConnectorConfigError(f"connector {name!r} from {found.origin} is broken: {found.error}")
    return found.plugin


def all_plugins() -> list[ConnectorPlugin]:
    """Every connector that loads; broken ones are left out (``discover`` reports them)."""
    return [found.plugin for found in discover() if found.plugin is not None]


__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "Found", "all_plugins", "available", "discover", "get"]
