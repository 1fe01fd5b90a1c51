"""simple-salesforce, the standard Python client, against the sandbox: login with the client credentials
flow, query, query_all (include_deleted), get, upsert by external id, and a Bulk API 2.0 query.

simple-salesforce builds ``https://`` URLs from the instance name, so a requests transport adapter hands
its requests to the sandbox in-process: every line of the client's own code runs as against an org.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import BaseAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce import SalesforceSandbox

DOMAIN = "acme.my"


class SandboxAdapter(BaseAdapter):
    """A requests adapter answering from a sandbox (no network)."""

    def __init__(self, sandbox: SalesforceSandbox) -> None:
        super().__init__()
        self.sandbox = sandbox

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        answer = self.sandbox.handle(
            httpx.Request(
                request.method or "GET", request.url or "", headers=dict(request.headers), content=body
            )
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(answer.headers)
        response._content = answer.read()
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None


@pytest.fixture
def org() -> SalesforceSandbox:
    return SalesforceSandbox(people=60, seed=7)


@pytest.fixture
def sf(org: SalesforceSandbox) -> Salesforce:
    session = requests.Session()
    session.mount("https://", SandboxAdapter(org))
    # The client credentials flow, as simple-salesforce runs it (consumer key and secret, My Domain).
    return Salesforce(consumer_key=org.client_id, consumer_secret=org.token, domain=DOMAIN, session=session)


def test_the_client_credentials_login_gives_a_working_session(sf: Salesforce, org: SalesforceSandbox) -> None:
    assert sf.session_id in org.sessions
    assert sf.sf_instance == f"{DOMAIN}.salesforce.com"


def test_query_and_query_all_walk_every_batch(sf: Salesforce, org: SalesforceSandbox) -> None:
    org.add_records(2500)
    first = sf.query("SELECT Id, Email FROM Contact ORDER BY Id")
    assert first["done"] is False
    assert len(first["records"]) == 2000
    assert "nextRecordsUrl" in first
    everything = sf.query_all("SELECT Id, Email, LastName FROM Contact")
    live = [r for r in org.objects["Contact"].values() if not r["IsDeleted"]]
    assert everything["totalSize"] == len(live) == len(everything["records"])
    # include_deleted goes through queryAll and sees the Recycle Bin
    gone = live[0]["Id"]
    org.delete("Contact", gone)
    assert gone not in {r["Id"] for r in sf.query_all("SELECT Id FROM Contact")["records"]}
    with_deleted = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)["records"]
    assert {r["Id"]: r["IsDeleted"] for r in with_deleted}[gone] is True


def test_a_malformed_query_is_refused_as_salesforce_words_it(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Contact WHERE Email = 'a' OR Email = 'b'")
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.query("SELECT Id, Nickname FROM Contact")
    assert unknown.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_get_and_upsert_by_external_id(sf: Salesforce, org: SalesforceSandbox) -> None:
    # GIVEN the external-id field (created by the connector's first push, here through the Tooling API)
    created = sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Contact.ProfileSync_Customer_Id__c",
            "Metadata": {"label": "Id", "type": "Text", "length": 64, "externalId": True},
        },
    )
    assert created["success"] is True
    # WHEN a contact is upserted by it twice
    status = sf.Contact.upsert(
        "ProfileSync_Customer_Id__c/cus_1", {"LastName": "Lee", "Email": "ann@example.com"}
    )
    again = sf.Contact.upsert("ProfileSync_Customer_Id__c/cus_1", {"Title": "CFO"})
    # THEN it was created, then updated, and reads back
    assert (status, again) == (201, 200)
    (record,) = sf.query("SELECT Id, Title FROM Contact WHERE ProfileSync_Customer_Id__c = 'cus_1'")[
        "records"
    ]
    fetched = sf.Contact.get(record["Id"])
    assert fetched["Title"] == "CFO"
    assert fetched["Email"] == "ann@example.com"


def test_a_bulk2_query_returns_every_record_in_csv_sets(
    sf: Salesforce, org: SalesforceSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simple_salesforce.bulk2

    monkeypatch.setattr(simple_salesforce.bulk2, "sleep", lambda _: None)  # its job polling waits 0.5 s+
    org.add_records(300)
    results = list(sf.bulk2.Contact.query("SELECT Id, Email FROM Contact", max_records=120))
    rows = [line for chunk in results for line in chunk.splitlines()[1:] if line]
    live = {r["Id"] for r in org.objects["Contact"].values() if not r["IsDeleted"]}
    assert {json.loads(f"[{row}]")[0] for row in rows} == live
    assert len(results) == -(-len(live) // 120)
