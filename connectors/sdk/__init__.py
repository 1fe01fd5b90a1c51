"""The connector SDK: declare a REST connector as data, get a ``Connector`` and its plugin.

A simple vendor is a declaration, two small hooks (push, erase) and a sandbox::

    from connectors.sdk import (ApiKeyAuth, FieldMap, Incremental, NextUrlPaging, RestConnectorSpec,
                                Stream, declare_plugin)

    DECLARATION = RestConnectorSpec(
        name="acme", kind="crm", description="Acme CRM people", base_url="https://api.acme.test",
        auth=BearerAuth(Credential("acme_token", "an Acme API token")),
        streams=(Stream(name="people", path="/v1/people", records_path="data", primary_key="id",
                        object_type="person", paging=TokenPaging("next_cursor", "cursor"),
                        page_size=100, page_size_param="limit",
                        incremental=Incremental("updated_at", {"updated_since": "{since}"}, strict=False),
                        fields=FieldMap(updated_at="updated_at", emails=("email",),
                                        traits={"first_name": "first_name"})),),
        push=PushMap(properties={"ps_customer_id": "customer_id"}, shape=..., send=...),
        erase=erase_people,
    )
    PLUGIN = declare_plugin(DECLARATION, sandbox=make_sandbox)

``RestConnector`` pulls incrementally with a cursor that keeps the watermark and the record versions
seen on it (ties across a page boundary are neither missed nor repeated; a record changed again on
the watermark second comes back), resumes from any page, and paces and retries through
``connectors._http``. See docs/connectors.md for the whole guide.
"""

import typing

from connectors.cursor_tags import version_tag
from core.connector import lazy_exports

from ._connector import RestConnector, RestContext, declare_plugin
from ._cursor import SEEN_LIMIT, PullCursor, StreamState, accept, format_point, parse_point
from ._declaration import (
    ApiKeyAuth,
    AuthStrategy,
    BasicAuth,
    BearerAuth,
    BodyShape,
    ClientCredentialsAuth,
    ConsentMap,
    EraseHook,
    FieldMap,
    Incremental,
    JwtBearerAuth,
    KeyPairAuth,
    NextUrlPaging,
    OffsetPaging,
    Operation,
    OrdersMap,
    OverlapOffsetPaging,
    OwnerLink,
    Paging,
    PushMap,
    PushSend,
    RestConnectorSpec,
    Stream,
    TokenPaging,
    Window,
)
from ._mapping import profile_to_payload, record_to_draft

if typing.TYPE_CHECKING:
    from ._sandbox import DeclaredSandbox

# The sandbox kit is imported when first used, never with the SDK: the Lambda bundle leaves it out.
_LAZY = frozenset({"DeclaredSandbox"})
__getattr__ = lazy_exports(__name__, "._sandbox", _LAZY)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "SEEN_LIMIT",
    "ApiKeyAuth",
    "AuthStrategy",
    "BasicAuth",
    "BearerAuth",
    "BodyShape",
    "ClientCredentialsAuth",
    "ConsentMap",
    "DeclaredSandbox",
    "EraseHook",
    "FieldMap",
    "Incremental",
    "JwtBearerAuth",
    "KeyPairAuth",
    "NextUrlPaging",
    "OffsetPaging",
    "Operation",
    "OrdersMap",
    "OverlapOffsetPaging",
    "OwnerLink",
    "Paging",
    "PullCursor",
    "PushMap",
    "PushSend",
    "RestConnector",
    "RestConnectorSpec",
    "RestContext",
    "Stream",
    "StreamState",
    "TokenPaging",
    "Window",
    "accept",
    "declare_plugin",
    "format_point",
    "parse_point",
    "profile_to_payload",
    "record_to_draft",
    "version_tag",
]
