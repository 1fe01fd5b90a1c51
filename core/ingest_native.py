"""The compiled common path of core.ingest_fresh, chosen where the optional extension is installed.

``profilesync_native`` (native/, Rust through PyO3; ``make native`` builds and installs it) writes
part of a new customer's rows: its customer id (``customer_id_for``) and, per record, the SOURCE
row and the ``source_arrived`` event with its BLAKE2b id (``_source_event_rows``). It returns the
Python path's values byte for byte or raises; any error (a text that is not UTF-8, a memo that is
not text) runs the Python path for that group instead, so nothing depends on the extension: the
Lambda functions, ``sam build`` and the wheel never import it, and without it every path runs as
before. ``PROFILESYNC_NATIVE=off`` in the environment leaves it unused where it is installed (how
the parity tests compare the two paths in one environment).

tests/unit/test_rust27_native_parity.py holds the compiled output to the Python path's on
hypothesis records of every shape the canonical schema allows; tests/e2e/test_rust27_native_resolve.py
runs ``profilesync resolve`` both ways and compares the output's bytes and the store's rows.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Final, Protocol

from core.content_hash import record_hash
from core.identity import customer_id_for
from core.record_json import record_json
from core.schema import SourceRecord
from core.storage.sqlite_new_items import EventRow, SourceRow

__all__ = ["ROWS", "UNAVAILABLE", "NativeRows", "SourceEventRows"]

#: A group's SOURCE rows, its ``source_arrived`` events, its records by key, and the characters
#: they count against the item and transaction limits (core.ingest_fresh's ``_rows``).
SourceEventRows = tuple[list[SourceRow], list[EventRow], dict[str, SourceRecord], int]


class ArrivalTexts(Protocol):
    """What every ``source_arrived`` event of one call shares (core.ingest_fresh's ``_Arrival``)."""

    time: str
    actor: str
    sort_prefix: str
    id_time: str


class NativeRows:
    """The extension's functions, each falling back to the Python path on any error."""

    __slots__ = ("_module",)

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def customer_id(self, source_key: str) -> str:
        """``core.identity.customer_id_for(source_key)``."""
        try:
            found: str = self._module.customer_id(source_key)
        except Exception:
            return customer_id_for(source_key)
        return found

    def source_event_rows(
        self,
        group: list[SourceRecord],
        survivor: str,
        cid_json: str,
        arrival: ArrivalTexts,
        fixed: int,
        scratch: bool,
    ) -> SourceEventRows | None:
        """core.ingest_fresh's ``_source_event_rows`` of the group, or None when the extension
        cannot write it byte for byte (the caller then runs the Python path)."""
        try:
            built: SourceEventRows = self._module.source_event_rows(
                group,
                record_hash,
                record_json,
                survivor,
                cid_json,
                arrival.time,
                arrival.actor,
                arrival.sort_prefix,
                arrival.id_time,
                fixed,
                scratch,
            )
        except Exception:
            return None
        return built


def _load() -> tuple[NativeRows | None, str]:
    if os.environ.get("PROFILESYNC_NATIVE", "").strip().lower() in {"0", "off", "false", "no"}:
        return None, "PROFILESYNC_NATIVE is off"
    try:  # optional: the extension of native/, typed by its use here (no stub to keep)
        module = importlib.import_module("profilesync_native")
    except ImportError as error:
        return None, f"profilesync_native is not installed ({error}); `make native` builds it"
    return NativeRows(module), ""


_LOADED = _load()
#: The compiled path, or None (the Python path runs): read at each call, so a test may swap it.
ROWS: NativeRows | None = _LOADED[0]
#: Why ``ROWS`` is None ("" when it is not).
UNAVAILABLE: Final[str] = _LOADED[1]
