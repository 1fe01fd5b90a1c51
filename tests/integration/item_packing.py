"""``items_as_text``: the PROFILE item never packed (core.storage.profile_packing), for the tests that
make a customer outgrow 400 KB with identifiers of one repeated letter (which pack to a few bytes
each): they test what happens past the item's limit, not how many records reach it.

Use: ``pytestmark = pytest.mark.usefixtures("items_as_text")`` and import the fixture."""

from __future__ import annotations

import pytest

from core.storage import profile_packing


@pytest.fixture
def items_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", 2**62)
