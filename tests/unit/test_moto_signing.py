"""The tests' DynamoDB clients on moto send unsigned requests (tests/aws_signing.py); the product's
clients, built as the product builds them, sign with SigV4 when that test hook is off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from core.storage import aws_clients
from functions import _wiring
from profilesync.embedded import dynamodb_client
from tests.aws_signing import signing_as_in_production


def _authorization_sent(client: Any) -> str | None:
    """The ``Authorization`` header of one ``ListTables`` request as it left botocore for moto."""
    seen: list[str | None] = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(request.headers.get("Authorization"))

    client.meta.events.register_first("before-send.dynamodb", capture)
    client.list_tables()
    assert len(seen) == 1
    header = seen[0]
    return header.decode() if isinstance(header, bytes) else header


@pytest.fixture
def fresh_session() -> Iterator[None]:
    """functions' clients come from the process's botocore session: a new one for the test."""
    saved = aws_clients._session
    aws_clients._session = None
    try:
        yield
    finally:
        aws_clients._session = saved


PRODUCT_CLIENTS = {
    "profilesync.embedded.dynamodb_client": lambda: dynamodb_client(),
    "functions._wiring (core.storage.aws_clients)": lambda: _wiring._new_boto3_client("dynamodb"),
}


@pytest.mark.parametrize("make", PRODUCT_CLIENTS.values(), ids=PRODUCT_CLIENTS.keys())
def test_the_product_signs_dynamodb_requests_with_the_test_hook_off(make: Any, fresh_session: None) -> None:
    # GIVEN moto and a DynamoDB client made by the product's own code, with production's signing
    with mock_aws(), signing_as_in_production():
        client = make()
        # WHEN it calls DynamoDB
        header = _authorization_sent(client)
    # THEN the request carries a SigV4 signature for its region
    assert header is not None
    assert header.startswith("AWS4-HMAC-SHA256 Credential=")  # moto's mock_aws sets its own keys
    assert "/us-east-1/dynamodb/aws4_request" in header
    assert "Signature=" in header


@pytest.mark.parametrize("make", PRODUCT_CLIENTS.values(), ids=PRODUCT_CLIENTS.keys())
def test_the_tests_send_dynamodb_requests_to_moto_unsigned(make: Any, fresh_session: None) -> None:
    # GIVEN moto and the same clients in an ordinary test
    with mock_aws():
        client = make()
        # WHEN they call DynamoDB THEN nothing is signed, and moto answers as before
        assert _authorization_sent(client) is None
        assert client.list_tables()["TableNames"] == []


def test_a_client_of_a_local_endpoint_still_signs() -> None:
    # GIVEN a client of a local endpoint (the threaded moto server, --endpoint-url), which names its
    # region only in the signature
    client = dynamodb_client("http://127.0.0.1:9", region="eu-west-1")
    seen: list[Any] = []

    def capture(request: Any, **_: Any) -> Any:
        seen.append(request.headers.get("Authorization"))
        raise _SentError

    client.meta.events.register_first("before-send.dynamodb", capture)
    # WHEN it sends a request THEN it is signed for its region
    with pytest.raises(_SentError):
        client.list_tables()
    header = seen[0].decode() if isinstance(seen[0], bytes) else seen[0]
    assert "/eu-west-1/dynamodb/aws4_request" in header


class _SentError(Exception):
    """Stops a request before it leaves the process (nothing listens on the local endpoint)."""
