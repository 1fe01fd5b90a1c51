"""The HubSpot connector's API: its base URL, credential, paths and limits, and the clients the pull
and push halves share.
"""

from __future__ import annotations

from typing import Final

from connectors._http import ConnectorHttpClient

DEFAULT_BASE_URL: Final = "https://api.hubapi.com"
CREDENTIAL: Final = "hubspot_token"

CONTACTS_PATH: Final = "/crm/v3/objects/contacts"
SEARCH_PATH: Final = "/crm/v3/objects/contacts/search"
UPSERT_PATH: Final = "/crm/v3/objects/contacts/batch/upsert"
UPDATE_PATH: Final = "/crm/v3/objects/contacts/batch/update"
GDPR_DELETE_PATH: Final = "/crm/v3/objects/contacts/gdpr-delete"
PROPERTIES_PATH: Final = "/crm/v3/properties/contacts"
GROUPS_PATH: Final = "/crm/v3/properties/contacts/groups"

LIST_PAGE_SIZE: Final = 100
#: How far before the newest archive time seen the next run looks again for archived contacts: a
#: contact archived while the list was walked, at an id the walk had passed, is found next time.
ARCHIVE_MARGIN_MS: Final = 15 * 60 * 1000
SEARCH_PAGE_SIZE: Final = 200
#: Search answers at most this many results of one query, paged by ``after`` (an offset): asking past
#: it is a 400 (https://developers.hubspot.com/docs/guides/api/crm/search, "Limitations").
SEARCH_RESULT_CAP: Final = 10_000
BATCH_SIZE: Final = 100


class HubSpotClient:
    """The two HTTP clients of ``HubSpotConnector`` (connectors.hubspot._connector), which sets them:
    ``_api`` paced at the private app's 10-second limit, ``_search`` at the search limit. The base of
    the pull (``_pull``) and push (``_push``) halves mixed into it."""

    _api: ConnectorHttpClient
    _search: ConnectorHttpClient
