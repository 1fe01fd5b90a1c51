"""revR27: ``repair`` and ``review`` build profiles under the ``segments`` of the document ``--config``
names, as they read its ``identity`` section.

fix21m reads the ``vip`` thresholds where ``IngestSettings`` is made (core.segment_rules
``configured_rules``: ``PROFILESYNC_CONFIG``, else ./profilesync.yaml), so a command given
``--config other.yaml`` read that document's identity section (profilesync/review_cli.py
``identity_settings``) but the thresholds of another document, or the defaults: the profiles it
rebuilt were segmented otherwise than the deployment's.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from profilesync.review_cli import document_rules, identity_settings

DOCUMENT = "segments:\n  vip_lifetime_value:\n    JPY: 500\nidentity:\n  mode: {mode}\n"


def test_the_settings_of_a_named_document_carry_its_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a document elsewhere than the working directory, with a yen threshold of 500
    named = tmp_path / "other.yaml"
    named.write_text(DOCUMENT.format(mode="probabilistic"), encoding="utf-8")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv("PROFILESYNC_CONFIG", raising=False)
    # WHEN a command is given it (--config) THEN its settings hold that threshold (before: 150000)
    settings = identity_settings(named, None)
    assert settings is not None
    assert settings.rules.vip_threshold("JPY") == Decimal(500)
    # AND in exact identity too (repair's settings then: core rules of that document)
    named.write_text(DOCUMENT.format(mode="exact"), encoding="utf-8")
    assert document_rules(named).vip_threshold("JPY") == Decimal(500)
    assert document_rules(None).vip_threshold("JPY") == Decimal(150000)  # (no document found)
