"""What the profile API builds once per cold start: the role policy, its readers and stores, IAM tags.

| variable                   | meaning                                                                  |
| -------------------------- | ------------------------------------------------------------------------ |
| READ_AUDIT_RETENTION_DAYS  | how long a read is kept in the read audit (default 90)                   |

The role policy is the ``roles`` section of the configuration document (core/config.py; the shipped
sample policy when the document has none).

The stores use the clients of ``functions._wiring`` (so tests and the local runtime inject theirs).
Tags are read from IAM only for a policy that matches roles by tag, once per principal per
``TAG_CACHE_SECONDS`` of an execution environment.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from core.governance.answer import Sources
from core.governance.policy import Principal, RolePolicy, TagsOf
from functions._wiring import WiringError, wiring

logger = Logger(child=True)

#: How long a principal's IAM tags are trusted before they are read again.
TAG_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Governance:
    """The policy and where answers are read from and reads are recorded."""

    policy: RolePolicy
    sources: Sources
    tags_of: TagsOf | None = None
    erasures: object = None
    """The store's erasure epoch (core.erasure_epoch.ErasureEpochs), read before each request: an
    erasure elsewhere empties this process's caches of personal values first."""


def retention_days(env: Mapping[str, str] | None = None) -> int:
    raw = (os.environ if env is None else env).get("READ_AUDIT_RETENTION_DAYS", "").strip()
    if not raw:
        return 90
    if not raw.isdigit() or int(raw) < 1:
        raise WiringError(f"READ_AUDIT_RETENTION_DAYS must be a whole number of days, not {raw!r}")
    return int(raw)


class IamTags:
    """The tags of a principal's IAM role or user, from IAM, cached; no tags when IAM says no."""

    def __init__(self, iam: Callable[[], Any], *, ttl: float = TAG_CACHE_SECONDS) -> None:
        self._iam = iam  # a factory: the client is built only when a role that matches by tag is reached
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}

    def __call__(self, principal: Principal) -> Mapping[str, str]:
        entity = principal.iam_entity
        if entity is None:
            return {}
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(entity)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        tags = self._read(*entity)
        with self._lock:
            self._cache[entity] = (now, tags)
        return tags

    def _read(self, kind: str, name: str) -> dict[str, str]:
        iam = self._iam()
        method = iam.list_role_tags if kind == "role" else iam.list_user_tags
        argument = {"RoleName": name} if kind == "role" else {"UserName": name}
        tags: dict[str, str] = {}
        marker: str | None = None
        try:
            while True:
                page = method(**argument, **({"Marker": marker} if marker else {}))
                tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
                if not page.get("IsTruncated"):
                    return tags
                marker = page.get("Marker")
        except Exception as error:  # a principal whose tags cannot be read matches no role by tag
            logger.warning(
                "could not read the caller's IAM tags", extra={"kind": kind, "error": type(error).__name__}
            )
            return {}


_current: Governance | None = None


def governance() -> Governance:
    """The ``Governance`` of this execution environment, built on first use."""
    global _current
    if _current is None:
        from core.storage.dynamodb_epoch import DynamoDBErasureEpoch
        from core.storage.dynamodb_history import DynamoDBHistoryStore
        from core.storage.dynamodb_reads import DynamoDBProfileReader, DynamoDBReadAudit
        from functions._identity import identity_settings

        w = wiring()
        client, table = w.client("dynamodb"), w.settings.table_name
        policy = w.settings.document.role_policy()
        identity = identity_settings()  # probabilistic: explain shows the graph's fuzzy and review links
        if identity is not None:
            from core.link_explain import GraphLinks
        _current = Governance(
            policy=policy,
            sources=Sources(
                reader=DynamoDBProfileReader(client, table, salt=lambda: w.audit_salt),
                history=DynamoDBHistoryStore(client, table, salt=lambda: w.audit_salt),
                audit=DynamoDBReadAudit(client, table, retention_days=retention_days()),
                links=GraphLinks(w.profiles, identity) if identity is not None else None,
            ),
            tags_of=IamTags(lambda: w.client("iam")) if policy.uses_tags else None,
            erasures=DynamoDBErasureEpoch(client, table),
        )
    return _current


def use(replacement: Governance | None) -> None:
    """Install a ``Governance`` (tests, ``profilesync serve-api``), or None to rebuild on next use."""
    global _current
    _current = replacement


__all__ = ["TAG_CACHE_SECONDS", "Governance", "IamTags", "governance", "retention_days", "use"]
