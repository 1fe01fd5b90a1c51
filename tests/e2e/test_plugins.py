"""Out-of-tree plugins: the example package is installed, discovered through its entry point, listed
with where it came from, and passes the shared contract; a broken plugin is reported, not fatal.

"Installed" here means what pip leaves in site-packages: the package and a ``.dist-info`` folder whose
``entry_points.txt`` is written from the example's own ``pyproject.toml``, in a directory put on
``sys.path``. ``importlib.metadata`` then finds it exactly as it finds a pip-installed distribution,
without building a wheel (the test venv has no ``wheel``, and no network).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import ConnectorConfigError
from profilesync import registry
from profilesync.cli import main
from profilesync.testing.contract import ConnectorContract

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "acme_plugin"


def install(site: Path, name: str, version: str, entry_points: dict[str, str], packages: list[Path]) -> None:
    """Lay out a distribution as pip installs it: its packages and its ``.dist-info``."""
    site.mkdir(parents=True, exist_ok=True)
    for package in packages:
        shutil.copytree(package, site / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"{key} = {value}" for key, value in entry_points.items()]
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n" + "\n".join(lines) + "\n")


def _forget(prefixes: tuple[str, ...]) -> None:
    for module in [m for m in sys.modules if m.startswith(prefixes)]:
        del sys.modules[module]


@pytest.fixture(scope="module")
def acme_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    site = tmp_path_factory.mktemp("site-packages")
    install(
        site,
        project["name"],
        project["version"],
        project["entry-points"][registry.ENTRY_POINT_GROUP],
        [EXAMPLE / "acme_plugin"],
    )
    sys.path.insert(0, str(site))
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        _forget(("acme_plugin",))


def test_the_installed_example_is_discovered_with_its_distribution(acme_site: Path) -> None:
    # WHEN the registry discovers connectors
    found = {f.name: f for f in registry.discover()}
    # THEN acme is there, loaded from the entry point of the distribution that registered it
    acme = found["acme"]
    assert acme.error is None
    assert acme.plugin is not None
    assert acme.origin == "distribution profilesync-acme 0.1.0"
    assert acme.target == "acme_plugin:PLUGIN"
    assert found["hubspot"].origin == "builtin"
    assert registry.get("acme") is acme.plugin


def test_connectors_list_shows_the_plugin_and_its_origin_in_a_fresh_process(acme_site: Path) -> None:
    # WHEN a user runs the command with the plugin installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(acme_site), str(REPO_ROOT)])}
    out = subprocess.run(
        [sys.executable, "-m", "profilesync.cli", "connectors", "list", "--verbose"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    ).stdout
    # THEN acme is listed with its capabilities, where it came from and its credential
    line = next(line for line in out.splitlines() if line.startswith("acme "))
    assert line.split()[:2] == ["acme", "crm"]
    assert "distribution profilesync-acme 0.1.0" in line
    assert "PROFILESYNC_ACME_TOKEN" in out


class TestAcmeContract(ConnectorContract):
    """The shared contract, run against the plugin as the registry loads it."""

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _installed(cls, acme_site: Path) -> None:
        cls.plugin = registry.get("acme")


def test_a_broken_plugin_is_reported_and_the_others_still_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one distribution whose entry points import a missing module, name a function instead of
    # a ConnectorPlugin, and raise while importing
    bad = tmp_path / "bad_plugin_mod"
    bad.mkdir()
    (bad / "__init__.py").write_text("raise RuntimeError('the vendor SDK is not configured')\n")
    install(
        tmp_path / "site",
        "profilesync-broken",
        "1.2.3",
        {
            "gone": "no_such_module_for_profilesync:PLUGIN",
            "notaplugin": "json:dumps",
            "explodes": "bad_plugin_mod:PLUGIN",
        },
        [bad],
    )
    sys.path.insert(0, str(tmp_path / "site"))
    try:
        found = {f.name: f for f in registry.discover()}
        assert main(["connectors", "list"]) == 0
        with pytest.raises(
            ConnectorConfigError, match=r"'gone' from distribution profilesync-broken .* broken"
        ):
            registry.get("gone")
    finally:
        sys.path.remove(str(tmp_path / "site"))
        _forget(("bad_plugin_mod",))
    # THEN each broken one carries its error and origin, and every builtin still loads
    assert "ModuleNotFoundError" in (found["gone"].error or "")
    assert "is a function, not a ConnectorPlugin" in (found["notaplugin"].error or "")
    assert "the vendor SDK is not configured" in (found["explodes"].error or "")
    assert {f.origin for n, f in found.items() if f.error} == {"distribution profilesync-broken 1.2.3"}
    assert all(found[name].plugin is not None for name in registry.BUILTIN)
    # AND the listing shows them with their errors, after a line per working connector
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert {line.split()[0] for line in lines} >= {*registry.BUILTIN, "gone", "notaplugin", "explodes"}
    assert any(line.startswith("gone ") and "BROKEN" in line and "no_such_module" in line for line in lines)
    assert "3 connector(s) could not be loaded" in out.err
