"""tests/moto_start.py: a ``mock_aws()`` start registers the interceptors moto's own start registers
(same classes, methods, URL patterns and callbacks, in the same order), built once per process and
handed to each mock with no calls of an earlier one; a registry already in use is left to moto."""

from __future__ import annotations

import json
import re
from typing import Any

import moto.core.models as models
import pytest
import requests
from moto import mock_aws


def _registered() -> list[tuple[Any, ...]]:
    registry = models.responses_mock._registry._registered
    return [
        (method, type(r), r.method, r.url.pattern, r.callback, r.call_count, r.passthrough, r.match)
        for method, responses in registry.items()
        for r in responses
    ]


def test_a_mock_registers_what_moto_s_own_start_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN what a mock's start registers, with the shared interceptors and with moto's own code
    with mock_aws():
        shared = _registered()
    with monkeypatch.context() as m:
        m.setattr(models.MockAWS, "_enable_patching", models.MockAWS._enable_patching.__wrapped__)
        with mock_aws():
            own = _registered()
    # THEN they are the same, every pattern of moto's table on every method plus the catch-alls
    assert len(own) > 1000
    assert shared == own
    # ...and a stop leaves nothing registered, as moto's reset does
    assert _registered() == []


def _list_tables_over_requests() -> requests.Response:
    return requests.post(
        "https://dynamodb.us-east-1.amazonaws.com/",
        data=json.dumps({}),
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
        timeout=5,
    )


def test_each_mock_gets_the_interceptors_built_once_with_no_earlier_calls() -> None:
    # GIVEN a mock whose interceptor answered a request made with requests (not boto3)
    with mock_aws():
        answer = _list_tables_over_requests()
        first = list(models.responses_mock._registry._registered["POST"])
        called = [r for r in first if r.call_count]
    assert answer.status_code == 200
    assert answer.json() == {"TableNames": []}
    assert len(called) == 1
    assert "dynamodb" in called[0].url.pattern
    # WHEN the next mock starts THEN it has the same objects, none of them called yet
    with mock_aws():
        second = models.responses_mock._registry._registered["POST"]
        assert all(a is b for a, b in zip(first, second, strict=True))
        assert [r for r in second if r.call_count] == []
        assert _list_tables_over_requests().json() == {"TableNames": []}


def test_a_registry_in_use_is_left_to_moto_s_own_start() -> None:
    # GIVEN a response registered before a mock that starts without a reset
    mine = models.CallbackResponse(method="GET", url=re.compile(r"https://mine\.invalid/.*"), callback=print)
    models.responses_mock._registry.add(mine)
    mock = mock_aws()
    mock.start(reset=False)
    try:
        # WHEN it starts THEN moto's own code registered new interceptors after it, as without sharing
        gets = models.responses_mock._registry._registered["GET"]
        assert gets[0] is mine
        assert len(gets) > 100
        shared = models.responses_mock._registry._registered["POST"]
    finally:
        mock.stop()
    with mock_aws():
        assert not any(
            a is b for a, b in zip(shared, models.responses_mock._registry._registered["POST"], strict=False)
        )


def test_a_request_id_is_drawn_as_moto_draws_it_from_moto_s_generator() -> None:
    # GIVEN moto's own request ids and the ones drawn at once, from moto's generator seeded alike
    import string

    import moto.core.responses
    import moto.utilities.aws_headers as aws_headers
    from moto.moto_api._internal import mock_random

    own = aws_headers.gen_amzn_requestid_long.__wrapped__
    assert moto.core.responses.gen_amzn_requestid_long is aws_headers.gen_amzn_requestid_long
    mock_random.seed(7)
    drawn = [aws_headers.gen_amzn_requestid_long() for _ in range(200)]
    mock_random.seed(7)
    again = [aws_headers.gen_amzn_requestid_long() for _ in range(200)]
    theirs = [own() for _ in range(200)]
    # THEN the same length and alphabet, reproducible under moto's seed, and set as the header
    pool = set(string.ascii_letters + string.digits)
    assert {len(i) for i in drawn} == {len(i) for i in theirs} == {52}
    assert set("".join(drawn)) == set("".join(theirs)) == pool
    assert drawn == again
    assert len(set(drawn)) == 200
    headers: dict[str, str] = {}
    assert aws_headers.gen_amzn_requestid_long(headers) == headers["x-amzn-requestid"]


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"Item": {"pk": {"S": "x" * 5000}}}),
        "<R><RequestId>old</RequestId><Body>RequestId</Body></R>",
        '{"note": "<RequestId>in a value</RequestId>"}',
        b"<RequestId>bytes</RequestId>",
        "",
        None,
    ],
)
def test_a_response_is_stamped_as_moto_stamps_it(body: Any) -> None:
    # GIVEN moto's own _enrich_response and the one that skips bodies with no <RequestId>
    from moto.core.responses import BaseResponse
    from moto.moto_api._internal import mock_random

    ours = BaseResponse._enrich_response
    theirs = ours.__wrapped__  # type: ignore[attr-defined]
    answers = []
    for enrich in (ours, theirs):
        mock_random.seed(11)
        headers: dict[str, Any] = {"status": 200, "content-type": "application/x-amz-json-1.0"}
        answers.append(enrich(headers, body))
    # THEN the same headers (the status a string, the request id) and the same body
    assert answers[0] == answers[1]
    assert answers[0][0]["status"] == "200"
    assert len(answers[0][0]["x-amzn-requestid"]) == 52
    if isinstance(body, str) and "<RequestId>" in body:
        assert answers[0][1] != body  # moto's substitution still runs where there is an id
