"""What bench.cold_start's fresh interpreters run: the environment and configuration Lambda and
template.yaml give a function, the events each handler's first invocation gets, and that first use
itself per handler (``FIRST_USE``; the bench's docstring says what each does).
"""

from __future__ import annotations

import json

REGION = "us-east-1"
TABLE = "profilesync-bench-profiles"
SECRETS_PREFIX = "profilesync/bench/"

#: The configuration document the functions read, as ``sam build`` bundles it (YAML).
CONFIG_DOCUMENT = """\
version: 1
defaults:
  schedule: rate(15 minutes)
connectors:
  hubspot: {}
  shopify-eu:
    vendor: shopify
    options: {shop: acme-eu}
    schedule: "cron(0 * * * ? *)"
    push: false
"""
#: Each instance's credentials, and the audit salt, as the stack keeps them in Secrets Manager.
SECRETS = {
    "hubspot": json.dumps({"hubspot_token": "pat-na1-bench"}),
    "shopify-eu": json.dumps({"shopify_access_token": "shpat_bench"}),
    "audit-salt": "bench-audit-salt-0123456789abcdef",
}

ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "profilesync-bench",
    "TABLE_NAME": TABLE,
    "PROFILESYNC_SECRETS_PREFIX": SECRETS_PREFIX,
    "POWERTOOLS_SERVICE_NAME": "profilesync",
    "POWERTOOLS_METRICS_NAMESPACE": "ProfileSync",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "PROFILESYNC_TRACING": "lambda",
    # moto 5 answers DynamoDB Streams and a few others with 404 in the account-id endpoint mode.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}

CONTEXT = """
class Context:
    function_name = "profilesync-bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:profilesync-bench"
    aws_request_id = "bench-request"
    def get_remaining_time_in_millis(self):
        return 600_000
"""
RECORD = {
    "source": "hubspot",
    "object_type": "contact",
    "source_id": "1001",
    "updated_at": "2024-05-01T10:00:00+00:00",
    "identifiers": [
        {"kind": "email", "value": "ann.lee@example.com"},
        {"kind": "phone", "value": "+14155552671"},
        {"kind": "source", "value": "hubspot:contact:1001"},
    ],
    "traits": {"first_name": "Ann", "last_name": "Lee", "country": "US", "city": "San Francisco"},
}
INGEST_EVENT = {
    "Records": [
        {
            "messageId": "bench-message-1",
            "receiptHandle": "bench",
            "body": json.dumps({"v": 1, "connector": "hubspot", "run_id": "bench", "records": [RECORD]}),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1714557600000"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:profilesync-bench-ingest",
            "awsRegion": REGION,
        }
    ]
}
STREAM_RECORD = {
    "eventID": "1",
    "eventName": "MODIFY",
    "eventSource": "aws:dynamodb",
    "awsRegion": REGION,
    "dynamodb": {
        "Keys": {"PK": {"S": "CUSTOMER#c-bench"}, "SK": {"S": "PROFILE"}},
        "SequenceNumber": "100",
        "SizeBytes": 60,
        "StreamViewType": "KEYS_ONLY",
    },
}
#: GET /profiles?email= as API Gateway's HTTP API (payload 2.0) hands it to the profile function,
#: signed by a role of the sample role policy (support).
PROFILE_REQUEST = {
    "version": "2.0",
    "routeKey": "GET /profiles",
    "rawPath": "/profiles",
    "rawQueryString": "email=Ann.Lee%40Example.com",
    "headers": {"accept": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com"},
    "queryStringParameters": {"email": "Ann.Lee@Example.com"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc123",
        "authorizer": {
            "iam": {
                "accessKey": "ASIAEXAMPLE",
                "accountId": "123456789012",
                "callerId": "AROAEXAMPLEROLEID:ann",
                "userArn": "arn:aws:sts::123456789012:assumed-role/profilesync-support/ann",
                "userId": "AROAEXAMPLEROLEID:ann",
            }
        },
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "http": {"method": "GET", "path": "/profiles", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10"},
        "requestId": "bench-request",
        "routeKey": "GET /profiles",
        "stage": "$default",
        "timeEpoch": 1767607200000,
    },
    "isBase64Encoded": False,
}

#: What the first invocation of each handler does (see the module docstring), after ``w = wiring()``.
FIRST_USE = {
    "dispatch": """
from functions.dispatch import DispatchEvent
from core.storage.dynamodb_schedule import DynamoDBScheduleStore
DispatchEvent.model_validate({"action": "dispatch", "scheduled_time": "2024-05-01T10:00:00Z"})
config = w.settings.document
store = DynamoDBScheduleStore(w.client("dynamodb"), w.settings.table_name)
store.alarms_hash()
for instance in config.scheduled():
    config.schedule(instance).latest_slot(datetime.now(UTC))
w.sync_state.get_sync_state("hubspot")
w.client("lambda")
""",
    "pull": """
from functions.events import PullEvent
from core.normalise import normalise_record
from core.schema import RecordDraft
PullEvent.model_validate({"connector": "hubspot"})
w.leases.current("hubspot")
w.sync_state.get_sync_state("hubspot")
connector = w.connector("hubspot")
w.client("sqs").get_queue_url(QueueName="profilesync-bench-ingest")
record = normalise_record(RecordDraft(
    source="hubspot", source_id="1001", updated_at="2024-05-01T10:00:00.000Z",
    emails=["Ann.Lee@Example.com"], phones=["(415) 555-2671"],
    traits={"first_name": " ann ", "last_name": "LEE", "country": "United States", "city": "San Francisco"},
))
record.model_dump_json()
""",
    "merge": f"""
{CONTEXT}
from functions.merge import handler
handler({INGEST_EVENT!r}, Context())
""",
    "push": f"""
from functions.push import changed_customers
from core.sync import changed_profiles
customers = changed_customers([{STREAM_RECORD!r}])
changed_profiles(w.profiles, customers)
for name in w.destinations():
    w.connector(name)
w.sync_state.get_sync_state("hubspot")
""",
    "privacy": f"""
{CONTEXT}
from functions.privacy import handler
handler({{"action": "export", "email": "ann.lee@example.com", "request_id": "bench-1"}}, Context())
""",
    "profiles": f"""
{CONTEXT}
from functions.profiles import handler
answer = handler({PROFILE_REQUEST!r}, Context())
assert answer["statusCode"] == 200, answer  # the person merge's first use ingested
""",
}


def probe_first_use(name: str) -> str:
    return "\n".join(
        [
            "from datetime import UTC, datetime",
            "from functions._wiring import wiring",
            "w = wiring()",
            FIRST_USE[name],
        ]
    )
