"""attack18: what the functions send to AWS X-Ray with the stack's ``DetailedTracing`` on, for a person
who is exported and then erased.

template.yaml's ``DetailedTracing`` parameter ("Use Powertools' Tracer ... on top of Lambda's active
tracing") sets ``PROFILESYNC_TRACING=sdk``, and each handler is then wrapped in
``Tracer().capture_lambda_handler`` (functions/_wiring.py ``traced``). Powertools' Tracer captures the
handler's *response* as segment metadata unless told not to ("capture_response ... Instructs tracer to
not include handler's response as metadata", default on; ``POWERTOOLS_TRACER_CAPTURE_RESPONSE``,
which the template does not set). The privacy function's answer to an ``export`` is everything held
about her: her profile, her source records, her identifiers. X-Ray keeps a trace 30 days and has no
API to delete one, so her erasure a minute later cannot take that copy, and docs/privacy.md's table
"What profilesync holds about a person" lists no trace (its logs row: "no email, phone, name or
record id").

The functions run here as Lambda runs them with the parameter on: a fresh interpreter with Lambda's
environment (``LAMBDA_TASK_ROOT``, ``_X_AMZN_TRACE_ID`` of a sampled trace, ``AWS_XRAY_DAEMON_ADDRESS``),
the table and queues in moto, the privacy module imported with ``PROFILESYNC_TRACING=sdk``. What the
X-Ray SDK sends goes, as in Lambda, over UDP to the daemon's address: this test listens there and reads
every segment document it gets.

A second path sends her address itself: the Tracer patches httpx too (``patch_all``), and the X-Ray
SDK records each request's URL without its query but with its *path*. HubSpot's connector looks a
contact up by email in the path (``GET /crm/v3/objects/contacts/<email>?idProperty=email``,
connectors/hubspot/_connector.py ``_erase_one``), which her erasure does when profilesync holds no
record of hers (each tool is asked by the address the request named: docs/privacy.md). docs/privacy.md
says paths are logged "as routes (``/contacts/{id}``)"; the trace gets ``/contacts/<her address>``,
sent by the very request that erases her. Her contact is made at HubSpot's sandbox (served over HTTP)
through HubSpot's official SDK.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a fresh interpreter importing the functions, moto and the X-Ray SDK

ROOT = Path(__file__).resolve().parents[3]
HER = "wilhelmina.oyelaran@example.com"
TRACES = ("wilhelmina", "oyelaran", "7946 0613", "79460613")

# The run, in a fresh interpreter (Powertools' Tracer patches botocore and httpx for the whole process,
# which must not leak into other tests). Pull and merge are imported with tracing off, as their traces
# are not what is read here; the privacy module with it on, as the stack deploys it.
PROGRAM = """
import json, os, sys
import pytest
from moto import mock_aws
from profilesync.embedded import model_aws_semantics

model_aws_semantics()
with mock_aws():
    from tests.integration.functions.conftest import FakeContext, make_env
    patch = pytest.MonkeyPatch()
    env = make_env(patch, [
        {"id": 1, "email": sys.argv[1], "phone": "+44 20 7946 0613",
         "first_name": "Wilhelmina", "last_name": "Oyelaran"},
        {"id": 2, "email": "bob@example.com", "first_name": "Bob"},
    ])
    from functions import merge, pull
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    os.environ["PROFILESYNC_TRACING"] = "sdk"
    from functions import privacy
    exported = privacy.handler({"action": "export", "email": sys.argv[1]}, FakeContext())
    erased = privacy.handler(
        {"action": "erase", "email": sys.argv[1], "requested_by": "dpo"}, FakeContext(aws_request_id="req-2")
    )
    print(json.dumps({"exported": exported["ok"], "erased": erased["ok"], "outcome": erased.get("outcome")}))
