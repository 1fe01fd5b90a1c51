"""Shared fixtures: records built in one line, the moto environment set before boto3 loads, and the
Hypothesis profile (tests/hypothesis_profiles.py: ``ci`` by default, ``HYPOTHESIS_PROFILE=deep``)."""

from __future__ import annotations

import os

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

__all__ = ["T0", "MakeRecord", "make_record"]


@pytest.fixture
def record() -> MakeRecord:
    return make_record
