"""The suite's Hypothesis profiles (tests/hypothesis_profiles.py): ``ci`` by default, ``deep`` on demand."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from hypothesis import settings

from tests import hypothesis_profiles


def _fresh(monkeypatch: pytest.MonkeyPatch, value: str | None) -> ModuleType:
    """A copy of the module as a run with ``HYPOTHESIS_PROFILE=value`` imports it (the suite's own copy,
    and the profile it loaded, are left alone)."""
    if value is None:
        monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    else:
        monkeypatch.setenv("HYPOTHESIS_PROFILE", value)
    spec = importlib.util.spec_from_file_location("fresh_profiles", hypothesis_profiles.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("value", [None, "", "ci"])
def test_the_default_profile_is_ci_with_the_smaller_counts(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    module = _fresh(monkeypatch, value)
    assert module.PROFILE == "ci"
    assert module.examples(ci=12, deep=40) == 12


def test_the_deep_profile_restores_the_full_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _fresh(monkeypatch, "deep")
    assert module.examples(ci=12, deep=40) == 40


def test_an_unknown_profile_is_refused_naming_the_two(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"'ci'.*'deep'"):
        _fresh(monkeypatch, "quick")


@pytest.mark.parametrize(("ci", "deep"), [(0, 10), (20, 10), (-1, 5)])
def test_a_ci_count_must_be_positive_and_at_most_the_deep_one(ci: int, deep: int) -> None:
    with pytest.raises(ValueError, match="0 < ci <= deep"):
        hypothesis_profiles.examples(ci=ci, deep=deep)


def test_ci_is_deterministic_and_deep_keeps_hypothesis_s_randomness_and_database() -> None:
    ci, deep = settings.get_profile("ci"), settings.get_profile("deep")
    assert (ci.derandomize, ci.database) == (True, None)
    assert deep.derandomize is False
    assert deep.database is not None


def test_the_suite_runs_under_the_profile_the_environment_names() -> None:
    # tests/conftest.py loaded it before any test module built its @settings
    assert settings.default.derandomize is (hypothesis_profiles.PROFILE == "ci")
