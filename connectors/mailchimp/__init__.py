"""The Mailchimp connector (Marketing API 3.0, one audience): members in, merge fields out.

    settings = ConnectorSettings(
        credentials={"mailchimp_api_key": "0123...-us21"},   # env PROFILESYNC_MAILCHIMP_API_KEY
        options={"list_id": "a1b2c3d4e5"},
    )
    with build(settings) as mailchimp:
        for page in mailchimp.pull(None):
            drafts = mailchimp.to_records(page)

The data center comes from the key's suffix; ``ConnectorSettings.base_url`` overrides the host (a
served sandbox). ``make_sandbox()`` is the in-memory fake the tests and the demo run against.
"""

from typing import TYPE_CHECKING

from core.connector import ConnectorPlugin, lazy_exports, lazy_factory

from ._connector import BATCH_SIZE, CREDENTIAL, PAGE_SIZE, SPEC, MailchimpConnector, build, data_center
from ._cursor import WalkState
from ._mapping import (
    MERGE_FIELDS,
    STATUS_TRAIT,
    member_to_draft,
    plan_status,
    profile_to_payload,
    subscriber_hash,
)

if TYPE_CHECKING:
    from ._sandbox import DEFAULT_LIST_ID, DEFAULT_TOKEN, MailchimpSandbox, make_sandbox

# The sandbox is imported when first used, never with the connector: the Lambda bundle leaves it out.
__getattr__ = lazy_exports(
    __name__, "._sandbox", frozenset({"DEFAULT_LIST_ID", "DEFAULT_TOKEN", "MailchimpSandbox", "make_sandbox"})
)

PLUGIN = ConnectorPlugin(spec=SPEC, build=build, sandbox=lazy_factory(f"{__name__}._sandbox", "make_sandbox"))

__all__ = [
    "BATCH_SIZE",
    "CREDENTIAL",
    "DEFAULT_LIST_ID",
    "DEFAULT_TOKEN",
    "MERGE_FIELDS",
    "PAGE_SIZE",
    "PLUGIN",
    "SPEC",
    "STATUS_TRAIT",
    "MailchimpConnector",
    "MailchimpSandbox",
    "WalkState",
    "build",
    "data_center",
    "make_sandbox",
    "member_to_draft",
    "plan_status",
    "profile_to_payload",
    "subscriber_hash",
]
