"""Packaging hook: the wheel carries template.yaml and the vendor specs, which the CLI reads.

Everything else is declared in pyproject.toml. template.yaml and specs/ stay at the repository root
(SAM and the tests read them there); this copies them into ``profilesync/_data/`` of the wheel, where
``profilesync.resources`` finds them once installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithData(build_py):
    """build_py, plus template.yaml and specs/*.gz under profilesync/_data/."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "profilesync" / "_data"
        (target / "specs").mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "template.yaml", target / "template.yaml")
        for spec in sorted((ROOT / "specs").glob("*.gz")):
            shutil.copy2(spec, target / "specs" / spec.name)


setup(cmdclass={"build_py": BuildPyWithData})
