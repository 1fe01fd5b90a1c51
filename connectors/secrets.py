"""Where secrets come from: the environment, a local JSON file, or AWS Secrets Manager.

Connector credentials and the stack's own secrets (the audit salt of merge, push, pull and privacy).
Outside ``connectors._http`` (which re-exports it for connectors) because importing that package
imports httpx: ~40 ms of the cold start of a function that needs a secret but calls no tool.
"""

from __future__ import annotations

import functools
import hmac
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConnectorConfigError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

ENV_PREFIX = "PROFILESYNC_"
SECRETS_FILE_VAR = "PROFILESYNC_SECRETS_FILE"
SECRETS_PREFIX_VAR = "PROFILESYNC_SECRETS_PREFIX"
DEFAULT_SECRETS_PREFIX = "profilesync/"

#: Powertools caches a fetched secret in the Lambda execution environment for this long, so a warm
#: invocation does not call Secrets Manager again, while a rotated secret is picked up within 5 minutes.
SECRETS_MANAGER_MAX_AGE_SECONDS = 300

_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


class Secret:
    """A credential that prints as ``***`` in reprs, f-strings and logs; ``reveal()`` gives the value.

    Deliberately not a ``str`` subclass: ``"".join``, ``+`` and ``json.dumps`` would all see the raw
    value of a ``str`` subclass, whatever its ``__str__`` says.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value itself, for the one place that must send it (an auth header)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


def secret_env_var(name: str) -> str:
    """Return the environment variable holding secret ``name``: hubspot-token -> PROFILESYNC_HUBSPOT_TOKEN."""
    return ENV_PREFIX + _NOT_ALPHANUMERIC.sub("_", name).upper()


def revealed(value: str | Secret) -> str:
    """The text of a credential given as a plain string or a ``Secret``."""
    return value.reveal() if isinstance(value, Secret) else value


def resolve_secret(name: str, *, env: Mapping[str, str] | None = None) -> str:
    """Return secret ``name`` from the first place that has it, or raise ConnectorConfigError.

    Looks, in order, at the environment variable ``PROFILESYNC_<NAME>``; the JSON object in
    ``$PROFILESYNC_SECRETS_FILE`` or ``~/.profilesync/secrets.json`` (keys match ignoring case and
    punctuation); then, in Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set) or when
    ``PROFILESYNC_SECRETS_PREFIX`` is set, the Secrets Manager secret ``<prefix><name>`` (prefix
    ``profilesync/`` by default) through Powertools Parameters, cached for five minutes. Empty values
    count as missing. ``env`` replaces ``os.environ`` (tests).
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    var = secret_env_var(name)
    value = environ.get(var, "").strip()
    if value:
        return value

    secrets_file = _secrets_file(environ)
    value = _from_file(secrets_file, name, explicit=SECRETS_FILE_VAR in environ)
    if value:
        return value

    where = f"set the environment variable {var} or add {name!r} to {secrets_file}"
    if environ.get("AWS_LAMBDA_FUNCTION_NAME") or environ.get(SECRETS_PREFIX_VAR):
        secret_id = environ.get(SECRETS_PREFIX_VAR, DEFAULT_SECRETS_PREFIX) + name
        value = _from_secrets_manager(secret_id)
        if value:
            return value
        where += f", or create the secret {secret_id!r} in AWS Secrets Manager"
    raise ConnectorConfigError(f"secret {name!r} is not configured: {where}")


def _secrets_file(environ: Mapping[str, str]) -> Path:
    explicit = environ.get(SECRETS_FILE_VAR)
    if explicit:
        return Path(explicit).expanduser()
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".profilesync" / "secrets.json"


def _from_file(path: Path, name: str, *, explicit: bool) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:  # a path someone set on purpose and got wrong deserves an error, not a silent skip
            raise ConnectorConfigError(
                f"{SECRETS_FILE_VAR} points to {path}, which does not exist: fix the path or unset it"
            ) from None
        return ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectorConfigError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConnectorConfigError(f'{path} must hold a JSON object such as {{"hubspot_token": "..."}}')
    wanted = secret_env_var(name)
    for key, value in data.items():
        if secret_env_var(str(key)) == wanted and isinstance(value, str) and value.strip():
            return value.strip()
    return ""


@functools.cache
def secrets_provider() -> SecretsProvider:
    """Powertools' Secrets Manager provider, one per process (it caches what it fetched).

    Its client comes from the session the functions' own clients come from (core.storage.aws_clients),
    so it shares the service models and endpoint data they loaded. Powertools' ``get_secret`` would
    build a session of its own and load all of that again: ~40 ms of a cold start
    (bench/cold_start.py).
    """
    # Imported here: botocore and Powertools cost ~100 ms of cold start, and local runs never need them.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from core.storage.aws_clients import aws_client

    return SecretsProvider(boto3_client=aws_client("secretsmanager"))


def _from_secrets_manager(secret_id: str) -> str:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = secrets_provider().get(secret_id, max_age=SECRETS_MANAGER_MAX_AGE_SECONDS)
    except GetParameterError as exc:
        raise ConnectorConfigError(
            f"could not read the secret {secret_id!r} from AWS Secrets Manager ({exc}): create it, "
            "or give the function secretsmanager:GetSecretValue on it"
        ) from None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        raise ConnectorConfigError(f"the secret {secret_id!r} in AWS Secrets Manager is not a string")
    return value.strip()
