"""Flat records of people typed the way tools type them, and a way to resolve them on the embedded store.

Shared by the attacks on probabilistic identity (tests/integration/test_identity_attack_*.py): each
record is a flat JSON object as ``profilesync resolve`` reads it, normalised by the product's own
path (``connectors.jsonl.draft_from_flat`` -> ``profilesync.resolve.resolve``) into the SQLite store
the CLI uses, with the identity settings the configuration document's ``identity: {mode:
probabilistic}`` gives (the shipped model, its thresholds).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from connectors.jsonl import draft_from_flat
from core.config import IdentitySection
from core.link_scope import LinkageSettings
from core.link_settings import linkage_settings
from core.linkage import LinkageModel
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.ports import ProfileStore
from core.schema import Quarantined
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from profilesync.resolve import ResolveReport, resolve

Flat = dict[str, Any]

#: One woman's identity as her tools hold it (no email: each tool has its own).
HANA: dict[str, str] = {
    "first_name": "Hana",
    "last_name": "Sato",
    "date_of_birth": "1992-11-30",
    "address": "8 Mill Lane",
    "postcode": "M4 5JD",
}


def product_linkage() -> LinkageSettings:
    """What ``identity: {mode: probabilistic}`` gives ingest, with a decision cache of its own (a
    fresh process: nothing decided by an earlier run of the test can hide an order effect)."""
    shipped = linkage_settings(IdentitySection(mode="probabilistic"))
    assert shipped is not None
    return LinkageSettings(model=shipped.model, model_name=shipped.model_name)


@cache
def retrained_model() -> LinkageModel:
    """The shipped model retrained on another sample: a smaller prior (every score lower), the same
    thresholds."""
    model = product_linkage().model
    assert model is not None
    prior = model.probability_two_random_records_match / 3
    return type(model).model_validate({**model.model_dump(), "probability_two_random_records_match": prior})


def ingest_settings() -> IngestSettings:
    return IngestSettings(sleep=lambda _: None, linkage=product_linkage())


def flat(source: str, record_id: str, **fields: Any) -> Flat:
    """One line of a ``profilesync resolve`` input; a ``day`` field offsets ``updated_at`` from
    2026-01-01 (28 days a month)."""
    months, day = divmod(int(fields.pop("day", 0)), 28)
    return {
        "source": source,
        "id": record_id,
        "updated_at": f"2026-{1 + months % 12:02d}-{1 + day:02d}T00:00:00Z",
        **{k: v for k, v in fields.items() if v is not None},
    }


def sqlite_store(path: str = ":memory:") -> SQLiteProfileStore:
    return SQLiteProfileStore(SQLiteDatabase(path))


def resolve_lines(
    lines: Iterable[Mapping[str, Any]],
    store: ProfileStore,
    *,
    batch_size: int = 100,
    settings: IngestSettings | None = None,
) -> tuple[ResolveReport, list[Quarantined]]:
    """Resolve the lines into ``store`` as ``profilesync resolve`` does (normalise, quarantine, ingest
    in batches)."""
    quarantined: list[Quarantined] = []
    report = resolve(
        (draft_from_flat(dict(line)) for line in lines),
        store,
        settings=settings or ingest_settings(),
        batch_size=batch_size,
        quarantine=quarantined.append,
    )
    return report, quarantined


def groups(store: ProfileStore) -> set[frozenset[str]]:
    """The customers as sets of ``source:id`` (the object type left out: every record is a contact)."""
    return {frozenset(f"{s.source}:{s.id}" for s in profile.sources) for profile in store.iter_profiles()}


def typo(text: str, rng: random.Random) -> str:
    """One FEBRL-style keying slip: a letter substituted, dropped, doubled or two neighbours swapped."""
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + rng.choice("aeiourstln") + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def swap_day_month(dob: str) -> str:
    year, month, day = dob.split("-")
    return f"{year}-{day}-{month}" if int(day) <= 12 else dob


def corrupt(person: Mapping[str, Any], rng: random.Random, slips: int) -> Flat:
    """The person as another tool holds them: ``slips`` FEBRL-style corruptions (a typo in a name,
    a nickname, day and month swapped, a missing field, a ``St``/``Street`` variant, a case change)."""
    out = dict(person)
    for _ in range(slips):
        kind = rng.randrange(6)
        if kind == 0 and "last_name" in out:
            out["last_name"] = typo(out["last_name"], rng)
        elif kind == 1 and out.get("nickname"):
            out["first_name"] = out["nickname"]
        elif kind == 2 and "date_of_birth" in out:
            out["date_of_birth"] = swap_day_month(out["date_of_birth"])
        elif kind == 3:
            droppable = [k for k in ("date_of_birth", "postcode", "city") if k in out]
            if droppable:
                del out[rng.choice(droppable)]
        elif kind == 4 and "address" in out:
            out["address"] = str(out["address"]).replace("Street", "St").replace("Road", "Rd")
        else:
            out["first_name"] = str(out["first_name"]).upper()
    out.pop("nickname", None)
    return out


def keys(records: Sequence[Mapping[str, Any]]) -> set[str]:
    return {f"{r['source']}:{r['id']}" for r in records}


def latest(versions: Iterable[Flat]) -> list[Flat]:
    """The newest version of each record (by ``updated_at``) that normalisation keeps, as one batch of
    the sources today. A version quarantined (too little identity) never replaces what the store
    holds, whichever order it comes in, so the newest kept version is what stays."""
    newest: dict[tuple[str, str], Flat] = {}
    for v in versions:
        if isinstance(normalise_record(draft_from_flat(dict(v))), Quarantined):
            continue
        k = (v["source"], v["id"])
        if k not in newest or v["updated_at"] >= newest[k]["updated_at"]:
            newest[k] = v
    return list(newest.values())


__all__ = [
    "HANA",
    "Flat",
    "corrupt",
    "flat",
    "groups",
    "ingest_settings",
    "keys",
    "latest",
    "product_linkage",
    "resolve_lines",
    "sqlite_store",
    "swap_day_month",
    "typo",
]
