"""moto's update-expression validation made cheaper; answers unchanged.

moto's ``UpdateExpressionValidator`` runs for every UpdateItem and transaction Update (twice when
the item is new): it ``deepcopy``s the expression's tree and walks the copy with ten processors
(tests/integration/test_link_graph_promises.py[dynamodb], profiled: 3,455 validations, 7.2 s in
the copy and 18 s in the walks, of 96 s).

* **The copy is a plain structural copy.** A parsed tree holds nodes (``type``, ``children``,
  ``parent``) whose children are nodes, strings, numbers or booleans; each node is copied with its
  children and its parent set to the copy of its parent, which is what ``deepcopy`` gives for such
  a tree (a tree whose parents are not its ancestors is given to ``deepcopy``). A node with any
  other attribute, or a leaf of another type, fails loudly (moto changed its nodes).
* **The three checks of the expression alone run once.** ``ActionCountValidator`` (one SET, ADD,
  REMOVE clause each), ``OverlappingPathsValidator`` (no path twice) and
  ``UpdateHashRangeKeyValidator`` (no key attribute) read the tree, the names map and the table's
  key attributes, change nothing and return the node they were given. Once they passed for a kept
  tree (profilesync.moto_parse keeps one per text), names map and key attributes, later
  validations of that tree start at the fourth processor. A check that fails is never remembered:
  it runs, and raises, every time, as before.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any
from weakref import WeakKeyDictionary

_NODE_ATTRIBUTES = frozenset({"type", "children", "parent"})


class _NotATreeError(Exception):
    """A node's parent is not one of its ancestors (then ``deepcopy`` copies it)."""


_CHECKS = ("ActionCountValidator", "OverlappingPathsValidator", "UpdateHashRangeKeyValidator")


def patch_update_validator() -> None:
    """Copy the tree cheaply and run the expression-only checks once (see the module docstring)."""
    import moto.dynamodb.parsing.ast_nodes as ast_nodes
    import moto.dynamodb.parsing.validators as validators

    Node: Any = getattr(ast_nodes, "Node")  # noqa: B009, N806
    Validator: Any = getattr(validators, "Validator")  # noqa: B009, N806
    UpdateExpressionValidator: Any = getattr(validators, "UpdateExpressionValidator")  # noqa: B009, N806
    checks = tuple(getattr(validators, name) for name in _CHECKS)
    original_init, original_validate = Validator.__init__, UpdateExpressionValidator.validate
    own = [UpdateExpressionValidator.__dict__.get(name) for name in ("validate", "__init__")]
    if any(function is not None and not hasattr(function, "__wrapped__") for function in own):
        raise RuntimeError(f"moto's UpdateExpressionValidator has changed: update {__name__}")
    passed: WeakKeyDictionary[Any, set[Any]] = WeakKeyDictionary()
    is_node: dict[type, bool] = {}

    def copy_tree(node: Any, copies: dict[int, Any]) -> Any:
        kind: Any = type(node)
        known = is_node.get(kind)
        if known is None:
            known = is_node[kind] = isinstance(node, Node)
        if not known:
            if node is None or kind in (str, int, float, bool):
                return node
            raise RuntimeError(f"moto's update tree holds a {kind.__name__}: update {__name__}")
        copied = copies.get(id(node))
        if copied is not None:
            return copied
        attributes = node.__dict__
        if attributes.keys() != _NODE_ATTRIBUTES:
            raise RuntimeError(f"moto's {kind.__name__} has {sorted(attributes)}: update {__name__}")
        parent = attributes["parent"]
        if parent is not None and id(parent) not in copies:
            raise _NotATreeError
        copied = copies[id(node)] = kind.__new__(kind)
        copied.__dict__.update(attributes)
        copied.parent = None if parent is None else copies[id(parent)]
        children = attributes["children"]
        if children is not None:
            copied.children = [copy_tree(child, copies) for child in children]
        return copied

    def copy(expression: Any) -> Any:
        """``deepcopy(expression)`` for a tree whose parents are its ancestors; deepcopy otherwise."""
        try:
            return copy_tree(expression, {})
        except _NotATreeError:
            return deepcopy(expression)

    def init(
        self: Any,
        expression: Any,
        expression_attribute_names: Any,
        expression_attribute_values: Any,
        item: Any,
        table: Any,
    ) -> None:
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        self.node_to_validate = copy(expression)
        self.__dict__["_profilesync_source"] = expression

    def validate(self: Any) -> Any:
        if type(self) is not UpdateExpressionValidator:
            return original_validate(self)
        processors = self.processors
        if tuple(type(processor) for processor in processors[:3]) != checks:
            raise RuntimeError(f"moto's update validation has changed: update {__name__}")
        source = self.__dict__["_profilesync_source"]
        key = (_frozen(self.expression_attribute_names), tuple(self.table.table_key_attrs))
        done = passed.get(source)
        node = self.node_to_validate
        if key[0] is False or done is None or key not in done:
            for processor in processors[:3]:
                node = processor.traverse(node)
            if key[0] is not False:
                passed.setdefault(source, set()).add(key)
        for processor in processors[3:]:
            node = processor.traverse(node)
        return node

    for function, original in ((init, original_init), (validate, original_validate)):
        setattr(function, "__wrapped__", original)  # noqa: B010
    Validator.__init__ = init
    UpdateExpressionValidator.validate = validate


def _frozen(names: Any) -> tuple[tuple[Any, Any], ...] | bool | None:
    """The names map as a key, None for no map, False when it cannot be one (checked every time)."""
    if names is None:
        return None
    try:
        frozen = tuple(sorted(names.items()))
        hash(frozen)
    except (AttributeError, TypeError):
        return False
    return frozen


__all__ = ["patch_update_validator"]
