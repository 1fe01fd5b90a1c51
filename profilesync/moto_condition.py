"""moto's condition and filter expressions parsed once per text and names; answers unchanged.

``ConditionExpressionParser.parse`` runs for every ConditionExpression and FilterExpression moto
reads, twice for a transaction's conditional write (tests/integration/test_link_graph_promises.py
[dynamodb], profiled: 15,764 parses, 10.6 of 96 s). Its stages (paths, functions, comparators,
booleans, the parentheses check and the names and values it found) depend on the text and the
names map alone: the values map is only looked up, each ``:value`` becoming a leaf whose content
no stage reads until ``_make_op_condition`` turns the tree into moto's ``Op``.

So the tree before ``_make_op_condition`` is kept per (text, names), built by moto's own ``parse``
with a values map that hands out a marker and records the names asked. A call whose values map
holds every name asked gets the kept tree with its values put in the leaves and moto's own
``_make_op_condition`` (a new ``Op`` per call, as before). Anything else (a text or names map that
fails to parse, a value missing, a values map that is not a dict) runs moto's own ``parse``, so
every error is moto's own, raised by moto's own code.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

#: Distinct (text, names) pairs kept; profilesync sends a few dozen.
KEPT = 512

_MARK = object()
_STAGES = ("parse", "_make_op_condition", "_lookup_expression_attribute_value", "expr_attr_values_found")


class _Asked(dict):  # type: ignore[type-arg]
    """A values map that gives a marker for every name and records the names asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def __getitem__(self, name: str) -> Any:
        self.asked.append(name)
        return _MARK


class _Kept(NamedTuple):
    tree: Any
    asked: tuple[str, ...]
    names_found: tuple[str, ...]
    values_found: tuple[str, ...]


def patch_condition_parser() -> None:
    """Parse each (condition text, names) once (see the module docstring)."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    probe = ConditionExpressionParser("a = :a", None, {":a": {"S": "x"}})
    missing = [name for name in _STAGES if not hasattr(probe, name)]
    if missing:
        raise RuntimeError(f"moto's ConditionExpressionParser has changed (no {missing}): update {__name__}")
    parse = ConditionExpressionParser.parse
    value_kind = ConditionExpressionParser.Kind.EXPRESSION_ATTRIBUTE_VALUE

    @lru_cache(maxsize=KEPT)
    def kept(text: str, names: tuple[tuple[str, str], ...] | None) -> _Kept | None:
        values = _Asked()
        parser = ConditionExpressionParser(text, None if names is None else dict(names), values)
        trees: list[Any] = []
        parser._make_op_condition = trees.append  # type: ignore[method-assign,assignment]
        try:
            parse(parser)
        except Exception:
            return None
        if len(trees) != 1:
            raise RuntimeError(f"moto's ConditionExpressionParser.parse has changed: update {__name__}")
        found = (tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found))
        return _Kept(trees[0], tuple(values.asked), *found)

    def fill(node: Any, values: dict[str, Any]) -> Any:
        if node.kind == value_kind:
            if node.value is not _MARK:
                raise RuntimeError(f"moto's condition tree has changed: update {__name__}")
            return node._replace(value=values[node.text])
        if not node.children:
            return node
        return node._replace(children=[fill(child, values) for child in node.children])

    def parse_once(self: Any) -> Any:
        text, names, values = (
            self.condition_expression,
            self.expression_attribute_names,
            self.expression_attribute_values,
        )
        frozen = _frozen(names)
        if not text or not isinstance(text, str) or frozen is False:
            return parse(self)
        found = kept(text, frozen)
        if found is None or (
            found.asked and not (isinstance(values, dict) and all(v in values for v in found.asked))
        ):
            return parse(self)
        self.expr_attr_names_found.extend(found.names_found)
        self.expr_attr_values_found.extend(found.values_found)
        return self._make_op_condition(fill(found.tree, values) if found.asked else found.tree)

    setattr(parse_once, "__wrapped__", parse)  # noqa: B010
    ConditionExpressionParser.parse = parse_once  # type: ignore[method-assign]


def _frozen(names: Any) -> tuple[tuple[str, str], ...] | bool | None:
    """The names map as a key, None for no map, False when it cannot be one (moto parses it)."""
    if names is None:
        return None
    if type(names) is not dict or not all(type(k) is str and type(v) is str for k, v in names.items()):
        return False
    return tuple(sorted(names.items()))


__all__ = ["KEPT", "patch_condition_parser"]
