"""priv24: the privacy function names every spelling her address may be stored under
(core.privacy_request.stored_spellings): her record stored before the upgrade that folds the address,
under the key of then, and her record pulled after it, under the folded key, are both erased."""

from __future__ import annotations

from core.pipeline import IngestSettings, ingest
from functions import privacy
from tests.integration.functions.conftest import Env, FakeContext
from tests.integration.test_priv24_old_spellings_cli import KEYS, SELECTOR, _hers


def test_the_privacy_function_erases_her_records_under_both_spellings(env: Env) -> None:
    ingest(_hers(), env.wiring.profiles, IngestSettings(sleep=lambda _: None))
    answer = privacy.handler({"action": "erase", "email": SELECTOR}, FakeContext())
    assert answer["outcome"] == "erased", answer
    assert env.wiring.profiles.get_owners(KEYS) == {}
