"""Fixtures for the Mailchimp connector tests: a sandbox whose every exchange is checked against
Mailchimp's published OpenAPI spec, and connectors wired to it with retries that never sleep."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors._http import RetryPolicy
from connectors.mailchimp import MailchimpConnector, MailchimpSandbox, make_sandbox
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Profile, SourceRecord
from core.storage.memory import InMemoryProfileStore
from profilesync.testing.specs import OpenApiSpec

SPEC_FILE = "mailchimp-marketing-3.0.55.json.gz"


class SleepRecorder:
    """Stands in for ``time.sleep`` in retry policies: records each wait, never blocks."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


_TIMESTAMPS = ("timestamp_signup", "timestamp_opt", "campaign_last_sent", "last_sub_date", "last_unsub_date")


def as_published(body: Any) -> Any:
    """The body as Mailchimp's spec types it. The API answers ``""`` for a timestamp a member does
    not have (an imported member has no ``timestamp_signup``; only an opt-in has ``timestamp_opt``),
    or an audience that never had it (no campaign sent, nobody unsubscribed), which the spec declares
    ``date-time``: such empty values are checked as absent."""
    if isinstance(body, list):
        return [as_published(item) for item in body]
    if not isinstance(body, dict):
        return body
    return {k: as_published(v) for k, v in body.items() if not (k in _TIMESTAMPS and v == "")}


class SpecChecked:
    """A transport handler that validates every request body and every response against the spec.

    Bodies cut short on purpose (``Faults.truncate``) are not JSON and are not checked.
    """

    def __init__(self, sandbox: MailchimpSandbox) -> None:
        self.sandbox = sandbox
        self.spec = OpenApiSpec.load(SPEC_FILE)
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []
        self.checked = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.sandbox.handle(request)
        response.read()
        self.exchanges.append((request, response))
        try:
            body = json.loads(response.content or b"null")
        except ValueError:
            return response  # an injected truncated body
        if request.content:
            self.spec.validate_request(request.method, request.url.path, json.loads(request.content))
        if body is None:
            self.spec.validate_httpx(request, response, check_request=False)
        else:
            self.spec.validate_response(
                request.method, request.url.path, response.status_code, as_published(body)
            )
        self.checked += 1
        return response

    def requests(self, method: str, suffix: str) -> list[httpx.Request]:
        return [r for r, _ in self.exchanges if r.method == method and r.url.path.endswith(suffix)]


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def sandbox() -> MailchimpSandbox:
    return make_sandbox(people=120, seed=7)


@pytest.fixture
def checked(sandbox: MailchimpSandbox) -> SpecChecked:
    return SpecChecked(sandbox)


def connect(
    sandbox: MailchimpSandbox, handler: Any = None, sleeps: SleepRecorder | None = None, **overrides: Any
) -> MailchimpConnector:
    """A connector on ``sandbox`` (through ``handler`` when given), whose retries record their waits."""
    retry = RetryPolicy(max_attempts=8, backoff_floor=0.01, backoff_cap=0.05, sleep=sleeps or SleepRecorder())
    transport = httpx.MockTransport(handler) if handler is not None else sandbox.transport()
    settings = dataclasses.replace(sandbox.settings(), transport=transport, retry=retry, **overrides)
    return MailchimpConnector(settings)


@pytest.fixture
def connector(
    sandbox: MailchimpSandbox, checked: SpecChecked, sleeps: SleepRecorder
) -> Iterator[MailchimpConnector]:
    with connect(sandbox, checked, sleeps) as built:
        yield built


def synced_profiles(connector: MailchimpConnector) -> tuple[list[Profile], InMemoryProfileStore]:
    """Profiles built from everything the connector pulls (as a sync would)."""
    store = InMemoryProfileStore()
    drafts = [d for page in connector.pull(None) for d in connector.to_records(page)]
    records = [o for o in (normalise_record(d) for d in drafts) if isinstance(o, SourceRecord)]
    ingest(records, store, IngestSettings(sleep=lambda _: None))
    return list(store.iter_profiles()), store
