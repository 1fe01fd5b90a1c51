"""The configuration document's ``identity`` section as ingest settings (core.link_settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import parse_config
from core.errors import ConfigurationError, InputError
from core.link_settings import linkage_settings
from core.linkage import default_model


def test_exact_is_the_default_and_gives_no_linkage() -> None:
    # GIVEN a document without an identity section WHEN read THEN ingest keeps exact identifiers
    config = parse_config("version: 1\n", "doc")
    assert config.identity.mode == "exact"
    assert linkage_settings(config.identity) is None


def test_probabilistic_loads_the_shipped_model_once_and_applies_thresholds() -> None:
    # GIVEN probabilistic identity with thresholds of its own
    config = parse_config("identity: {mode: probabilistic, link: 0.995, review: 0.5}\n", "doc")
    # WHEN turned into settings twice
    first = linkage_settings(config.identity)
    second = linkage_settings(config.identity)
    # THEN the shipped model with those thresholds, built once (the cold start's)
    assert first is not None
    assert first is second
    assert first.model is not None
    assert (first.model.thresholds.link, first.model.thresholds.review) == (0.995, 0.5)
    assert first.model.comparisons == default_model().comparisons


def test_a_model_file_is_read_relative_to_the_document(tmp_path: Path) -> None:
    # GIVEN a model file next to the document, with a link threshold of its own
    model = default_model()
    trained = type(model).model_validate({**model.model_dump(), "thresholds": {"link": 0.97, "review": 0.6}})
    (tmp_path / "model.json").write_text(trained.model_dump_json(), encoding="utf-8")
    config = parse_config("identity: {mode: probabilistic, model: model.json}\n", "doc")
    # WHEN read with the document's folder as base THEN that model is used, named by its file
    settings = linkage_settings(config.identity, tmp_path)
    assert settings is not None
    assert settings.model is not None
    assert settings.model.thresholds.link == 0.97
    assert settings.model_name == "model.json"


def test_a_missing_model_file_says_which_and_what_to_do(tmp_path: Path) -> None:
    config = parse_config("identity: {mode: probabilistic, model: nowhere.json}\n", "doc")
    with pytest.raises(InputError, match=r"nowhere\.json"):
        linkage_settings(config.identity, tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "identity: {mode: fuzzy}\n",
        "identity: {mode: probabilistic, link: 1.5}\n",
        "identity: {mode: probabilistic, threshold: 0.9}\n",
    ],
)
def test_a_misspelt_identity_section_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="identity"):
        parse_config(text, "doc")


def test_the_merge_function_reads_the_identity_section_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a document asking for probabilistic identity, named by the function's environment
    from functions import _wiring
    from functions.merge import identity_linkage

    document = tmp_path / "profilesync.yaml"
    document.write_text("identity: {mode: probabilistic, link: 0.995}\n", encoding="utf-8")
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("PROFILESYNC_CONFIG", str(document))
    monkeypatch.delenv("CONNECTORS", raising=False)
    _wiring.use(None)
    try:
        # WHEN IDENTITY_MODE is not set THEN exact identifiers (the document is not read)
        monkeypatch.delenv("IDENTITY_MODE", raising=False)
        assert identity_linkage() is None
        # WHEN it says probabilistic THEN the document's section with its threshold
        monkeypatch.setenv("IDENTITY_MODE", "probabilistic")
        settings = identity_linkage()
        assert settings is not None
        assert settings.model is not None
        assert settings.model.thresholds.link == 0.995
    finally:
        _wiring.use(None)
