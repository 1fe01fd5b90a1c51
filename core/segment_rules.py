"""The configuration document's ``segments`` section, and the survivorship rules it makes.

::

    segments:
      vip_lifetime_value:      # per ISO 4217 currency, in major units, over the defaults
        JPY: 200000
        KWD: 300
        "*": 1000              # any currency without its own (default: none, never vip)

Amounts of two currencies are never compared, so each currency has its own threshold; the defaults
(``core.merge.VIP_LIFETIME_VALUE``, about 1,000 US dollars each) stay for every currency the section
does not name. ``IngestSettings`` (core.ingest_settings) takes its rules from ``configured_rules``:
the document the CLI and the functions read (``PROFILESYNC_CONFIG``, else ``profilesync.yaml`` in the
working directory), so every path that builds a profile (merge, resolve, sync, repair, erasure,
retirement) builds it under the same thresholds, and core.grow_mark's fingerprint of them.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.config_path import find_config
from core.merge import DEFAULT_RULES, VIP_LIFETIME_VALUE, MergeRules

__all__ = ["SegmentsSection", "configured_rules"]

CurrencyKey = Annotated[str, StringConstraints(pattern=r"^([A-Z]{3}|\*)$")]
"""An ISO 4217 code (upper case, as orders carry it), or ``*`` (``core.merge.ANY_CURRENCY``) for
every currency without its own."""


MAX_THRESHOLD = Decimal(10**15)
"""The largest threshold a document may set: past any real customer's lifetime value in any currency
(and within the decimal context ``core.grow_mark``'s fingerprint computes in)."""
Threshold = Annotated[Decimal, Field(gt=0, le=MAX_THRESHOLD, decimal_places=6, allow_inf_nan=False)]
"""A threshold in major units: above 0, at most 10**15, to the millionth at finest (so that no two
thresholds a document can spell share one fingerprint)."""


class SegmentsSection(BaseModel):
    """How the computed segment is decided (docs/configuration.md, ``segments``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vip_lifetime_value: dict[CurrencyKey, Threshold] = Field(default_factory=dict)
    """Per currency, the lifetime value from which a customer is ``vip``, over the defaults."""

    @field_validator("vip_lifetime_value", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        # YAML reads 1000.50 as a float: its shortest text is what was written, a Decimal of it is not
        if isinstance(value, dict):
            return {k: str(v) if isinstance(v, float) else v for k, v in value.items()}
        return value

    def rules(self) -> MergeRules:
        """The survivorship rules with these thresholds (the default rules when none is set)."""
        if not self.vip_lifetime_value:
            return DEFAULT_RULES
        return MergeRules(vip_lifetime_value={**VIP_LIFETIME_VALUE, **self.vip_lifetime_value})


#: The rules of the document last read, by its path, modification time and size.
_READ: dict[tuple[str, int, int], MergeRules] = {}
_LOCK = threading.Lock()


def configured_rules() -> MergeRules:
    """The rules of the configuration document's ``segments`` section (``DEFAULT_RULES`` without a
    document or the section); read once per version of the document. A document that names no
    ``segments`` is not parsed at all (the merge function's first request stays as fast: it never
    loads the YAML parser otherwise). ConfigurationError for a malformed one."""
    found = find_config()
    if found is None:
        return DEFAULT_RULES
    try:
        stat = found.stat()
    except OSError:
        return DEFAULT_RULES  # no document there: what the CLI and the functions then read too
    key = (str(found), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        known = _READ.get(key)
    if known is not None:
        return known
    rules = DEFAULT_RULES
    if _names_segments(found):
        from core.config import load_config  # only then: the document's models cost ~50 ms to import

        rules = load_config(found).segments.rules()
    with _LOCK:
        _READ.clear()
        _READ[key] = rules
    return rules


def _names_segments(path: Path) -> bool:
    try:
        return b"segments" in path.read_bytes()
    except OSError:
        return False
