"""Secret resolution: environment, local file, Secrets Manager (moto), and clear errors when missing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from connectors._http import Secret, resolve_secret, secret_env_var
from connectors.secrets import secrets_provider
from core.errors import ConnectorConfigError
from core.storage.aws_clients import aws_client, aws_session


@pytest.fixture
def no_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose HOME is an empty directory, so the developer's real file is never read."""
    return {"HOME": str(tmp_path / "home")}


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_env_var_name_is_prefixed_upper_snake() -> None:
    # GIVEN names written in several ways THEN each maps to one PROFILESYNC_ variable
    assert secret_env_var("hubspot_token") == "PROFILESYNC_HUBSPOT_TOKEN"
    assert secret_env_var("klaviyo-api.key") == "PROFILESYNC_KLAVIYO_API_KEY"


def test_environment_wins(no_home: dict[str, str], tmp_path: Path) -> None:
    # GIVEN the secret both in the environment and in the file
    secrets_file = _write(tmp_path / "s.json", {"hubspot_token": "from-file"})
    env = {
        **no_home,
        "PROFILESYNC_HUBSPOT_TOKEN": " from-env\n",
        "PROFILESYNC_SECRETS_FILE": str(secrets_file),
    }
    # WHEN resolving THEN the environment's value, trimmed
    assert resolve_secret("hubspot_token", env=env) == "from-env"


def test_explicit_secrets_file_is_read(no_home: dict[str, str], tmp_path: Path) -> None:
    # GIVEN a file named by PROFILESYNC_SECRETS_FILE, keyed in another spelling
    secrets_file = _write(tmp_path / "s.json", {"HUBSPOT-TOKEN": "from-file"})
    env = {**no_home, "PROFILESYNC_SECRETS_FILE": str(secrets_file)}
    # WHEN resolving THEN the key matches ignoring case and punctuation
    assert resolve_secret("hubspot_token", env=env) == "from-file"


def test_default_secrets_file_in_home(tmp_path: Path) -> None:
    # GIVEN ~/.profilesync/secrets.json WHEN resolving with nothing in the environment THEN it is used
    _write(tmp_path / ".profilesync" / "secrets.json", {"stripe_key": "sk_test_123"})
    assert resolve_secret("stripe_key", env={"HOME": str(tmp_path)}) == "sk_test_123"


def test_missing_secret_says_what_to_set(no_home: dict[str, str]) -> None:
    # GIVEN nothing anywhere WHEN resolving THEN the error names the variable and the file to use
    with pytest.raises(ConnectorConfigError) as caught:
        resolve_secret("hubspot_token", env=no_home)
    message = str(caught.value)
    assert "PROFILESYNC_HUBSPOT_TOKEN" in message
    assert str(Path(no_home["HOME"]) / ".profilesync" / "secrets.json") in message
    assert "Secrets Manager" not in message  # not in Lambda, so not suggested


def test_empty_values_count_as_missing(no_home: dict[str, str]) -> None:
    # GIVEN an empty variable WHEN resolving THEN it is reported missing rather than used
    with pytest.raises(ConnectorConfigError, match="not configured"):
        resolve_secret("hubspot_token", env={**no_home, "PROFILESYNC_HUBSPOT_TOKEN": "  "})


def test_a_secrets_file_set_on_purpose_must_exist(no_home: dict[str, str], tmp_path: Path) -> None:
    # GIVEN PROFILESYNC_SECRETS_FILE pointing nowhere WHEN resolving THEN the wrong path is reported
    env = {**no_home, "PROFILESYNC_SECRETS_FILE": str(tmp_path / "nope.json")}
    with pytest.raises(ConnectorConfigError, match="does not exist"):
        resolve_secret("hubspot_token", env=env)


@pytest.mark.parametrize(("content", "fragment"), [("{not json", "not valid JSON"), ('["a"]', "JSON object")])
def test_a_broken_secrets_file_is_reported(
    no_home: dict[str, str], tmp_path: Path, content: str, fragment: str
) -> None:
    # GIVEN a file that is not a JSON object WHEN resolving THEN a clear error
    env = {**no_home, "PROFILESYNC_SECRETS_FILE": str(_write(tmp_path / "s.json", content))}
    with pytest.raises(ConnectorConfigError, match=fragment):
        resolve_secret("hubspot_token", env=env)


@pytest.fixture
def secrets_manager() -> Iterator[Any]:
    """moto's Secrets Manager, and a fresh provider (Powertools caches what it fetched)."""
    secrets_provider.cache_clear()
    with mock_aws():
        yield boto3.client("secretsmanager")
    secrets_provider.cache_clear()


def test_in_lambda_secrets_manager_is_asked_through_powertools(
    no_home: dict[str, str], secrets_manager: Any
) -> None:
    # GIVEN a Lambda environment and the secret under the default prefix in Secrets Manager
    secrets_manager.create_secret(Name="profilesync/hubspot_token", SecretString=" from-secrets-manager\n")
    env = {**no_home, "AWS_LAMBDA_FUNCTION_NAME": "profilesync-sync"}
    # WHEN resolving THEN the default-prefixed secret is read, trimmed
    assert resolve_secret("hubspot_token", env=env) == "from-secrets-manager"
    # AND kept for five minutes: a rotated value is not read again before then
    secrets_manager.put_secret_value(SecretId="profilesync/hubspot_token", SecretString="rotated")
    assert resolve_secret("hubspot_token", env=env) == "from-secrets-manager"
    assert resolve_secret("hubspot_token", env=env) != "rotated"


def test_the_secrets_client_shares_the_functions_session(secrets_manager: Any) -> None:
    # GIVEN the session the functions' own clients come from, having made a client
    functions_client = aws_client("dynamodb")
    # WHEN the provider is built THEN its client comes from that session: the service models and
    # endpoint data the session loaded are not loaded again (a cold start's worth of CPU)
    client = secrets_provider().client
    assert client.meta.service_model.service_name == "secretsmanager"
    assert client._loader is functions_client._loader is aws_session().get_component("data_loader")


def test_secrets_prefix_turns_secrets_manager_on_outside_lambda(
    no_home: dict[str, str], secrets_manager: Any
) -> None:
    # GIVEN a custom prefix and a secret that Secrets Manager does not hold
    env = {**no_home, "PROFILESYNC_SECRETS_PREFIX": "staging/profilesync/"}
    # WHEN resolving THEN the error names the secret to create
    with pytest.raises(ConnectorConfigError, match=r"'staging/profilesync/hubspot_token'.*create it"):
        resolve_secret("hubspot_token", env=env)


def test_secret_wrapper_prints_as_stars() -> None:
    # GIVEN a Secret WHEN printed, formatted or repr'd THEN only *** shows; reveal() gives the value
    secret = Secret("sk_live_123456")
    assert str(secret) == "***"
    assert f"{secret}" == "***"
    assert repr(secret) == "Secret('***')"
    assert repr({"token": secret}) == "{'token': Secret('***')}"
    assert secret.reveal() == "sk_live_123456"
    assert secret == Secret("sk_live_123456")
    assert secret != Secret("other")
