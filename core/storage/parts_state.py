"""A ``CustomerState`` whose profile is parsed from the stored JSON when it is first read: what the
SQLite store's ``get_customers`` and the stores' ``get_customer_head`` (core.ports
``ReadsCustomerParts``) hand back.

Ingest plans from the snapshots and builds a new profile from them: it never reads the stored one,
and validating it (about 1 KB of JSON with times and amounts, 36 µs) was a third of reading a
customer back, once per customer a batch attaches to. core.ingest_grow keeps the profiles it wrote
by customer, version and content hash, and takes the kept one instead of parsing a growing
customer's profile again (about 12 µs an order of the customer, each batch). Export, the profile API
and the tests read ``profile`` as before and get the same model."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.ports import CustomerState
from core.schema import Profile

#: The slot a ``CustomerState`` keeps its profile in (``slots=True``), under the property below.
_PROFILE_SLOT: Any = CustomerState.__dict__["profile"]


class LazyProfileState(CustomerState):
    """``profile`` validated from ``document`` on first access; equal to a ``CustomerState`` of equal
    fields."""

    __slots__ = ("_document",)

    @classmethod
    def read(cls, document: str | None, **fields: Any) -> LazyProfileState:
        state = cls(profile=None, **fields)
        object.__setattr__(state, "_document", document)
        return state

    @property  # the dataclass field, read through this property
    def profile(self) -> Profile | None:
        document = getattr(self, "_document", None)
        if document is not None:
            _PROFILE_SLOT.__set__(self, Profile.model_validate_json(document))
            object.__setattr__(self, "_document", None)
        profile: Profile | None = _PROFILE_SLOT.__get__(self)
        return profile

    @profile.setter
    def profile(self, value: Profile | None) -> None:
        # Called once, by the dataclass's __init__ (frozen: object.__setattr__ comes here).
        _PROFILE_SLOT.__set__(self, value)

    @property
    def has_profile(self) -> bool:
        """Whether there is a profile, without parsing it."""
        return getattr(self, "_document", None) is not None or _PROFILE_SLOT.__get__(self) is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CustomerState):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in dataclasses.fields(CustomerState))

    __hash__ = None  # type: ignore[assignment]  # as the dataclass's: it holds a dict


__all__ = ["LazyProfileState"]
