"""The Acme CRM connector: an example of a profilesync plugin living outside the profilesync tree.

Everything Acme-specific is here: the declaration (data), two small hooks for the writes, and the
sandbox. Install it next to profilesync (``pip install -e examples/acme_plugin``) and
``profilesync connectors list`` shows ``acme``, from the distribution ``profilesync-acme``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.sdk import (
    BearerAuth,
    ConsentMap,
    DeclaredSandbox,
    FieldMap,
    Incremental,
    PushMap,
    RestConnectorSpec,
    RestContext,
    Stream,
    TokenPaging,
    Window,
    declare_plugin,
)
from core.connector import Credential, EraseOutcome, Payload, PushOutcome
from core.schema import Identifier, Profile

PEOPLE = "/v1/people"
BATCH = "/v1/people/batch"
ERASE = "/v1/people/erase"


def shape(profile: Profile, email: str, properties: dict[str, str]) -> Mapping[str, Any]:
    """One person in a batch upsert: matched on email, enriched traits as custom properties."""
    return {"email": email, "properties": properties}


def send(context: RestContext, payloads: Sequence[Payload]) -> list[PushOutcome]:
    """Push one batch: a person the tool holds is updated by id (``remote_id``), never created again;
    anyone else is upserted on email. One outcome per payload, in order."""
    records = [{**p.body, "id": p.remote_id} if p.remote_id else dict(p.body) for p in payloads]
    body = context.client("push").post_json(BATCH, json={"records": records}, idempotent=True)
    results = (body or {}).get("results", [])
    if len(results) != len(payloads):
        missing = "no result for this record"
        return [PushOutcome(p.customer_id, ok=False, error=missing, retryable=True) for p in payloads]
    return [
        PushOutcome(p.customer_id, ok=True, remote_id=str(r.get("id")))
        if r.get("status") in ("created", "updated")
        else PushOutcome(p.customer_id, ok=False, error=f"the tool answered {r.get('status')!r}")
        for p, r in zip(payloads, results, strict=True)
    ]


def erase(context: RestContext, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
    """Erase the record of each id profilesync holds (``acme:person:<id>``), or everyone with an
    email; Acme says how many people it deleted. None deleted for an exact id confirms that Acme no
    longer has it (``absent``); an erasure counts anything else it cannot confirm as a failure."""
    out = []
    for identifier in identifiers:
        if identifier.kind == "source" and identifier.value.startswith("acme:person:"):
            body = {"id": identifier.value.rsplit(":", 1)[1]}
        elif identifier.kind == "email":
            body = {"email": identifier.value}
        else:
            out.append(EraseOutcome(identifier, found=False, detail="Acme erases by record id or email"))
            continue
        answer = context.client("erase").post_json(ERASE, json=body, idempotent=True)
        found = int((answer or {}).get("deleted", 0)) > 0
        out.append(EraseOutcome(identifier, found=found, absent=not found and "id" in body))
    return out


DECLARATION = RestConnectorSpec(
    name="acme",
    kind="crm",
    description="Acme CRM people: pulls contacts incrementally, pushes enriched traits, erases by id",
    base_url="https://api.acme.example",
    auth=BearerAuth(Credential("acme_token", "an Acme API token (Settings > API)")),
    streams=(
        Stream(
            name="people",
            path=PEOPLE,
            records_path="data",
            primary_key="id",
            object_type="person",
            paging=TokenPaging("next_cursor", "cursor"),
            page_size=100,
            page_size_param="limit",
            incremental=Incremental("updated_at", {"updated_since": "{since}"}, strict=False),
            fields=FieldMap(
                updated_at="updated_at",
                emails=("email",),
                phones=("phone",),
                traits={"first_name": "first_name", "last_name": "last_name", "country": "country"},
                consent=(
                    ConsentMap(
                        "email_marketing",
                        granted=frozenset({"subscribed"}),
                        denied=frozenset({"unsubscribed"}),
                    ),
                ),
            ),
        ),
    ),
    limits={"pull": (Window(50, 1.0),), "push": (Window(50, 1.0),), "erase": (Window(50, 1.0),)},
    push=PushMap(
        properties={"ps_customer_id": "customer_id", "ps_ltv": "lifetime_value", "ps_segment": "segment"},
        shape=shape,
        send=send,
        batch_size=100,
    ),
    erase=erase,
    rate_limit="50 requests per second per token (Acme API docs)",
)


class AcmeSandbox(DeclaredSandbox):
    """Acme's API is the SDK's simple protocol, so the sandbox only names its paths and credential."""

    name = "acme"
    credential = "acme_token"
    list_path = PEOPLE
    push_path = BATCH
    erase_path = ERASE
    object_type = "person"
    seed_source = "crm"


def make_sandbox(**options: Any) -> AcmeSandbox:
    """A seeded Acme sandbox (``people``, ``seed``, ``token``, ``faults``, ``requests_per_second``)."""
    return AcmeSandbox(**options)


PLUGIN = declare_plugin(DECLARATION, sandbox=make_sandbox)

__all__ = ["DECLARATION", "PLUGIN", "AcmeSandbox", "erase", "make_sandbox", "send", "shape"]
