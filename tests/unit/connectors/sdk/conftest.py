"""A small declared connector over the SDK's ``DeclaredSandbox``: what the SDK tests drive."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.sdk import (
    BearerAuth,
    DeclaredSandbox,
    FieldMap,
    Incremental,
    PushMap,
    RestConnectorSpec,
    RestContext,
    Stream,
    TokenPaging,
    declare_plugin,
)
from core.connector import Credential, EraseOutcome, Payload, PushOutcome
from core.schema import Identifier, Profile


def shape(profile: Profile, email: str, properties: dict[str, str]) -> Mapping[str, Any]:
    return {"email": email, "properties": properties}


def send(context: RestContext, payloads: Sequence[Payload]) -> list[PushOutcome]:
    records = [{**p.body, "id": p.remote_id} if p.remote_id else dict(p.body) for p in payloads]
    body = context.client("push").post_json("/v1/people/batch", json={"records": records}, idempotent=True)
    return [
        PushOutcome(p.customer_id, ok=r["status"] != "not_found", remote_id=r["id"])
        for p, r in zip(payloads, body["results"], strict=True)
    ]


def erase(context: RestContext, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
    """By record id (``tiny:person:<id>``: none deleted confirms it is gone) or by email."""
    out = []
    for i in identifiers:
        body = {"id": i.value.rsplit(":", 1)[1]} if i.kind == "source" else {"email": i.value}
        deleted = context.client("erase").post_json("/v1/people/erase", json=body)["deleted"] > 0
        out.append(EraseOutcome(i, found=deleted, absent=not deleted and i.kind == "source"))
    return out


def declaration(page_size: int = 100, path: str = "/v1/people") -> RestConnectorSpec:
    return RestConnectorSpec(
        name="tiny",
        kind="crm",
        description="a tiny declared connector",
        base_url="https://api.tiny.example",
        auth=BearerAuth(Credential("tiny_token", "a token")),
        streams=(
            Stream(
                name="people",
                path=path,
                records_path="data",
                primary_key="id",
                object_type="person",
                paging=TokenPaging("next_cursor", "cursor"),
                page_size=page_size,
                page_size_param="limit",
                incremental=Incremental("updated_at", {"updated_since": "{since}"}, strict=False),
                fields=FieldMap(
                    updated_at="updated_at",
                    emails=("email",),
                    phones=("phone",),
                    traits={"first_name": "first_name", "last_name": "last_name"},
                ),
            ),
        ),
        push=PushMap(properties={"ps_customer_id": "customer_id"}, shape=shape, send=send),
        erase=erase,
    )


class TinySandbox(DeclaredSandbox):
    name = "tiny"
    credential = "tiny_token"
    seed_source = "crm"


def make_sandbox(**options: Any) -> TinySandbox:
    return TinySandbox(**options)


PLUGIN = declare_plugin(declaration(), sandbox=make_sandbox)
SMALL_PAGES = declare_plugin(declaration(page_size=7), sandbox=make_sandbox)
