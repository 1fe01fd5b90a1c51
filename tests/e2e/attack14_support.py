"""What tests/e2e/test_attack14_*.py share: HubSpot's sandbox served for the CLI, and a file of a
stranger's line and her lines resolved with ``profilesync resolve`` beside a store she was erased
from (its output read back from the test's working directory)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from profilesync.cli import main
from tests.e2e.test_attack12_erased_spellings import served_hubspot

#: When every line of a resolved file was updated.
UPDATED_AT = "2026-01-05T10:00:00Z"


@contextlib.contextmanager
def hubspot_served(base: Path, monkeypatch: pytest.MonkeyPatch, people: int) -> Iterator[tuple[str, Any]]:
    """HubSpot's sandbox (seed 14) served on a local port, the CLI's secrets file and token set for
    it and ``base`` the working directory: its URL and HubSpot's official SDK client of it (attack12's
    ``served_hubspot``, with attack14's sandbox)."""
    with served_hubspot(base, monkeypatch, people=people, seed=14, token="pat-attack14") as found:
        yield found


def her_lines(
    stranger: str, emails: Iterable[str], name: tuple[str, str], source: str = "crm"
) -> list[dict[str, str]]:
    """A stranger's line (id ``s0``, source ``crm``) and a line of hers a spelling (ids ``her0``...):
    her name and that spelling as the address."""
    lines = [{"source": "crm", "id": "s0", "updated_at": UPDATED_AT, "email": stranger}]
    lines += [
        {"source": source, "id": f"her{n}", "updated_at": UPDATED_AT, "email": email}
        | {"first_name": name[0], "last_name": name[1]}
        for n, email in enumerate(emails)
    ]
    return lines


def resolve_beside(
    state: Path, lines: list[dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``lines`` written to a file and resolved beside the store ``state`` into ``out.jsonl`` (and
    ``out.quarantine.jsonl``) of the working directory; it succeeds."""
    source = tmp_path / "lines.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    capsys.readouterr()
    assert main(["resolve", str(source), "--out", "out.jsonl", "--state-dir", str(state), "-q"]) == 0
    capsys.readouterr()


def written_anywhere() -> bytes:
    """What ``resolve_beside`` wrote: the profiles and the quarantine file (if any)."""
    quarantine = Path("out.quarantine.jsonl")
    return Path("out.jsonl").read_bytes() + (quarantine.read_bytes() if quarantine.exists() else b"")


def profile_lines() -> list[str]:
    """The profiles ``resolve_beside`` wrote, one JSON line each."""
    return Path("out.jsonl").read_text(encoding="utf-8").splitlines()
