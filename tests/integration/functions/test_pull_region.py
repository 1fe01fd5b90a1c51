"""functions.pull reads national phone numbers in the instance's configured region (issue 11, item 5)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.config import ConnectorInstance, Defaults, ProfileSyncConfig
from functions import pull
from functions.events import IngestMessage
from tests.integration.functions.conftest import FakeContext, make_env

LONDON = "020 7946 0018"


@pytest.mark.parametrize(
    ("config", "queued_phone"),
    [
        (ProfileSyncConfig(connectors={"fake": ConnectorInstance(region="GB")}), "+442079460018"),
        (
            ProfileSyncConfig(defaults=Defaults(region="GB"), connectors={"fake": ConnectorInstance()}),
            "+442079460018",
        ),
        (ProfileSyncConfig(connectors={"fake": ConnectorInstance()}), None),
    ],
    ids=["instance-gb", "defaults-gb", "default-us"],
)
def test_the_pull_function_reads_a_national_number_in_the_instance_region(
    aws: None, monkeypatch: pytest.MonkeyPatch, config: ProfileSyncConfig, queued_phone: str | None
) -> None:
    # GIVEN a tool holding a customer with only a national London number, and one in the US written
    # nationally with her country named
    rows = [
        {"id": 1, "phone": LONDON},
        {"id": 2, "phone": "(201) 555-0123", "country": "US"},
        {"id": 3, "phone": "0", "email": "x"},  # nothing usable: quarantined in every region
    ]
    env = make_env(monkeypatch, rows, page_size=3)
    env.wiring.settings = replace(env.wiring.settings, config=config, connectors=config.connectors)
    # WHEN the schedule invokes pull
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    # THEN the London number is queued as +44 when the instance (or the defaults) reads GB, and
    # its record is quarantined when it reads US; the American's own country decides hers
    messages = [IngestMessage.model_validate_json(m["Body"]) for m in env.receive()]
    phones = {
        r.source_id: [i.value for i in r.identifiers if i.kind == "phone"]
        for m in messages
        for r in m.records
    }
    assert phones.get("2") == ["+12015550123"]
    assert phones.get("1") == ([queued_phone] if queued_phone else None)
    quarantined = {e.key for e in env.wiring.sync_state.quarantined("fake")}
    assert quarantined == ({"fake:contact:3"} if queued_phone else {"fake:contact:1", "fake:contact:3"})
    assert outcome["pulled"] == outcome["queued"] + outcome["quarantined"]
