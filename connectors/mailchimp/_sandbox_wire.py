"""What the Mailchimp sandbox's modules share: the ``fields=`` and ``exclude_fields=`` selection of an
answer (dot paths), and the text of a 400 with field errors.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

INVALID: Final = (
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
)

FieldTree = dict[str, "FieldTree | None"]


def _field_tree(paths: list[list[str]]) -> FieldTree:
    """``fields=`` paths as a tree: a key maps to None (keep it whole) or to the sub-keys to keep."""
    tree: FieldTree = {}
    for path in paths:
        node = tree
        for depth, key in enumerate(path):
            if depth == len(path) - 1 or node.get(key, {}) is None:
                node[key] = None
                break
            child = node.setdefault(key, {})
            if child is None:
                break
            node = child
    return tree


def _select(value: Any, tree: FieldTree) -> Any:
    """Keep only the ``fields=`` of a response (lists are traversed element-wise)."""
    if isinstance(value, list):
        return [_select(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: value[k] if sub is None else _select(value[k], sub) for k, sub in tree.items() if k in value}


def _exclude(value: Any, paths: list[list[str]]) -> Any:
    if isinstance(value, list):
        return [_exclude(v, paths) for v in value]
    if not isinstance(value, dict):
        return value
    drop = {p[0] for p in paths if len(p) == 1}
    deeper: dict[str, list[list[str]]] = {}
    for path in paths:
        if len(path) > 1:
            deeper.setdefault(path[0], []).append(path[1:])
    return {k: (_exclude(v, deeper[k]) if k in deeper else v) for k, v in value.items() if k not in drop}


def _paths(text: str | None) -> list[list[str]]:
    return [p.strip().split(".") for p in (text or "").split(",") if p.strip()]


def shape(body: dict[str, Any], params: httpx.QueryParams) -> dict[str, Any]:
    fields, excluded = params.get("fields"), params.get("exclude_fields")
    if fields:
        body = _select(body, _field_tree(_paths(fields)))
    if excluded:
        body = _exclude(body, _paths(excluded))
    return body
