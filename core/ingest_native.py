"""The compiled common path of core.ingest_fresh, chosen where the optional extension is installed.

``profilesync_native`` (native/, Rust through PyO3; ``make native`` builds and installs it) writes
part of a new customer's rows: its customer id (``customer_id_for``), per record the SOURCE
row and the ``source_arrived`` event with its BLAKE2b id (``_source_event_rows``), the identifier
loop (the blocklist's answers, the guardrail hits, the limited keys' holders, the keys and mailbox
markers: ``_identifier_loop``) and the IDENT and HOLDER rows (``_ident_holder_rows``), and the
profile (core.ingest_profile's ``new_profile``); ``fresh_rows`` does all of it, and the PROFILE
item's ``attrs``, in one call a batch (native/src/batch.rs: every row of ``_rows`` for each group,
its records read once; tests/unit/test_native30g_batch_parity.py). It returns the
Python path's values byte for byte or raises; any error (a text that is not UTF-8, a memo that is
not text) runs the Python path for that group instead, so nothing depends on the extension: the
Lambda functions, ``sam build`` and the wheel never import it, and without it every path runs as
before. ``PROFILESYNC_NATIVE=off`` in the environment leaves it unused where it is installed (how
the parity tests compare the two paths in one environment).

tests/unit/test_rust27_native_parity.py holds the compiled output to the Python path's on
hypothesis records of every shape the canonical schema allows, as
tests/unit/test_native28r_rows_parity.py does the identifier loop's; tests/e2e/test_rust27_native_resolve.py
runs ``profilesync resolve`` both ways and compares the output's bytes and the store's rows.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from datetime import UTC, timezone
from decimal import Decimal
from enum import Enum
from types import ModuleType
from typing import Final, Protocol

from pydantic_core import to_json

from core.computed_traits import compute_traits
from core.content_hash import record_hash
from core.grow_mark import add_only_mark, rules_fingerprint
from core.identity import GuardrailHit, IdentityPolicy, customer_id_for
from core.ingest_profile import new_profile
from core.ingest_runs import written_item
from core.mailbox import marker_keys
from core.merge import MergeRules
from core.minor_units import MINOR_UNITS
from core.record_json import record_json
from core.schema import ComputedTraits, Identifier, SourceRecord
from core.storage.sqlite_new_items import EventRow, IdentRow, MarkerRow, NewItems, SourceRow

__all__ = [
    "ROWS",
    "UNAVAILABLE",
    "Declined",
    "FreshRows",
    "FreshRowsFound",
    "IdentHolderRows",
    "IdentifierLoop",
    "NativeRows",
    "SourceEventRows",
]

#: A group's SOURCE rows, its ``source_arrived`` events, its records by key, and the characters
#: they count against the item and transaction limits (core.ingest_fresh's ``_rows``).
SourceEventRows = tuple[list[SourceRow], list[EventRow], dict[str, SourceRecord], int]
#: What a group's identifier loop finds (core.ingest_fresh's ``_identifier_loop``): its guardrail
#: hits, the keys its customer takes (sorted), their mailbox markers, the longest record key and
#: the longest IDENT key (code points).
IdentifierLoop = tuple[list[GuardrailHit], list[str], list[str], int, int]
#: A group's IDENT and HOLDER rows and the characters they count (``_ident_holder_rows``).
IdentHolderRows = tuple[list[IdentRow], list[MarkerRow], int]


#: A new customer's survivor, items and guardrail hits (core.ingest_fresh's ``_rows``).
FreshRowsFound = tuple[str, NewItems, list[GuardrailHit]]


class Declined(Enum):
    """The compiled path could not write it byte for byte: the Python path runs instead."""

    DECLINED = "declined"


class ArrivalTexts(Protocol):
    """What every ``source_arrived`` event of one call shares (core.ingest_fresh's ``_Arrival``)."""

    time: str
    actor: str
    sort_prefix: str
    id_time: str

    def event_chars(self, customer_json: str) -> int:
        """The characters an event of this customer counts against the limits, but its reason's
        and record key's JSON."""
        ...


class FreshRows(Protocol):
    """One compiled call a batch (native/src/batch.rs): core.ingest_fresh's ``_rows`` of each group."""

    def groups(self, groups: list[list[SourceRecord]]) -> list[FreshRowsFound | Declined | None]:
        """Per group, in order: its survivor, items and hits; None when the general planner must
        decide; ``DECLINED`` when the Python path must write it. Each group is sorted by key."""
        ...


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

    def identifier_loop(
        self,
        group: list[SourceRecord],
        blocked: dict[str, bool],
        is_blocked: Callable[[Identifier], bool],
        limits: Mapping[str, int],
        past_limit: Callable[[list[SourceRecord], str, Mapping[str, int]], bool],
    ) -> IdentifierLoop | Declined | None:
        """core.ingest_fresh's ``_identifier_loop`` of the group (None: the guardrails would refuse
        a key), or ``DECLINED`` when the extension cannot write it byte for byte. ``blocked`` may
        hold answers it added before it declined: the Python path's own, which it reads again."""
        try:
            found: IdentifierLoop | None = self._module.identifier_loop(
                group, blocked, is_blocked, limits, past_limit, marker_keys, GuardrailHit
            )
        except Exception:
            return Declined.DECLINED
        return found

    def new_profile(
        self, survivor: str, group: list[SourceRecord], rules: MergeRules
    ) -> tuple[str, str] | None:
        """core.ingest_profile's ``new_profile`` of the group (its PROFILE item's JSON and hash),
        or None when the extension cannot write it byte for byte (the caller then runs the Python
        path): a record read before its stamp, a time without a zone, a trait several records give
        under a rule other than ``most_recent``."""
        _, recent, default_recent, computed, thresholds = _remembered(rules)
        try:
            built: tuple[str, str] = self._module.new_profile(
                survivor, group, recent, default_recent, UTC, timezone, _NO_ORDERS_JSON, computed, thresholds
            )
        except Exception:
            return None
        return built

    def fresh_rows(
        self,
        blocked: dict[str, bool],
        policy: IdentityPolicy,
        rules: MergeRules,
        arrival: ArrivalTexts,
        sizes: tuple[int, int, int, int, int],
        limit: int,
        scratch: bool,
        python: tuple[
            Callable[[list[SourceRecord], str, Mapping[str, int]], bool], Callable[[list[str]], str]
        ],
    ) -> FreshRows | None:
        """The compiled rows of a batch's new customers (every row of core.ingest_fresh's ``_rows``
        in one call a batch), or None where the extension has none (an older build) or cannot
        take these settings (the caller then runs ``_rows`` per group). ``python`` is
        core.ingest_fresh's ``_past_limit`` and ``_owned_json``; ``sizes`` its limits (the item's,
        its overhead, the keys', the packing threshold)."""
        past_limit, owned_json = python
        _, recent, default_recent, computed, thresholds = _remembered(rules)
        try:
            built: FreshRows = self._module.FreshRows(
                blocked=blocked,
                is_blocked=policy.is_blocked,
                limits=dict(policy.max_records_per_identifier),
                past_limit=past_limit,
                marker_keys=marker_keys,
                hit=GuardrailHit,
                record_hash=record_hash,
                record_json=record_json,
                written_item=written_item,
                new_profile=lambda survivor, group: new_profile(survivor, group, rules),
                owned_json=owned_json,
                add_only_mark=lambda group: add_only_mark(rules, group),
                fingerprint=rules_fingerprint(rules),
                minor_units=dict(MINOR_UNITS),
                at_json=arrival.time,
                actor_json=arrival.actor,
                sort_prefix=arrival.sort_prefix,
                id_time=arrival.id_time,
                event_base=arrival.event_chars(""),
                scratch=scratch,
                limit=limit,
                recent=recent,
                default_recent=default_recent,
                utc=UTC,
                fixed=timezone,
                no_orders=_NO_ORDERS_JSON,
                computed=computed,
                thresholds=thresholds,
                sizes=sizes,
                declined=Declined.DECLINED,
            )
        except Exception:
            return None
        return built

    def batch_groups(
        self, batch: FreshRows, groups: list[list[SourceRecord]]
    ) -> list[FreshRowsFound | Declined | None] | None:
        """``batch.groups(groups)``, or None should the call itself fail (each group's own failure
        is its ``DECLINED``): the caller then runs the Python path for every group."""
        try:
            return batch.groups(groups)
        except Exception:
            return None

    def ident_holder_rows(
        self,
        desired: list[str],
        markers: list[str],
        by_key: dict[str, SourceRecord],
        survivor: str,
        scratch: bool,
    ) -> IdentHolderRows | None:
        """core.ingest_fresh's ``_ident_holder_rows``, or None when the extension cannot write them
        byte for byte (the caller then runs the Python path)."""
        try:
            built: IdentHolderRows = self._module.ident_holder_rows(
                desired, markers, by_key, survivor, scratch, record_hash, written_item
            )
        except Exception:
            return None
        return built


#: ``ComputedTraits()`` as pydantic writes it: the computed traits of a customer without orders.
_NO_ORDERS_JSON: Final = to_json(ComputedTraits()).decode()
#: What the compiled profile reads of a rules object (``_remembered``), the object kept with it.
_Remembered = tuple[MergeRules, dict[str, bool], bool, Callable[[list[SourceRecord]], str], dict[str, str]]
#: Per rules object (kept alive here, so its id is not reused): what ``_remembered`` gives.
_RULES_SEEN: dict[int, _Remembered] = {}


def _remembered(rules: MergeRules) -> _Remembered:
    """What the compiled profile reads of ``rules``: which traits pick by ``most_recent`` (the
    named ones, then the default's answer), ``compute_traits(records, rules)`` as pydantic writes
    it (the Python path's sums in ``Decimal``), called back for a group with orders the compiled
    sums do not take, and the ``vip`` thresholds by currency as text."""
    seen = _RULES_SEEN.get(id(rules))
    if seen is None:
        if len(_RULES_SEEN) > 64:  # a few rules objects live in a run; tests make more
            _RULES_SEEN.clear()
        recent = {name: rule.strategy == "most_recent" for name, rule in rules.per_trait.items()}

        def computed(records: list[SourceRecord]) -> str:
            return to_json(compute_traits(records, rules)).decode()

        thresholds: Mapping[str, Decimal] = rules.vip_lifetime_value  # type: ignore[assignment]  # made one
        vip = {currency: str(amount) for currency, amount in thresholds.items()}
        default_recent = rules.default.strategy == "most_recent"
        seen = _RULES_SEEN[id(rules)] = (rules, recent, default_recent, computed, vip)
    return seen


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
