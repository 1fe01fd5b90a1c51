"""The contract's tests of a vendor that misbehaves: junk elements in a page, throttling, server errors,
timeouts and truncated bodies, a wrong credential, and records that do not normalise.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest

from connectors._http import ConnectorAuthError
from core.connector import Connector
from core.normalise import normalise_record
from core.schema import Quarantined, SourceRecord
from profilesync.testing.contract_harness import _FLOOR, T_CHANGES, ContractHarness, SleepRecorder, _key


class FaultContract(ContractHarness):
    """Faults and bad input; see profilesync.testing.contract."""

    def test_junk_elements_in_a_page_are_quarantined_and_the_rest_of_the_page_is_mapped(
        self, sandbox: Any, sleeps: SleepRecorder
    ) -> None:
        # GIVEN a vendor whose record lists hold junk: in every answer, the records of one id bucket
        # in five are replaced by a string, a null, a number or a list (a non-object in Stripe's
        # data list used to fail its page on every run, forever)
        sandbox.add_records(self.page_size(sandbox) + 1, at=T_CHANGES)
        junk = JunkInjector(sandbox.settings().transport)
        connector = self.connect(sandbox, sleeps, transport=junk)
        try:
            # WHEN the connector pulls everything and maps every page
            pages = self.pull_pages(connector, None)
        finally:
            connector.close()
        # THEN every page maps to one draft per element, and every junk element is quarantined
        drafts = [d for page, ds in pages for d in ds]
        assert all(len(ds) == len(page.records) for page, ds in pages)
        outcomes = [normalise_record(d) for d in drafts]
        bad = [o for o in outcomes if isinstance(o, Quarantined) and "not an object" in o.reason]
        handed = sum(1 for page, _ in pages for record in page.records if not isinstance(record, dict))
        if not handed:
            pytest.skip("no junk reached a page: the records came another way (a CSV export?)")
        assert len(bad) == handed
        assert all(q.source == self.plugin.spec.name for q in bad)
        # AND every record arrived that was not itself replaced by junk in every answer holding it
        got = {_key(d) for d in drafts if not d.problem}
        missing = {k for k in sandbox.record_keys() - got if k.rsplit(":", 1)[-1] not in junk.replaced}
        assert missing == set()

    @pytest.mark.parametrize("retry_after", ["0", None, "1"])
    def test_throttling_server_errors_timeouts_and_truncated_bodies_are_retried_to_completion(
        self, sandbox: Any, sleeps: SleepRecorder, retry_after: str | None
    ) -> None:
        # GIVEN a sandbox that throttles, fails, times out and cuts bodies short on a share of requests
        # (half of all requests fail, over at least five pages, so every run meets several faults)
        sandbox.add_records(4 * self.page_size(sandbox), at=T_CHANGES)
        sandbox.faults = dataclasses.replace(
            sandbox.faults,
            throttle=0.25,
            server_error=0.12,
            timeout=0.06,
            truncate=0.07,
            retry_after=retry_after,
            seed=11,
        )
        connector = self.connect(sandbox, sleeps)
        try:
            # WHEN the connector pulls everything
            drafts, _ = self.pull_drafts(connector, None)
        finally:
            connector.close()
        # THEN the pull completes with every record once
        keys = [_key(d) for d in drafts]
        assert sorted(keys) == sorted(sandbox.record_keys())
        assert sandbox.stats.throttled > 0
        # AND every retry waited (no tight loop), honouring a positive Retry-After
        assert sleeps.waits, "faults were injected but the client never waited"
        assert min(sleeps.waits) >= _FLOOR
        if retry_after == "1":
            assert max(sleeps.waits) >= 1.0

    def test_a_wrong_credential_fails_fast_with_a_clear_error(self, sandbox: Any) -> None:
        # GIVEN a connector whose credentials are not the sandbox's
        good = sandbox.settings()
        wrong = {name: _wrong(value) for name, value in good.credentials.items()}
        connector = self.connect(sandbox, credentials=wrong)
        before = sandbox.stats.requests
        # WHEN it pulls
        with pytest.raises(ConnectorAuthError) as caught:
            for _ in connector.pull(None):
                pass
        connector.close()
        # THEN it stops at once, naming the setting to fix and never the secret itself
        assert sandbox.stats.requests - before <= 2
        message = str(caught.value)
        assert any(f"PROFILESYNC_{c.name.upper()}" in message for c in self.plugin.spec.credentials)
        for value in [*wrong.values(), *good.credentials.values()]:
            assert value not in message

    def test_every_pulled_record_normalises_or_is_quarantined_with_a_reason(
        self, connector: Connector
    ) -> None:
        # GIVEN everything the sandbox holds, realistic mess included
        drafts, _ = self.pull_drafts(connector, None)
        # WHEN each draft is normalised
        outcomes = [normalise_record(d) for d in drafts]
        # THEN each is a record or quarantined with a reason, and most people make it through
        quarantined = [o for o in outcomes if isinstance(o, Quarantined)]
        assert all(isinstance(o, SourceRecord | Quarantined) for o in outcomes)
        assert all(q.reason.strip() for q in quarantined)
        assert all(q.source == self.plugin.spec.name for q in quarantined)
        assert len(quarantined) <= 0.1 * len(outcomes)


class JunkInjector:
    """An httpx transport that wraps a sandbox's: in every JSON answer, the objects of its largest
    list of objects (the page's records) whose id falls in one bucket of five are replaced by junk,
    and their ids noted in ``replaced`` (the tail of a GID, as record keys hold it). The choice is
    by id, so a record is junk in every answer that holds it, as a vendor's broken record would be;
    replacing keeps the vendor's offsets and counts true, so offset paging reads on as it would."""

    JUNK: ClassVar[tuple[Any, ...]] = ("junk", None, 42, ["a", "b"])
    #: The fields a record key may be made of, noted for a replaced element (Mailchimp keys a
    #: member by its ``contact_id``; the bucket is chosen by ``id``).
    ID_FIELDS: ClassVar[tuple[str, ...]] = ("id", "Id", "contact_id")

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.replaced: set[str] = set()
        self._count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.inner.handle_request(request)
        if "json" not in response.headers.get("content-type", ""):
            return response
        response.read()
        try:
            body = json.loads(response.content)
        except ValueError:
            return response
        target = max(_object_lists(body), key=len, default=None)
        if target is None or len(target) < 2:
            return response  # (a probe of one record is left alone)
        for index, element in enumerate(target):
            key = str(element.get("id", element.get("Id", ""))).rsplit("/", 1)[-1]
            if key and zlib.crc32(key.encode()) % 5 == 0:
                self.replaced |= {
                    str(element[f]).rsplit("/", 1)[-1] for f in self.ID_FIELDS if element.get(f)
                }
                target[index] = self.JUNK[self._count % len(self.JUNK)]
                self._count += 1
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding")
        }
        return httpx.Response(response.status_code, headers=headers, json=body, request=request)

    def close(self) -> None:
        self.inner.close()


def _object_lists(value: Any) -> Iterator[list[dict[str, Any]]]:
    """Every list of objects in a JSON value."""
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            yield value
        for v in value:
            yield from _object_lists(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _object_lists(v)


def _wrong(value: str) -> str:
    # Keep the shape (a Mailchimp key keeps its -dc suffix) so only the secret part is wrong.
    head, sep, tail = value.rpartition("-")
    if sep and 2 <= len(tail) <= 5:
        return f"wrong{head[::-1][:8]}{sep}{tail}"
    return f"wrong-{value[::-1][:12]}"
