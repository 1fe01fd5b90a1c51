"""The shared connector contract, run against the HubSpot connector and its sandbox."""

from __future__ import annotations

from typing import ClassVar

from connectors.hubspot import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
    # A full pull pages by 100 (the list endpoint), an incremental one by 200 (search): the tie has to
    # outnumber a search page to cross a page boundary where it matters.
    tie_count: ClassVar[int | None] = 205
