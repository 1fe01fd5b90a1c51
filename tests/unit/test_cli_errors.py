"""``describe_failure``: every exception becomes one line and the exit code its kind deserves."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from connectors._http import ConnectorAuthError, ConnectorUnavailableError
from core.errors import ConfigurationError, ConflictError, InputError
from profilesync.cli_errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, UsageError, describe_failure


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("--people must be at least 1"), EXIT_USAGE),
        (InputError("in.jsonl: no such file"), EXIT_USAGE),
        (ConfigurationError("profilesync.yaml: connectors.x: unknown vendor"), EXIT_USAGE),
        (ConnectorAuthError("hubspot", 401, credential_hint="PROFILESYNC_HUBSPOT_TOKEN"), EXIT_USAGE),
        (
            ConnectorUnavailableError("hubspot", "GET", "/x", attempts=6, reason="HTTP 503"),
            EXIT_FAILED,
        ),
        (ConflictError("lost a race"), EXIT_FAILED),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
    ],
)
def test_typed_errors_keep_their_message_on_one_line_with_the_code_of_their_kind(
    error: BaseException, code: int
) -> None:
    failure = describe_failure(error)
    assert failure.code == code
    assert "\n" not in failure.message
    if not isinstance(error, KeyboardInterrupt):
        assert failure.message == " ".join(str(error).split())


def test_aws_sdk_errors_name_the_fix() -> None:
    # GIVEN the errors boto3 raises with --endpoint-url and no credentials, an endpoint that is down,
    # and credentials AWS refuses
    missing = describe_failure(NoCredentialsError())
    down = describe_failure(EndpointConnectionError(endpoint_url="http://127.0.0.1:8000/"))
    refused = describe_failure(
        ClientError(
            {"Error": {"Code": "UnrecognizedClientException", "Message": "The security token is invalid"}},
            "DescribeTable",
        )
    )
    # THEN each is a usage error saying what to set or check
    assert missing.code == down.code == refused.code == EXIT_USAGE
    assert "AWS_ACCESS_KEY_ID" in missing.message
    assert "http://127.0.0.1:8000/" in down.message
    assert "--endpoint-url" in down.message
    assert "UnrecognizedClientException" in refused.message


def test_an_unexpected_error_is_one_line_that_points_at_debug() -> None:
    failure = describe_failure(TypeError("unsupported operand\ntype(s)"))
    assert failure.code == EXIT_FAILED
    assert failure.message.startswith("unexpected error (TypeError: unsupported operand type(s))")
    assert "--debug" in failure.message


def test_an_os_error_names_the_path() -> None:
    failure = describe_failure(PermissionError(13, "Permission denied", "/out/p.jsonl"))
    assert failure == type(failure)(EXIT_FAILED, "/out/p.jsonl: Permission denied")
