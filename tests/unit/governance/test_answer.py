"""answer_read: routes need their grant, nobody is 404, pages chain with opaque tokens, and no answer
leaves without its read recorded."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from core.governance.answer import Caller, ReadRequest, Sources, answer_read
from core.governance.errors import AccessDeniedError, BadLookupError
from core.governance.history import HistoryEvent, event_id_for
from core.governance.policy import sample_policy
from core.governance.reading import ReadRecord, StoreProfileReader, lookup_by_id, lookup_from_query
from core.identity import customer_id_for
from core.pipeline import IngestSettings, ingest
from core.storage.memory import InMemoryProfileStore
from core.storage.memory_history import InMemoryHistoryStore
from core.storage.memory_reads import InMemoryReadAudit
from core.testing.records import make_record

NOW = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = sample_policy()
ANN = customer_id_for("tool0:contact:1")


def caller(role: str) -> Caller:
    grant = POLICY.role(role)
    assert grant is not None
    return Caller(f"local:{role}", role, grant)


@pytest.fixture
def sources() -> Sources:
    store = InMemoryProfileStore()
    # Ann is in five tools; the first founded her customer.
    ingest(
        [make_record(f"tool{i}", "1", email="ann@example.com") for i in range(5)],
        store,
        IngestSettings(sleep=lambda _: None),
    )
    history = InMemoryHistoryStore()
    history.append_history(
        [
            HistoryEvent(
                customer_id=ANN,
                event_id=event_id_for(ANN, "source_arrived", NOW, str(i)),
                at=NOW - timedelta(hours=i),
                kind="source_arrived",
                actor="run:crm:r1",
                reason="record arrived",
            )
            for i in range(5)
        ]
    )
    return Sources(StoreProfileReader(store), history, InMemoryReadAudit())


def read(
    sources: Sources, route: str, role: str = "admin", *, at: datetime = NOW, **kwargs: object
) -> dict[str, object]:
    request = ReadRequest(route, kwargs.pop("lookup", lookup_by_id(ANN)), **kwargs)  # type: ignore[arg-type]
    return answer_read(request, caller(role), sources, request_id=f"r-{at:%H%M%S}", now=at).document


@pytest.mark.parametrize(
    ("route", "role"), [("history", "marketing"), ("explain", "support"), ("reads", "analyst")]
)
def test_a_route_needs_its_own_grant(sources: Sources, route: str, role: str) -> None:
    with pytest.raises(AccessDeniedError, match=f"role '{role}' may not read {route}"):
        read(sources, route, role)
    assert sources.audit.reads_of(ANN, since=NOW - timedelta(days=1)) == []


def test_nobody_is_a_404_and_is_not_recorded(sources: Sources) -> None:
    outcome = answer_read(
        ReadRequest("profile", lookup_from_query({"email": "eve@example.com"})),
        caller("support"),
        sources,
        request_id="r",
        now=NOW,
    )
    assert outcome.status == 404
    assert "eve" not in json.dumps(outcome.document)


def test_sources_page_with_opaque_tokens_that_name_no_source_id(sources: Sources) -> None:
    seen: list[str] = []
    page: str | None = None
    while True:
        doc = read(sources, "profile", "support", limit=2, page=page)
        seen += [str(s["source_id"]) for s in doc["sources"]]  # type: ignore[attr-defined, index]
        page = doc.get("next")  # type: ignore[assignment]
        if page is None:
            break
        assert "tool" not in base64.urlsafe_b64decode(page + "==").decode()
    assert seen == ["1"] * 5
    assert len(sources.audit.reads_of(ANN, since=NOW - timedelta(days=1))) == 3


def test_history_pages_chain_and_a_token_from_another_list_is_refused(sources: Sources) -> None:
    first = read(sources, "history", limit=3)["history"]
    assert len(first["events"]) == 3  # type: ignore[index]
    rest = read(sources, "history", limit=3, page=first["next"])["history"]  # type: ignore[index]
    assert len(rest["events"]) == 2  # type: ignore[index]
    assert rest["next"] is None  # type: ignore[index]
    sources_token = read(sources, "profile", limit=1)["next"]
    for bad in (sources_token, "not-a-token", base64.urlsafe_b64encode(b'{"k":"history","v":7}').decode()):
        with pytest.raises(BadLookupError, match="not a page token"):
            read(sources, "history", page=bad)


def test_explain_reads_every_source_record(sources: Sources) -> None:
    explained = read(sources, "explain")["explain"]
    assert len(explained["records"]) == 5  # type: ignore[index]
    assert explained["connected"] is True  # type: ignore[index]
    assert explained["joins"][0]["records"] == ["r1", "r2", "r3", "r4", "r5"]  # type: ignore[index]


def test_the_read_audit_answers_who_looked_at_this_person(sources: Sources) -> None:
    read(sources, "profile", "support", at=NOW + timedelta(minutes=1))
    read(sources, "profile", "marketing", at=NOW + timedelta(minutes=2))
    reads = read(sources, "reads", at=NOW + timedelta(minutes=3))["reads"]
    assert [r["role"] for r in reads] == ["marketing", "support"]  # type: ignore[index]


class BrokenAudit(InMemoryReadAudit):
    def record_read(self, record: ReadRecord) -> None:
        raise RuntimeError("the audit table is not writable")


def test_no_answer_leaves_when_its_read_cannot_be_recorded(sources: Sources) -> None:
    broken = Sources(sources.reader, sources.history, BrokenAudit())
    with pytest.raises(RuntimeError, match="not writable"):
        answer_read(
            ReadRequest("profile", lookup_by_id(ANN)), caller("support"), broken, request_id="r", now=NOW
        )
