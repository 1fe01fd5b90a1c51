"""The configuration document: the connector instances, and the named sections every function and the
CLI read.

One file (YAML or JSON), kept next to template.yaml and bundled into the functions by ``sam build``::

    version: 1
    defaults:
      schedule: rate(15 minutes)        # for every instance that names none
      region: US                        # how a phone written without +country is read
    connectors:
      shopify-eu:                       # the instance name: its source name, cursor, metrics, alarms
        vendor: shopify                 # which connector (builtin or plugin); default: the name
        options: {shop: acme-eu}
        secret: shopify-eu              # Secrets Manager <SecretsPrefix><secret>; default: the name
        schedule: rate(15 minutes)      # rate(...), cron(...) in UTC, or off
        freshness: 2h                   # alarm when no pull succeeded for this long
        push: true                      # push merged profiles back to this tool
        erase: true                     # forward erasure requests to this tool
        rate_budget: [1000, 20000]      # the vendor plan's shared budget, when above the entry plan
        region: GB                      # a UK shop: 020 7946 0018 is +44 20 7946 0018
      shopify-us:
        vendor: shopify
        options: {shop: acme-us}
        schedule: cron(0 * * * ? *)

**Instances.** A vendor may appear under several names (two Shopify stores, two Mailchimp audiences).
The instance name is what the records' ``source`` is (``shopify-eu:customer:123``), so two stores'
customer 123 never collide, and it names the instance's cursor, lease, pushed hashes, metrics and
freshness alarm. An instance named like its vendor (``hubspot:``, no ``vendor``) keeps the vendor's own
source name: that is how single-instance deployments stay as they were.

**Sections.** The top level is a fixed set of named sections, each a model with defaults, so a document
written for an older version stays valid and a misspelt section is an error, not silently ignored. A
feature that needs configuration adds its own section here (a field of ``ProfileSyncConfig`` with a
default) and documents it in docs/configuration.md; per-instance settings go on ``ConnectorInstance``.

Pure: reads a file and validates it; which vendors exist is checked by ``connectors.instances``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    StringConstraints,
    ValidationError,
    field_validator,
)

from core.config_path import CONFIG_ENV_VAR as CONFIG_ENV_VAR
from core.config_path import DEFAULT_CONFIG_NAMES as DEFAULT_CONFIG_NAMES
from core.config_path import find_config as find_config
from core.documents import load_json, load_yaml
from core.errors import ConfigurationError
from core.governance.policy import RoleGrant, RoleName, RolePolicy, sample_policy
from core.schedule import Schedule, ScheduleError, parse_schedule
from core.segment_rules import SegmentsSection

DEFAULT_SCHEDULE = "rate(15 minutes)"
#: Where a national phone number is read when neither the record, its instance nor ``defaults`` says.
DEFAULT_REGION = "US"
#: The freshness alarm's default is this many times the longest wait between two scheduled pulls ...
FRESHNESS_FACTOR = 3
#: ... and never less than this: a pull may take a few minutes, and a late dispatcher one more.
MIN_FRESHNESS = timedelta(minutes=30)

InstanceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
"""Lower-case letters, digits, ``_`` and ``-``, starting with a letter, at most 40 characters: it goes
into table keys, source ids, metric dimensions and alarm names."""

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> timedelta:
    """``"90m"``, ``"2h"``, ``"1d"``, ``"30s"`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float) and value > 0:
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value).strip().lower())
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"{value!r} is not a duration: write 90m, 2h, 1d or a number of seconds")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_schedule(value: Any) -> Any:
    if value is None:
        return None
    if value is False:  # YAML 1.1 reads a bare ``off`` as false
        return "off"
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a schedule: write rate(15 minutes), cron(0 6 * * ? *) or off")
    try:
        parse_schedule(value)
    except ScheduleError as error:
        raise ValueError(str(error)) from None
    return " ".join(value.split())


def _check_region(value: Any) -> Any:
    """An ISO 3166-1 alpha-2 code phone numbers know as a region, upper-cased (``gb`` is ``GB``)."""
    if value is None:
        return None
    from core.normalise import phone_region  # here: a document without regions loads no phone data

    region = phone_region(value)
    if region is None:
        raise ValueError(
            f"{value!r} is not a region phone numbers know: write an ISO 3166-1 alpha-2 code such as "
            "US, GB or DE (UK is written GB)"
        )
    return region


class Defaults(_Section):
    """Settings every instance takes unless it sets its own."""

    schedule: str = DEFAULT_SCHEDULE
    region: str = DEFAULT_REGION
    """Where a phone number written without an international prefix is read (ISO 3166-1 alpha-2),
    for every instance that names no region of its own; a record's own country comes first."""

    _schedule = field_validator("schedule", mode="before")(_check_schedule)
    _region = field_validator("region", mode="before")(_check_region)


def _option_text(value: Any) -> Any:
    """An option's value as the text a connector reads: a number or boolean a YAML or JSON document
    gives unquoted becomes its text (booleans spelt ``true`` / ``false``, as written); anything else
    is left for validation to refuse by name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


class ConnectorInstance(_Section):
    """One connector instance: which vendor, its options, where its secret is, when it is pulled."""

    vendor: str | None = Field(default=None, min_length=1, max_length=64)
    """The connector (``profilesync connectors list``); default: the instance's own name."""
    options: dict[str, str] = Field(default_factory=dict)
    """The vendor's options, each a text; a number or boolean written unquoted (``walk_limit: 1000``,
    ``sandbox: true``) is read as its text (``"1000"``, ``"true"``)."""
    base_url: str | None = None
    secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9/_+=.@-]{1,256}$")
    """The Secrets Manager secret (under the stack's SecretsPrefix) holding this instance's credentials as
    a JSON object ``{"<credential name>": "<value>"}``; default: the instance's name."""
    schedule: str | None = None
    """When to pull: ``rate(...)``, ``cron(...)`` (UTC) or ``off``; default: ``defaults.schedule``."""
    freshness: timedelta | None = None
    """How long without a successful pull before the freshness alarm; default: three times the longest
    wait between two scheduled pulls, at least 30 minutes."""
    push: bool = True
    """Push merged profiles to this tool (when the connector can push)."""
    erase: bool = True
    """Ask this tool to erase a person on an erase request (when the connector can erase)."""
    rate_budget: tuple[PositiveFloat, PositiveFloat] | None = None
    """The vendor account's shared budget as ``[per second, burst]`` when its plan allows more than
    the connector's default (the vendor's entry plan): e.g. Shopify Plus ``[1000, 20000]``."""
    push_mode: Literal["update", "upsert"] | None = None
    """``update``: push only to people the tool already holds; ``upsert``: also create the missing ones
    whose consent allows the tool's channel. Unset: the connector's default (``update`` for Mailchimp,
    Klaviyo, Shopify and Stripe, ``upsert`` for HubSpot)."""
    region: str | None = None
    """The ISO 3166-1 alpha-2 region this tool's phone numbers are written in when they carry no
    international prefix (a UK shop: ``GB``); a record's own country comes first. Unset:
    ``defaults.region``."""

    _schedule = field_validator("schedule", mode="before")(_check_schedule)
    _region = field_validator("region", mode="before")(_check_region)

    @field_validator("options", mode="before")
    @classmethod
    def _option_texts(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value  # pydantic says what is wrong
        return {name: _option_text(option) for name, option in value.items()}

    @field_validator("freshness", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None or isinstance(value, timedelta):
            return value
        if isinstance(value, str) and value.strip().upper().startswith("P"):
            return value  # ISO 8601 (PT1H), as the model itself writes it: pydantic reads it
        return parse_duration(value)


class IdentitySection(_Section):
    """How records are joined into customers (docs/identity.md).

    ``exact`` (the default): by shared identifiers, as always. ``probabilistic``: the link graph of
    core.linkage: identifier values by match key (Gmail dots and ``+tags``), guardrails counted in
    people, conflicting evidence refused, fuzzy links by name, birth date and address, and a review
    queue between the two thresholds. The model is loaded once per cold start."""

    mode: Literal["exact", "probabilistic"] = "exact"
    model: str | None = Field(default=None, min_length=1, max_length=1024)
    """A model file written by ``profilesync identity train`` (relative to the document); default:
    the model shipped in the package."""
    link: float | None = Field(default=None, gt=0, lt=1)
    """Link threshold (a match probability) instead of the model's."""
    review: float | None = Field(default=None, gt=0, lt=1)
    """Review threshold instead of the model's: pairs between it and ``link`` go to review."""


class ProfileSyncConfig(_Section):
    """The whole document. ``connectors`` maps instance names to their settings."""

    version: Literal[1] = 1
    defaults: Defaults = Field(default_factory=Defaults)
    connectors: dict[InstanceName, ConnectorInstance] = Field(default_factory=dict)
    identity: IdentitySection = Field(default_factory=IdentitySection)
    segments: SegmentsSection = Field(default_factory=SegmentsSection)
    """The computed segment's thresholds (core.segment_rules): ``vip_lifetime_value`` per currency."""
    roles: dict[RoleName, RoleGrant] | None = None
    """The profile API's role policy (docs/governance.md): which callers read which parts of a
    profile. Absent: the sample policy shipped in core/governance/sample_policy.yaml; ``{}``: nobody."""

    def role_policy(self) -> RolePolicy:
        """The ``roles`` section as a policy, or the sample policy when the document has none."""
        return sample_policy() if self.roles is None else RolePolicy(roles=self.roles)

    def instance(self, name: str) -> ConnectorInstance:
        """The instance ``name``; ConfigurationError naming the configured ones otherwise."""
        found = self.connectors.get(name)
        if found is None:
            configured = ", ".join(sorted(self.connectors)) or "none"
            raise ConfigurationError(
                f"connector instance {name!r} is not configured (configured: {configured}); add it under "
                "connectors: in the configuration document (docs/configuration.md)"
            )
        return found

    def vendor(self, name: str) -> str:
        """The connector an instance runs: its ``vendor``, or its own name."""
        return self.instance(name).vendor or name

    def schedule(self, name: str) -> Schedule:
        """When the instance is pulled (``defaults.schedule`` unless it sets its own)."""
        return parse_schedule(self.instance(name).schedule or self.defaults.schedule)

    def region(self, name: str | None = None) -> str:
        """Where the instance ``name`` reads a national phone number: its own ``region``, else
        ``defaults.region``. ``name`` None, or an instance the document does not declare: the
        default region."""
        instance = self.connectors.get(name) if name is not None else None
        if instance is not None and instance.region is not None:
            return instance.region
        return self.defaults.region

    def freshness(self, name: str) -> timedelta | None:
        """How long the instance may go without a successful pull; None when it is not scheduled and
        sets no freshness of its own."""
        explicit = self.instance(name).freshness
        if explicit is not None:
            return explicit
        gap = self.schedule(name).longest_gap()
        if gap is None:
            return None
        return max(MIN_FRESHNESS, FRESHNESS_FACTOR * gap)

    def scheduled(self) -> list[str]:
        """The instances with a schedule, by name."""
        return [name for name in sorted(self.connectors) if not self.schedule(name).off]


def config_from_data(data: Any, source: str) -> ProfileSyncConfig:
    """Validate parsed data; ConfigurationError naming ``source`` and every problem's place."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"{source}: the document must be a mapping with a connectors: section (docs/configuration.md)"
        )
    try:
        return ProfileSyncConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigurationError(f"{source}: {_problems(error)}") from None


def parse_config(text: str, source: str) -> ProfileSyncConfig:
    """Parse a document's text: JSON when ``source`` ends in .json, YAML otherwise."""
    try:
        data = (load_json(text) if text.strip() else {}) if source.endswith(".json") else load_yaml(text)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ConfigurationError(f"{source}: not valid JSON ({error})") from None
    except Exception as error:  # yaml.YAMLError, without importing yaml for JSON documents
        detail = " ".join(str(error).split())
        raise ConfigurationError(f"{source}: not valid YAML ({detail})") from None
    return config_from_data(data, source)


def load_config(path: Path) -> ProfileSyncConfig:
    """Read and validate the document at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path}: no such configuration document; create it (docs/configuration.md) or point "
            f"--config or {CONFIG_ENV_VAR} at it"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path}: cannot be read ({error})") from None
    return parse_config(text, str(path))


def connectors_section(text: str, source: str = "CONNECTORS") -> dict[str, ConnectorInstance]:
    """The ``connectors`` section alone, from JSON (``{"hubspot": {}, ...}``); empty text means none."""
    if not text.strip():
        return {}
    try:
        data = load_json(text)
    except ValueError as error:
        example = '{"hubspot": {}}'
        raise ConfigurationError(f"{source} must be a JSON object such as {example}: {error}") from None
    return dict(config_from_data({"connectors": data}, source).connectors)


def _problems(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"] if not str(p).startswith("function-")) or "document"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check its spelling in docs/configuration.md)"
        elif item["type"] == "string_pattern_mismatch" and item["loc"][-1] == "[key]":
            message = _key_advice(item["loc"][0], item["input"])
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def _key_advice(section: object, key: object) -> str:
    """What a key of ``section`` that does not match its pattern should be, worded for that kind of
    key (a currency of ``segments`` is no instance name: attack23)."""
    if section == "segments":
        advice = "a currency is an ISO 4217 code in capitals (three letters, such as EUR), or *"
        if isinstance(key, str) and len(key) == 3 and key.isascii() and key.isalpha():
            advice += f": write {key.upper()!r}"
        return advice
    kind = "role" if section == "roles" else "instance"
    return f"{kind} names are lower-case letters, digits, _ and -, starting with a letter"


__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_NAMES",
    "DEFAULT_REGION",
    "DEFAULT_SCHEDULE",
    "ConnectorInstance",
    "Defaults",
    "ProfileSyncConfig",
    "config_from_data",
    "connectors_section",
    "find_config",
    "load_config",
    "parse_config",
    "parse_duration",
]
