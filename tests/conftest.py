"""Shared fixtures: records built in one line, the moto environment set before boto3 loads, and the
Hypothesis profile (tests/hypothesis_profiles.py: ``ci`` by default, ``HYPOTHESIS_PROFILE=deep``)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from core.testing.records import T0, MakeRecord, make_record
from tests import hypothesis_profiles

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)

hypothesis_profiles.load()


def _share_botocore_data_loader() -> None:
    """Every boto3 default session of the run shares one botocore data loader.

    moto's ``mock_aws()`` drops boto3's default session on entry (so that no client or credentials
    outlive a mock), and a new session reads the service model, endpoints and rules of every client
    again from botocore's JSON files: a mock and a DynamoDB client took 0.10 s of CPU, 0.02 s with
    the loader shared, in each of the thousands of mocks the suite enters (every test, hypothesis
    example and kill point on DynamoDB). The loader caches what it read; models are only read.
    Sessions, clients, credentials and moto's state stay one per mock, as before. Only sessions made
    while ``AWS_DATA_PATH`` is unset share it (one loader per data path): a test that sets it to add
    models of its own (tests/unit/test_aws_clients.py) gets a loader that searches there.
    """
    import boto3

    new_session = boto3.setup_default_session
    shared: dict[str | None, Any] = {}

    def setup_default_session(**kwargs: Any) -> None:
        new_session(**kwargs)
        session = boto3.DEFAULT_SESSION
        assert session is not None
        # The loader's search path holds boto3's data and AWS_DATA_PATH's folders, read when made.
        loader = shared.setdefault(os.environ.get("AWS_DATA_PATH"), session._loader)
        session._session.register_component("data_loader", loader)
        session._loader = loader

    boto3.setup_default_session = setup_default_session


_share_botocore_data_loader()

__all__ = ["T0", "MakeRecord", "make_record"]


@pytest.fixture
def record() -> MakeRecord:
    return make_record
