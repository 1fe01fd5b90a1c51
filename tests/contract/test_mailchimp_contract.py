"""The shared connector contract, run against the Mailchimp connector and its sandbox. It asks for
pages of 100 members (the connector's ``page_size`` option): at the default 1,000 a case that crosses
page edges filled the sandbox with over 2,000 members, and every page edge the contract checks is
the same code at either size (connectors/mailchimp/_pull.py's ``count``, _cursor.py's end of walk)."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.mailchimp import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
    sandbox_options: ClassVar[dict[str, Any]] = {"page_size": 100}