"""


def _run_traced(daemon: socket.socket, program: str = PROGRAM) -> tuple[dict[str, object], list[str]]:
    host, port = daemon.getsockname()
    environment = {
        k: v for k, v in os.environ.items() if k not in ("POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL")
    }
    environment.update(
        {
            "PYTHONPATH": str(ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": "profilesync-test-privacy",
            "LAMBDA_TASK_ROOT": str(ROOT),
            "_X_AMZN_TRACE_ID": "Root=1-6571a2b3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PROFILESYNC_TRACING": "lambda",
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", program, HER],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sent: list[str] = []
    daemon.settimeout(0.5)
    while True:
        try:
            datagram, _ = daemon.recvfrom(65_536)
        except TimeoutError:
            break
        sent.append(datagram.decode("utf-8", "replace"))
    return json.loads(done.stdout.strip().splitlines()[-1]), sent


def test_a_traced_export_sends_none_of_her_values_to_xray() -> None:
    # GIVEN the X-Ray daemon's UDP address, and her record pulled and merged beside Bob's
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # about 64 documents, 42 KB
        daemon.bind(("127.0.0.1", 0))
        # WHEN the privacy function, deployed with DetailedTracing, exports her and then erases her
        answers, sent = _run_traced(daemon)
    assert answers == {"exported": True, "erased": True, "outcome": "erased"}
    # THEN the tracer did send the invocations' subsegments (the test reads the real wire) ...
    documents = [d.split("\n", 1)[1] for d in sent if "\n" in d]
    assert any('"## handler"' in d or "## " in d for d in documents), sent[:3]
    # ... and no segment document holds her address, name or phone
    leaked = [d[:300] for d in documents if any(t in d.lower() for t in TRACES)]
    assert leaked == []


# Her erasure by the privacy function, deployed with DetailedTracing, with HubSpot configured (its
# sandbox over HTTP, her contact made through HubSpot's official SDK) and nothing of hers held here.
HUBSPOT_PROGRAM = """
import json, os, sys
import hubspot
import pytest
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from moto import mock_aws
from connectors._sandbox.server import serve
from connectors.hubspot._sandbox import HubSpotSandbox
from profilesync.embedded import model_aws_semantics

model_aws_semantics()
with mock_aws(), serve(HubSpotSandbox(people=3)) as server:
    from functions import _wiring
    from functions._wiring import Settings, Wiring
    from tests.integration.functions.conftest import FakeContext, make_env
    env = make_env(pytest.MonkeyPatch(), [{"id": 2, "email": "bob@example.com", "first_name": "Bob"}])
    sdk = hubspot.Client.create(access_token=server.sandbox.token, host=server.url)
    sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": sys.argv[1], "firstname": "Wilhelmina", "lastname": "Oyelaran"}))
    os.environ["CONNECTORS"] = json.dumps({"hubspot": {"base_url": server.url}})
    os.environ["PROFILESYNC_HUBSPOT"] = json.dumps({"hubspot_token": server.sandbox.token})
    _wiring.use(Wiring(Settings.from_environment(), dynamodb=env.dynamodb, sqs=env.sqs,
                       lambda_client=env.lambda_client))
    os.environ["PROFILESYNC_TRACING"] = "sdk"
    from functions import privacy
    erased = privacy.handler({"action": "erase", "email": sys.argv[1], "requested_by": "dpo"}, FakeContext())
    print(json.dumps({"erased": erased["ok"], "tools": erased.get("tools")}))
"""


def test_a_traced_erasure_at_hubspot_by_her_address_sends_no_url_holding_it_to_xray() -> None:
    # GIVEN the X-Ray daemon's UDP address, her contact at HubSpot and none of her records here
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        daemon.bind(("127.0.0.1", 0))
        # WHEN the privacy function, deployed with DetailedTracing, erases her by her address
        answers, sent = _run_traced(daemon, HUBSPOT_PROGRAM)
    # THEN HubSpot was asked and erased her contact ...
    assert answers["erased"] is True, answers
    assert "hubspot" in json.dumps(answers["tools"]), answers
    # ... the tracer sent the invocation's subsegments (the test reads the real wire) ...
    documents = [d.split("\n", 1)[1] for d in sent if "\n" in d]
    assert any('"name": "## handler"' in d for d in documents), [d[:200] for d in documents][:5]
    # ... and no segment document holds her address (as written, or with its @ escaped in a path)
    leaked = [d[:400] for d in documents if HER in d.lower() or HER.replace("@", "%40") in d.lower()]
    assert leaked == []
