"""The role policy: which caller may read which parts of a profile. Pure.

A policy document (JSON or YAML; it becomes the ``roles`` section of the one configuration) lists
roles in order. A caller gets the first role whose ARN patterns match it or, if none does, the first
role whose tags it carries:

* ``principals``: glob patterns of IAM ARNs, matched against the caller's ARN and, for an
  assumed-role session (``arn:aws:sts::1234:assumed-role/NAME/SESSION``), against the ARN of the role
  it assumed (``arn:aws:iam::1234:role/NAME``; a session's ARN carries no role path, so patterns
  should name roles, not paths);
* ``tags``: every one of these tags is on the caller's IAM role or user (read through IAM by the
  function, so only for principals of the API's own account).

A caller no role matches reads nothing. Each role then says what it may read: trait names (glob
patterns) in full or masked, each identifier kind (``read``, ``mask`` or nothing), computed values,
consent channels, orders, the source records, the history, the explanation of its identity graph,
and the read audit of the person. Masking (core.governance.masking) tells a role that a value
exists without telling it the value. Everything not granted is left out, by
``core.governance.view.render``, the one place that filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from core.documents import load_json, load_yaml
from core.governance.errors import PolicyError
from core.schema import ComputedTraits, IdentifierKind

Access = Literal["read", "mask", "none"]
"""``read``: the value; ``mask``: that a value exists, masked; ``none``: nothing at all."""

#: The computed values a role may be granted by name (``"*"`` grants them all).
COMPUTED_FIELDS: tuple[str, ...] = tuple(ComputedTraits.model_fields)

RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
"""Lower-case letters, digits, ``_`` and ``-``, starting with a letter, at most 40 characters."""
#: arn:partition:service:region:account:resource; patterns may use * and ? anywhere.
_ARN_PATTERN = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:.+$")


class RoleGrant(BaseModel):
    """What one role may read, and which callers hold it. Everything not granted is left out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    principals: tuple[str, ...] = ()
    """Glob patterns of IAM ARNs (``arn:aws:iam::*:role/profilesync-support*``)."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags the caller's IAM role or user must all carry (``{"profilesync-role": "support"}``)."""
    traits: tuple[str, ...] = ()
    """Trait names (glob patterns) readable in full: ``first_name``, ``complaint*``, ``*``."""
    masked_traits: tuple[str, ...] = ()
    """Trait names whose existence may be known, masked (a full grant in ``traits`` wins)."""
    identifiers: dict[IdentifierKind, Access] = Field(default_factory=dict)
    """Per identifier kind (email, phone, source): read or mask; a kind not listed is left out."""
    computed: tuple[str, ...] = ()
    """Computed values by name (``lifetime_value``, ``segment``, ...) or ``*``."""
    consent: tuple[str, ...] = ()
    """Consent channels (glob patterns: ``email``, ``*``)."""
    orders: bool = False
    """The person's orders (what they bought, when, for how much), from every source record."""
    sources: bool = False
    """The source records the profile is built from, filtered by the same grants."""
    history: bool = False
    """The customer's history: merges, splits, review decisions, erasures, source arrivals."""
    explain: bool = False
    """How the customer's records are joined: which identifiers join which records."""
    reads: bool = False
    """Who read this person's profile (the read audit)."""

    @field_validator("principals")
    @classmethod
    def _arn_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not _ARN_PATTERN.match(pattern):
                raise ValueError(
                    f"{pattern!r} is not an ARN pattern; write one such as "
                    "arn:aws:iam::*:role/profilesync-support"
                )
        return value

    @field_validator("computed")
    @classmethod
    def _known_computed(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name != "*" and name not in COMPUTED_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown computed value(s) {unknown}; choose from {', '.join(COMPUTED_FIELDS)} or *"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tag_keys(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not key.strip() for key in value):
            raise ValueError("a tag key is empty; write tags as {key: value}")
        return value

    # -- questions the view asks ----------------------------------------------------------------------

    def trait_access(self, name: str) -> Access:
        if any(fnmatchcase(name, pattern) for pattern in self.traits):
            return "read"
        if any(fnmatchcase(name, pattern) for pattern in self.masked_traits):
            return "mask"
        return "none"

    def identifier_access(self, kind: str) -> Access:
        access: Access = self.identifiers.get(kind, "none")  # type: ignore[call-overload]
        return access

    def computed_allowed(self, name: str) -> bool:
        return "*" in self.computed or name in self.computed

    def consent_allowed(self, channel: str) -> bool:
        return any(fnmatchcase(channel, pattern) for pattern in self.consent)

    @property
    def needs_sources(self) -> bool:
        """Whether answering this role needs the source records (not only the profile item)."""
        return self.sources or self.orders


@dataclass(frozen=True, slots=True)
class Principal:
    """The IAM identity that signed a request, as API Gateway's IAM authoriser reports it."""

    arn: str
    role_arn: str | None = None
    """For an assumed-role session, the ARN of the role (without its path, which STS does not give)."""
    session: str | None = None

    @classmethod
    def from_arn(cls, arn: str) -> Principal:
        """``arn:aws:sts::1234:assumed-role/NAME/SESSION`` gives the role ``arn:aws:iam::1234:role/NAME``."""
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
            _, name, *session = parts[5].split("/", 2)
            role = f"arn:{parts[1]}:iam::{parts[4]}:role/{name}"
            return cls(arn=arn, role_arn=role, session=session[0] if session else None)
        return cls(arn=arn)

    @property
    def names(self) -> tuple[str, ...]:
        """The ARNs a policy pattern is matched against."""
        return (self.arn,) if self.role_arn is None else (self.arn, self.role_arn)

    @property
    def iam_entity(self) -> tuple[Literal["role", "user"], str] | None:
        """The IAM role or user to read tags from: ``("role", NAME)``, ``("user", NAME)``, or None."""
        arn = self.role_arn or self.arn
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam":
            return None
        kind, _, path_and_name = parts[5].partition("/")
        if kind not in ("role", "user") or not path_and_name:
            return None
        return ("role" if kind == "role" else "user"), path_and_name.rsplit("/", 1)[-1]


TagsOf = Callable[[Principal], Mapping[str, str]]
"""Reads the tags of a principal's IAM role or user (only called when a role matches by tags)."""


class RolePolicy(BaseModel):
    """The roles, in the order they are tried."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    roles: dict[RoleName, RoleGrant] = Field(default_factory=dict)

    def role(self, name: str) -> RoleGrant | None:
        """The role called ``name``, or None (a role that is not listed reads nothing)."""
        return self.roles.get(name)

    def role_for(self, principal: Principal, tags_of: TagsOf | None = None) -> tuple[str, RoleGrant] | None:
        """The role of ``principal``: the first whose ARN patterns match it; else the first whose
        tags are all on it; else None (it reads nothing).

        ARN patterns are tried first so that a caller matched by its ARN costs no call to IAM:
        ``tags_of`` is called at most once, and only when no role matches by ARN.
        """
        for name, grant in self.roles.items():
            if any(fnmatchcase(arn, pattern) for pattern in grant.principals for arn in principal.names):
                return name, grant
        if tags_of is None or not self.uses_tags:
            return None
        tags = tags_of(principal)
        for name, grant in self.roles.items():
            if grant.tags and all(tags.get(key) == value for key, value in grant.tags.items()):
                return name, grant
        return None

    @property
    def uses_tags(self) -> bool:
        return any(grant.tags for grant in self.roles.values())


def load_policy(text: str, *, origin: str = "the role policy") -> RolePolicy:
    """Parse a policy document (JSON or YAML). Raises PolicyError saying which entry is wrong."""
    import yaml  # imported here: a policy in the configuration document is already parsed

    try:
        data: Any = load_json(text) if text.lstrip().startswith("{") else load_yaml(text)
    except (ValueError, yaml.YAMLError) as error:
        raise PolicyError(f"{origin} is neither JSON nor YAML ({error}); fix its syntax") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{origin} must be a mapping with a 'roles' mapping, not {type(data).__name__}")
    try:
        return RolePolicy.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {_message(e)}"
            for e in error.errors(include_url=False, include_input=False)
        )
        raise PolicyError(f"{origin} is invalid: {problems}") from None


def _message(error: Any) -> str:
    if error["type"] == "string_pattern_mismatch" and error["loc"][-1] == "[key]":
        return "role names are lower-case letters, digits, - or _ (at most 40), starting with a letter"
    return str(error["msg"])


#: The sample policy shipped with profilesync (support, marketing, analyst, admin).
SAMPLE_POLICY_FILE = "sample_policy.yaml"


@cache
def sample_policy() -> RolePolicy:
    """The shipped sample policy: the profile API's when the configuration document has no roles."""
    text = resources.files("core.governance").joinpath(SAMPLE_POLICY_FILE).read_text(encoding="utf-8")
    return load_policy(text, origin=f"core/governance/{SAMPLE_POLICY_FILE}")


__all__ = [
    "COMPUTED_FIELDS",
    "SAMPLE_POLICY_FILE",
    "Access",
    "Principal",
    "RoleGrant",
    "RoleName",
    "RolePolicy",
    "TagsOf",
    "load_policy",
    "sample_policy",
]
