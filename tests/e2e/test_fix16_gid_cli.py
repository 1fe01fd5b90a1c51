"""``profilesync privacy export --source`` naming a Shopify customer by its GID
(``shopify:customer:gid://shopify/Customer/<id>``, as Shopify's Admin GraphQL API and its compliance
webhooks' ``admin_graphql_api_id`` write it) answers her customer, as her numeric id does: the CLI
hands ``export_person`` the Shopify connector's ``ConnectorSpec.stored_id``."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from connectors._sandbox import SandboxServer
from connectors.shopify import make_sandbox
from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import local_environment, synced

pytestmark = pytest.mark.slow


def _answer(argv: list[str]) -> dict[str, object]:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        main(argv)
    printed = out.getvalue()
    answer: dict[str, object] = json.loads(printed[printed.index("{") :])
    return answer


def test_export_by_a_customers_gid_answers_her(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a Shopify shop (its sandbox, served) synced into the local store
    local_environment(tmp_path, monkeypatch)
    sandbox = make_sandbox(people=6, seed=3)
    monkeypatch.setenv("PROFILESYNC_SHOPIFY_ACCESS_TOKEN", sandbox.token)
    monkeypatch.setenv("PROFILESYNC_SHOPIFY_SHOP", sandbox.shop)
    server = SandboxServer(sandbox, "127.0.0.1", 0).start()
    try:
        state = tmp_path / "state"
        synced("shopify", server.url, state)
    finally:
        server.stop()
    number = sorted(sandbox.customers)[0]
    # WHEN she is exported by her numeric id and by her GID
    at = ["--state-dir", str(state)]
    by_id = _answer(["privacy", "export", "--source", f"shopify:customer:{number}", *at])
    by_gid = _answer(
        ["privacy", "export", "--source", f"shopify:customer:gid://shopify/Customer/{number}", *at]
    )
    # THEN both find her, and answer the same customer
    assert by_id["found"] is True, by_id
    assert by_gid["found"] is True, by_gid
    assert by_gid["customer_id"] == by_id["customer_id"]
