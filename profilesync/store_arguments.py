"""The options that say which store a command reads and writes: ``--endpoint-url``, ``--table``,
``--state-dir``. One definition, so every command that takes them spells and defaults them alike."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_store_arguments(parser: argparse.ArgumentParser, default_table: str) -> None:
    """Add ``--endpoint-url`` (default: the embedded store), ``--table`` and ``--state-dir``."""
    parser.add_argument(
        "--endpoint-url", default=None, help="a DynamoDB endpoint; default: the embedded store"
    )
    parser.add_argument("--table", default=default_table, help=f"table name (default {default_table})")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".profilesync"),
        help="where the embedded store (TABLE.sqlite3) is kept (default .profilesync/)",
    )


__all__ = ["add_store_arguments"]
