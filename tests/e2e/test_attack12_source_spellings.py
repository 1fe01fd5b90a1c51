"""attack12: ``profilesync privacy erase --source`` naming her record as a person types it from the
vendor's screen: the tool's name as the vendor writes it (``HubSpot:contact:124``), the object type
capitalised (``hubspot:Contact:124``).

docs/privacy.md: a record id is ``<tool>:<object type>:<id>``, "as the export lists a record, or as
the tool shows it". Connector names are lower case and every connector's object types are stored in
lower case; a request spelling either otherwise matched no customer and answered ``"ok": true``,
``not_found``, every tool ``not_present`` (exit status 0): her profile stayed, HubSpot kept her, and
the only suppression entry was of a key no record carries. The ids themselves are case-sensitive
(Salesforce's), so only the tool and the type could be folded.

Fixed (pfix22): core.privacy_request.as_stored takes such a spelling with the tool and object type
lower-cased when that names a record we hold or a tool being asked.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from hubspot.crm.contacts import SimplePublicObjectInputForCreate

from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import HER, NAME, served_hubspot, synced

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("spelling", ["HubSpot:contact:{}", "hubspot:Contact:{}"])
def test_erase_by_a_record_id_spelt_as_the_vendor_shows_it_erases_her(
    spelling: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_hubspot(tmp_path, monkeypatch) as (url, sdk):
        # GIVEN her HubSpot contact synced into the local store
        properties = {"email": HER, "firstname": NAME[0], "lastname": NAME[1]}
        contact = sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))
        state = tmp_path / "state"
        synced("hubspot", url, state)
        # WHEN she is erased by her record id, spelt as the vendor writes it
        erase = ["privacy", "erase", "--source", spelling.format(contact.id), "--requested-by", "dpo"]
        with contextlib.redirect_stdout(io.StringIO()) as out:
            main([*erase, "--state-dir", str(state), "--connector", f"hubspot={url}"])
        printed = out.getvalue()
        answer = json.loads(printed[printed.index("{") :])
        # THEN she is found and erased, here and at HubSpot
        assert (answer["outcome"], answer["tools"]) == ("erased", {"hubspot": "erased"}), answer
        assert HER.encode() not in (state / "profilesync-dev-profiles.sqlite3").read_bytes()
