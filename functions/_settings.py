"""The functions' settings (functions._wiring): the environment template.yaml sets, read and checked
once, and the configuration document it names, read on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigurationError

if TYPE_CHECKING:
    from core.config import ConnectorInstance, ProfileSyncConfig


#: SQS's limit for one message and for one SendMessageBatch request (the sum of its messages).
#: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
SQS_MAX_MESSAGE_BYTES = 262_144


class WiringError(ConfigurationError):
    """The function's environment is incomplete or malformed; the message names the variable."""


def parse_connectors(text: str) -> dict[str, ConnectorInstance]:
    """Parse an inline ``connectors`` section (``CONNECTORS``); an empty value means no connector."""
    from core.config import connectors_section

    try:
        return connectors_section(text)
    except ConfigurationError as error:
        raise WiringError(
            "CONNECTORS must be a JSON object such as "
            f'{{"hubspot": {{}}, "mailchimp": {{"options": {{"list_id": "..."}}}}}}: {error}'
        ) from None


def config_from_environment(environ: Mapping[str, str]) -> ProfileSyncConfig:
    """The document ``PROFILESYNC_CONFIG`` names (relative to the function's code), or the inline
    ``CONNECTORS`` section, or an empty document."""
    from core.config import ProfileSyncConfig, load_config

    path_text = environ.get("PROFILESYNC_CONFIG", "").strip()  # core.config.CONFIG_ENV_VAR
    inline = environ.get("CONNECTORS", "").strip()
    if path_text and inline:
        raise WiringError("set PROFILESYNC_CONFIG or CONNECTORS, not both: they would disagree")
    if inline:
        return ProfileSyncConfig(connectors=parse_connectors(inline))
    if not path_text:
        return ProfileSyncConfig()
    path = Path(path_text)
    if not path.is_absolute():
        # Lambda runs the handler in its code directory, but say so rather than rely on it.
        path = Path(environ.get("LAMBDA_TASK_ROOT", "") or os.getcwd()) / path
    return load_config(path)


class DeferredConfig:
    """The configuration document an environment names, read and validated on first use, then kept.

    Only the functions that act on connector instances read it (pull, push, privacy, the dispatcher):
    merge never does, so it never pays for the YAML parser and the document's models (~20 ms of its
    first invocation, bench/cold_start.py). A malformed document fails that first use, with the same
    error ``config_from_environment`` gives.
    """

    _READ = ("PROFILESYNC_CONFIG", "CONNECTORS", "LAMBDA_TASK_ROOT")

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = {name: environ[name] for name in self._READ if name in environ}
        # A relative path is relative to the code directory, as now (not as whenever it is read).
        self._environ["LAMBDA_TASK_ROOT"] = self._environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
        self._config: ProfileSyncConfig | None = None

    def get(self) -> ProfileSyncConfig:
        if self._config is None:
            self._config = config_from_environment(self._environ)
        return self._config


class _DeferredConnectors(Mapping[str, "ConnectorInstance"]):
    """The ``connectors`` section of a ``DeferredConfig``, read when first looked at."""

    def __init__(self, config: DeferredConfig) -> None:
        self._config = config

    def __getitem__(self, name: str) -> ConnectorInstance:
        return self._config.get().connectors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._config.get().connectors)

    def __len__(self) -> int:
        return len(self._config.get().connectors)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WiringError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise WiringError(f"{name} must be at least {minimum}, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """The functions' configuration, read once from the environment."""

    table_name: str
    connectors: Mapping[str, ConnectorInstance] = field(default_factory=dict)
    ingest_queue_url: str | None = None
    ingest_dead_letter_queue_url: str | None = None
    push_failure_queue_url: str | None = None
    pull_time_margin_seconds: int = 120
    pull_lease_seconds: int = 960
    pull_max_continuations: int = 50
    ingest_message_max_bytes: int = SQS_MAX_MESSAGE_BYTES
    config: ProfileSyncConfig | DeferredConfig | None = None
    """The whole configuration document (or, from the environment, the means to read it on first use);
    ``connectors`` is its connectors section."""

    @property
    def document(self) -> ProfileSyncConfig:
        """The configuration document (built from ``connectors`` when only those were given)."""
        if isinstance(self.config, DeferredConfig):
            return self.config.get()
        from core.config import ProfileSyncConfig

        return self.config or ProfileSyncConfig(connectors=dict(self.connectors))

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if env is None else env
        table = environ.get("TABLE_NAME", "").strip()
        if not table:
            raise WiringError("TABLE_NAME is not set: it names the profile table (template.yaml sets it)")
        max_bytes = _int(environ, "INGEST_MESSAGE_MAX_BYTES", SQS_MAX_MESSAGE_BYTES, 4096)
        if max_bytes > SQS_MAX_MESSAGE_BYTES:
            raise WiringError(
                f"INGEST_MESSAGE_MAX_BYTES cannot exceed SQS's limit of {SQS_MAX_MESSAGE_BYTES}"
            )
        config = DeferredConfig(environ)
        return cls(
            table_name=table,
            connectors=_DeferredConnectors(config),
            config=config,
            ingest_queue_url=environ.get("INGEST_QUEUE_URL", "").strip() or None,
            ingest_dead_letter_queue_url=environ.get("INGEST_DEAD_LETTER_QUEUE_URL", "").strip() or None,
            push_failure_queue_url=environ.get("PUSH_FAILURE_QUEUE_URL", "").strip() or None,
            pull_time_margin_seconds=_int(environ, "PULL_TIME_MARGIN_SECONDS", 120, 1),
            pull_lease_seconds=_int(environ, "PULL_LEASE_SECONDS", 960, 60),
            pull_max_continuations=_int(environ, "PULL_MAX_CONTINUATIONS", 50, 0),
            ingest_message_max_bytes=max_bytes,
        )
