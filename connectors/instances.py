"""Connector instances as the configuration document declares them: settings, credentials, and a
connector that speaks under the instance's own name.

``build_instance`` is what the functions and the CLI call to turn ``connectors: {shopify-eu: {...}}``
into a working connector:

* **options** come from the document and must be options the vendor's connector declares;
* **credentials** come from the instance's secret: ``secret`` (default: the instance's name), found
  like any secret (env ``PROFILESYNC_<SECRET>``, the local secrets file, then Secrets Manager
  ``<SecretsPrefix><secret>`` in Lambda), holding a JSON object of the vendor's credentials by name,
  ``{"shopify_access_token": "shpat_..."}`` (a plain string will do for a vendor with one credential).
  An instance named after its vendor, with no ``secret`` of its own, may keep one secret per
  credential instead (``<SecretsPrefix>hubspot_token``), as before instances existed;
* **the source name** is the instance's: ``InstanceConnector`` renames the records a connector maps
  (``shopify`` -> ``shopify-eu``), and shows the connector only its own instance's records when it
  builds a payload or erases, so two stores' customer 123 never meet and a push to one store never
  uses the other's ids. An instance named like its vendor is not wrapped: nothing changes for it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from connectors._http import resolve_secret, secret_env_var
from core.config import ConnectorInstance, ProfileSyncConfig
from core.connector import (
    Connector,
    ConnectorPlugin,
    ConnectorSettings,
    ConnectorSpec,
    EraseOutcome,
    Payload,
    PushOutcome,
    RawPage,
)
from core.errors import ConfigurationError, ConnectorConfigError
from core.schema import Identifier, Profile, RecordDraft


def instance_options(name: str, instance: ConnectorInstance, spec: ConnectorSpec) -> dict[str, str]:
    """The instance's options, each one the connector declares."""
    for key in instance.options:
        if key not in spec.options:
            known = ", ".join(spec.options) or "none"
            raise ConfigurationError(
                f"connector instance {name!r}: {spec.name} has no option {key!r} (options: {known})"
            )
    return dict(instance.options)


