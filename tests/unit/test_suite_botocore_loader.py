"""The suite's boto3 sessions share one botocore data loader (tests/conftest.py), and nothing else:
each mock still has its own session, client and moto state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from profilesync.embedded import dynamodb_client
from profilesync.template import create_table


def _in_a_mock(make_table: str | None) -> tuple[Any, Any, list[str]]:
    with mock_aws():
        client = dynamodb_client()
        if make_table:
            create_table(client, make_table)
        return client, boto3.DEFAULT_SESSION, client.list_tables()["TableNames"]


def test_clients_of_successive_mocks_share_the_loader_not_the_session_nor_moto_s_state() -> None:
    # GIVEN a client made in one mock, which makes a table there
    first, first_session, first_tables = _in_a_mock("profilesync-loader-test")
    # WHEN another mock makes a client
    second, second_session, second_tables = _in_a_mock(None)
    # THEN they read the service models through the same loader (read once for the run)
    assert first._loader is second._loader
    assert first_session._session.get_component("data_loader") is first._loader
    # AND each mock has its own session and client, and its own moto state
    assert first_session is not second_session
    assert first is not second
    assert (first_tables, second_tables) == (["profilesync-loader-test"], [])


def test_the_shared_loader_still_finds_boto3_s_own_data() -> None:
    _, session, _ = _in_a_mock(None)
    assert any(path.endswith("boto3/data") for path in session._loader.search_paths)
    assert "dynamodb" in session.get_available_resources()


def test_a_session_made_with_aws_data_path_set_finds_the_models_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the run's shared loader made (another test's session, in a full run)
    boto3.setup_default_session()
    # AND a folder holding a service model of its own, named by AWS_DATA_PATH
    folder = tmp_path / "profilesyncfake" / "2024-01-01"
    folder.mkdir(parents=True)
    metadata = {"apiVersion": "2024-01-01", "endpointPrefix": "profilesyncfake", "protocol": "json",
                "serviceId": "ProfilesyncFake", "signatureVersion": "v4", "targetPrefix": "Fake",
                "jsonVersion": "1.0"}  # fmt: skip
    model = {"version": "2.0", "metadata": metadata, "operations": {}, "shapes": {}}
    (folder / "service-2.json").write_text(json.dumps(model), encoding="utf-8")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    # WHEN a default session is made
    boto3.setup_default_session()
    # THEN it finds the model there (a loader of its own data path, not the shared one)
    assert boto3.DEFAULT_SESSION is not None
    assert "profilesyncfake" in boto3.DEFAULT_SESSION.get_available_services()
