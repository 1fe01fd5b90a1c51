"""The Lambda layer's lock file agrees with pyproject.toml, and the build ships what Lambda runs only."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_lambda  # noqa: E402

#: The Lambda runtime brings its own boto3; phonenumberslite stands in for phonenumbers in the layer.
RUNTIME_PROVIDED = {"boto3"}
LAYER_NAME = {"phonenumbers": "phonenumberslite"}


def locked() -> dict[str, str]:
    text = (ROOT / "deploy" / "lambda-requirements.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^ \\\n]+)", text, flags=re.MULTILINE)
    return {canonicalize_name(name): version for name, version in pins}


def test_every_runtime_dependency_is_locked_for_the_layer_within_pyproject_s_range() -> None:
    # GIVEN the project's dependencies and the layer's lock file
    dependencies = [
        Requirement(d)
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    ]
    pins = locked()
    for requirement in dependencies:
        name = canonicalize_name(requirement.name)
        if name in RUNTIME_PROVIDED:
            assert name not in pins, f"{name} comes with the Lambda runtime: keep it out of the layer"
            continue
        layer_name = canonicalize_name(LAYER_NAME.get(name, name))
        # THEN each is locked (under the layer's name) at a version pyproject.toml allows
        assert layer_name in pins, f"{requirement} is not in deploy/lambda-requirements.txt: re-lock"
        assert requirement.specifier.contains(pins[layer_name], prereleases=True), (
            f"the layer locks {layer_name}=={pins[layer_name]}, outside pyproject's {requirement}"
        )
    # AND every pin carries a hash (pip installs the layer with --require-hashes)
    text = (ROOT / "deploy" / "lambda-requirements.txt").read_text()
    assert text.count("--hash=sha256:") == len(pins)


def test_the_code_bundle_holds_the_handlers_and_no_cli_sandbox_or_test(tmp_path: Path) -> None:
    files = {p.relative_to(tmp_path).as_posix() for p in build_lambda.build_code(tmp_path)}
    assert {
        "functions/pull.py",
        "functions/dispatch.py",
        "profilesync/registry.py",
        "profilesync.yaml",
    } <= files
    assert not {
        f for f in files if f.startswith(("profilesync/cli", "profilesync/demo", "profilesync/local"))
    }
    assert not {f for f in files if "/_sandbox" in f or f.startswith(("core/testing/", "tests/", "specs/"))}
    # AND the bundle is compiled for the Lambda runtime when this is its Python
    if sys.version_info[:2] == build_lambda.LAMBDA_PYTHON:
        assert any(f.endswith(".cpython-311.pyc") for f in files)