def instance_credentials(
    name: str, instance: ConnectorInstance, spec: ConnectorSpec, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The vendor's credentials for this instance, from its secret (see the module docstring)."""
    needed = [credential.name for credential in spec.credentials]
    if not needed:
        return {}
    secret = instance.secret or name
    try:
        raw = resolve_secret(secret, env=env)
    except ConnectorConfigError as missing:
        vendor = instance.vendor or name
        example = json.dumps(dict.fromkeys(needed, "..."))
        if instance.secret is None and vendor == name:
            # One secret per credential, as a single instance named after its vendor always had.
            try:
                return {credential: resolve_secret(credential, env=env) for credential in needed}
            except ConnectorConfigError as error:
                raise ConnectorConfigError(
                    f"{error}; or put {example} in the secret {secret!r} ({secret_env_var(secret)} locally)"
                ) from None
        raise ConnectorConfigError(
            f"connector instance {name!r} has no credentials: {missing}; it must hold {example}"
        ) from None
    return _credentials_from(raw, needed, name, secret)


def _credentials_from(raw: str, needed: list[str], name: str, secret: str) -> dict[str, str]:
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        if len(needed) == 1:
            return {needed[0]: raw}
        raise ConnectorConfigError(
            f"the secret {secret!r} of connector instance {name!r} must be a JSON object with "
            f"{', '.join(needed)}"
        )
    wanted = {secret_env_var(credential): credential for credential in needed}
    found: dict[str, str] = {}
    for key, value in data.items():
        credential = wanted.get(secret_env_var(str(key)))
        if credential is not None and isinstance(value, str) and value.strip():
            found[credential] = value.strip()
    missing = [credential for credential in needed if credential not in found]
    if missing:
        raise ConnectorConfigError(
            f"the secret {secret!r} of connector instance {name!r} lacks {', '.join(missing)}: add "
            f"{json.dumps(dict.fromkeys(missing, '...'))} to it"
        )
    return found


def instance_settings(
    name: str,
    instance: ConnectorInstance,
    plugin: ConnectorPlugin,
    *,
    env: Mapping[str, str] | None = None,
    limiters: tuple[Any, ...] = (),
) -> ConnectorSettings:
    """What ``plugin.build`` needs for this instance: options, credentials, base URL, shared limiters."""
    return ConnectorSettings(
        credentials=instance_credentials(name, instance, plugin.spec, env),
        base_url=instance.base_url,
        options=instance_options(name, instance, plugin.spec),
        limiters=limiters,
    )


def build_instance(name: str, plugin: ConnectorPlugin, settings: ConnectorSettings) -> Connector:
    """``plugin.build(settings)``, speaking under ``name`` when that is not the vendor's own name."""
    connector = plugin.build(settings)
    if name == plugin.spec.name:
        return connector
    return InstanceConnector(connector, name)


class InstanceConnector:
    """A vendor's connector as one named instance of it: records carry the instance's source name, and
    the connector sees only its own instance's records (under the vendor's name) when it builds
    payloads or erases. ``spec.name`` is the instance's name, which is what cursors, leases and pushed
    hashes are kept under."""

    def __init__(self, inner: Connector, instance: str) -> None:
        self.inner = inner
        self.instance = instance
        self.vendor = inner.spec.name
        self.spec = dataclasses.replace(inner.spec, name=instance)

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        return self.inner.pull(cursor)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        return [draft.model_copy(update={"source": self.instance}) for draft in self.inner.to_records(page)]

    def from_profile(self, profile: Profile) -> Payload | None:
        return self.inner.from_profile(self._as_vendor_sees_it(profile))

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        return self.inner.push(payloads)

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        originals: dict[Identifier, Identifier] = {}
        for identifier in identifiers:
            seen = self._identifier_as_vendor_sees_it(identifier)
            if seen is not None:
                originals.setdefault(seen, identifier)
        outcomes = self.inner.erase(list(originals))
        answered = {outcome.identifier: outcome for outcome in outcomes}
        result: list[EraseOutcome] = []
        for identifier in identifiers:
            seen = self._identifier_as_vendor_sees_it(identifier)
            outcome = answered.get(seen) if seen is not None else None
            if outcome is None:
                # Another instance's source id (or one the connector did not answer): nothing here.
                result.append(EraseOutcome(identifier, found=False, detail=f"not a {self.instance} record"))
            else:
                result.append(dataclasses.replace(outcome, identifier=identifier))
        return result

    def close(self) -> None:
        self.inner.close()

    # --- the vendor's view ----------------------------------------------------------------------------
    def _source_as_vendor_sees_it(self, source: str) -> str | None:
        if source == self.instance:
            return self.vendor
        if source == self.vendor:
            return None  # another instance of the same vendor (the one named after it)
        return source

    def _identifier_as_vendor_sees_it(self, identifier: Identifier) -> Identifier | None:
        if identifier.kind != "source":
            return identifier
        source, sep, rest = identifier.value.partition(":")
        seen = self._source_as_vendor_sees_it(source)
        if seen is None or not sep:
            return None if seen is None else identifier
        return Identifier(kind="source", value=f"{seen}:{rest}")

    def _as_vendor_sees_it(self, profile: Profile) -> Profile:
        sources = []
        for ref in profile.sources:
            seen = self._source_as_vendor_sees_it(ref.source)
            if seen is not None:
                sources.append(ref if seen == ref.source else ref.model_copy(update={"source": seen}))
        identifiers = [
            seen for seen in map(self._identifier_as_vendor_sees_it, profile.identifiers) if seen is not None
        ]
        return profile.model_copy(update={"sources": tuple(sources), "identifiers": tuple(identifiers)})


def check_config(config: ProfileSyncConfig, lookup: Callable[[str], ConnectorPlugin]) -> list[str]:
    """Every problem of the document that needs the connectors to see: unknown vendors, options a
    vendor does not take, a rate budget for a vendor without one. Empty when it is sound."""
    problems: list[str] = []
    for name, instance in sorted(config.connectors.items()):
        vendor = instance.vendor or name
        try:
            plugin = lookup(vendor)
        except ConnectorConfigError as error:
            problems.append(f"connectors.{name}: {error}")
            continue
        try:
            instance_options(name, instance, plugin.spec)
        except ConfigurationError as error:
            problems.append(f"connectors.{name}: {error}")
        if instance.rate_budget is not None and plugin.spec.shared_budget is None:
            problems.append(
                f"connectors.{name}: {vendor} has no shared rate budget, so rate_budget cannot be applied; "
                "remove it"
            )
        if instance.push and "push" not in plugin.spec.capabilities and "push" in instance.model_fields_set:
            problems.append(f"connectors.{name}: {vendor} cannot push; remove push: true")
    return problems


__all__ = [
    "InstanceConnector",
    "build_instance",
    "check_config",
    "instance_credentials",
    "instance_options",
    "instance_settings",
]
