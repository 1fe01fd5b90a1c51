"""Her export (``profilesync privacy export``) through Stripe's sandbox and its official SDK: a Stripe
customer whose email field names another person with her (``anne.other@example.com, <hers>``), and
that person's name, is quarantined and found by her address; her export lists it without Anne's
address and name, in its raw text and in its reason (which quotes the refused value). Red before
fixD22 (reviewer revC22's scratch test): both were in her export.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_attack12_erased_spellings import HER, Erased
from tests.e2e.test_attack12_erased_spellings import erased as erased  # the fixture, re-exported

pytestmark = pytest.mark.slow

OTHER = {"email": f"anne.other@example.com, {HER}", "name": "Anne Other"}


@pytest.mark.parametrize("erased", [[OTHER]], indirect=True)
def test_her_export_names_nobody_else(erased: Erased) -> None:
    quarantined = erased.exported["quarantined"]
    text = json.dumps(quarantined, ensure_ascii=False)
    assert [t for t in ("anne.other@example.com", "Anne Other") if t in text] == []
    assert any(HER in json.loads(q["raw"]).get("yours", ()) for q in quarantined)
